#ifndef OIDC_CLIENT_HPP
#define OIDC_CLIENT_HPP

#include <chrono>
#include <algorithm>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "oidc/authorization_request.hpp"
#include "oidc/authorization_response.hpp"
#include "oidc/cancel.hpp"
#include "oidc/client_auth.hpp"
#include "oidc/clock.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/request.hpp"
#include "oidc/discovery.hpp"
#include "oidc/end_session.hpp"
#include "oidc/endpoints.hpp"
#include "oidc/error.hpp"
#include "oidc/grants/authorization_code.hpp"
#include "oidc/grants/client_credentials.hpp"
#include "oidc/grants/device_code.hpp"
#include "oidc/grants/password.hpp"
#include "oidc/grants/refresh_token.hpp"
#include "oidc/http.hpp"
#include "oidc/id_token.hpp"
#include "oidc/implicit.hpp"
#include "oidc/introspection.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwks.hpp"
#include "oidc/jwt_access_token.hpp"
#include "oidc/request_options.hpp"
#include "oidc/revocation.hpp"
#include "oidc/secret.hpp"
#include "oidc/token.hpp"
#include "oidc/token_response.hpp"
#include "oidc/token_source.hpp"
#include "oidc/transport.hpp"
#include "oidc/userinfo.hpp"

namespace oidc {

/// Everything a Client needs to know. The endpoint members come from Endpoints so that discovery
/// can fill them: `ClientConfig cfg; cfg.token_endpoint = "...";`. Only client_id is required.
struct ClientConfig : Endpoints {
  std::string client_id;  ///< RFC 6749 §2.2; must not be empty (`errc::config`).
  Secret client_secret;   ///< Empty: public client. Never printed, never in an error message.
  /// How the client authenticates at the token endpoint (RFC 6749 §2.3); default HTTP Basic.
  ClientAuthMethod auth_method = ClientAuthMethod::client_secret_basic;
  Headers extra_headers;  ///< Sent with every request (seed 003 requires Host); checked when the Client is made.
  /// Allows http:// to non-loopback hosts; for tests behind TLS terminators only. Loopback http is
  /// always allowed.
  bool allow_insecure_http = false;
  std::chrono::milliseconds timeout{30000};  ///< Per request; default 30 s.
  std::shared_ptr<Transport> transport;      ///< Null: default_transport() (libcurl).
  std::shared_ptr<const Clock> clock;        ///< Null: system_clock().
  TokenResponseRules token_response_rules;   ///< Accepted token types (default: Bearer).
  /// A refresh answered with one of these statuses and no OAuth error body counts as refused, like
  /// invalid_grant: real providers (glewlwyd, some gateways) refuse with an empty 400/401/403.
  /// Renewal then re-runs the grant, or reports `errc::interaction_required` for interactive tokens.
  std::vector<int> refresh_refusal_statuses{400, 401, 403};

  /// \name OpenID Connect
  /// How ID tokens (and signed userinfo) are checked.
  ///@{

  /// exchange_code and implicit_token validate every ID token they receive (set false only to
  /// validate yourself).
  bool validate_id_tokens = true;
  JwksCacheOptions jwks_cache{};  ///< The rate limit and lifetimes of the jwks_uri's key set.
  /// Accepted JWS algorithms; empty: id_token_signing_alg_values_supported intersected with the
  /// asymmetric ones, or RS256 when the server declared none (OIDC Core §3.1.3.7 step 7).
  std::vector<JwsAlgorithm> id_token_algorithms;
  /// HS256/384/512 keyed with client_secret, only when listed in id_token_algorithms (or declared
  /// by the server); an HS* entry without this flag is `errc::config`.
  bool allow_symmetric_id_tokens = false;
  std::chrono::seconds clock_leeway{30};  ///< Tolerated clock difference for exp, iat, nbf, auth_time.
  std::shared_ptr<const KeySource> keys;  ///< Null: a JwksCache of jwks_uri, made when the Client is.
  ///@}

  /// \name JWT client authentication
  /// RFC 7523 §2.2, OIDC Core §9.
  ///@{
  std::optional<SigningKey> signing_key;  ///< For private_key_jwt, such as `SigningKey::from_pem(pem, "kid-1")`.
  /// The `aud` of client assertions; see AssertionAudience.
  AssertionAudience assertion_audience = AssertionAudience::token_endpoint;
  ///@}
};

/// What an ID token validation adds to the configuration's checks (Client::validate_id_token).
struct IdTokenOptions {
  std::string nonce;  ///< The one the authorization request sent; empty: not checked.
  std::optional<std::chrono::seconds> max_age;  ///< Requested: auth_time must be recent enough.
  const IdToken* previous = nullptr;  ///< OIDC Core §12.2: the ID token a refresh replaces; not owned.
};

/// The facade: one configured client of one authorization server. Cheap to copy (state is shared),
/// and every const member function may be called from many threads at once. Failures throw
/// oidc::Error.
class Client {
 public:
  /// Takes the configuration as it is (no network). A null transport or clock becomes the default;
  /// with jwks_uri and no keys, a JwksCache is made (it fetches on first use).
  /// \throws oidc::Error `errc::config` for an empty client_id, an HS* ID token algorithm without
  ///         allow_symmetric_id_tokens, or an auth_method lacking what it needs (private_key_jwt
  ///         without an asymmetric signing_key, client_secret_jwt without a secret);
  ///         `errc::invalid_request` for an extra header that would break a request.
  explicit Client(ClientConfig config) : state_(std::make_shared<State>(std::move(config))) {}

  /// Configured from the issuer URL alone (OpenID Connect Discovery 1.0, RFC 8414; see
  /// oidc::discover): the metadata is fetched over \p config's transport, timeout, extra headers
  /// and clock, and fills every endpoint, flag and capability list that \p config does not set
  /// itself (endpoints set by hand win). The default client_secret_basic gives way to what the
  /// server lists when it does not list it. ID tokens are then checked against \p issuer itself
  /// (also under an IssuerPolicy::templated, which only widens what the document may say).
  /// \throws oidc::Error `errc::config` when config.issuer is set to another issuer; what
  ///         oidc::discover() and the constructor throw.
  [[nodiscard]] static Client discover(std::string issuer, ClientConfig config, DiscoveryOptions options = {}) {
    if (!config.issuer.empty() && config.issuer != issuer)
      throw Error(errc::config, "discovery", "config.issuer is set and is not the issuer to discover");
    if (!options.transport) options.transport = config.transport;
    if (!options.clock) options.clock = config.clock;
    if (options.extra_headers.empty()) options.extra_headers = config.extra_headers;
    options.timeout = config.timeout;
    options.allow_insecure_http = options.allow_insecure_http || config.allow_insecure_http;
    const ProviderMetadata metadata = oidc::discover(issuer, options);
    const auto& methods = metadata.token_endpoint_auth_methods_supported;
    if (config.auth_method == ClientAuthMethod::client_secret_basic && !methods.empty() &&
        std::find(methods.begin(), methods.end(), "client_secret_basic") == methods.end())
      if (const auto m = choose_client_auth_method(methods, !config.client_secret.empty())) config.auth_method = *m;
    apply_metadata(metadata, config);
    config.issuer = std::move(issuer);
    return Client(std::move(config));
  }
  /// The same for the common case: a client id and secret (none: a public client), defaults otherwise.
  [[nodiscard]] static Client discover(std::string issuer, std::string client_id, Secret client_secret = {}) {
    ClientConfig config;
    config.client_id = std::move(client_id);
    config.client_secret = std::move(client_secret);
    return discover(std::move(issuer), std::move(config));
  }

  /// The configuration as the Client resolved it (transport and clock never null).
  [[nodiscard]] const ClientConfig& config() const noexcept { return state_->config; }
  /// The configured clock, or system_clock().
  [[nodiscard]] const Clock& clock() const noexcept { return *state_->config.clock; }

  /// \name Grants
  /// Each sends one token request (RFC 6749 §3.2) with client authentication and returns the
  /// parsed Token (see parse_token_response() for the rules and errors). \p cancel, when set,
  /// aborts the request in flight (`errc::cancelled`).
  ///@{

  /// Client credentials grant (RFC 6749 §4.4).
  [[nodiscard]] Token client_credentials(const grants::ClientCredentials& grant = {},
                                         const std::optional<CancelToken>& cancel = std::nullopt) const {
    return request_token(grant.form(), cancel);
  }

  /// Resource owner password credentials grant (RFC 6749 §4.3). The OAuth 2.0 Security BCP
  /// (RFC 9700 §2.4) says not to use it; it remains for servers that offer nothing else.
  [[nodiscard]] Token password(const grants::Password& grant,
                               const std::optional<CancelToken>& cancel = std::nullopt) const {
    return request_token(grant.form(), cancel);
  }
  /// The same from a username and password, with \p options' scope, extra parameters and cancel.
  [[nodiscard]] Token password(std::string username, Secret password, RequestOptions options = {}) const {
    return this->password(
        grants::Password{std::move(username), std::move(password), std::move(options.scope), std::move(options.extra)},
        options.cancel);
  }

  /// Refreshes \p token (RFC 6749 §6). A response without refresh_token keeps the old one (the
  /// server did not rotate), and one without id_token keeps the old id_token (OIDC Core §12.2 makes
  /// it optional; logout still needs it as id_token_hint). The new ID token is not validated here
  /// (a token source's validate does that).
  /// \throws oidc::Error `errc::interaction_required` when \p token has no refresh token or one
  ///         known to be expired (it is not sent); the server's refusal as `errc::oauth_error`
  ///         (e.g. invalid_grant).
  [[nodiscard]] Token refresh(const Token& token, RequestOptions options = {}) const {
    if (!token.has_refresh_token())
      throw Error(errc::interaction_required, "refresh", "the token has no refresh_token");
    if (!token.refresh_token_usable(clock().now()))
      throw Error(errc::interaction_required, "refresh", "the refresh_token has expired");
    Token fresh = request_token(
        grants::RefreshToken{token.refresh_token, std::move(options.scope), std::move(options.extra)}.form(),
        options.cancel);
    if (!fresh.has_refresh_token()) {
      fresh.refresh_token = token.refresh_token;
      fresh.refresh_expiry = token.refresh_expiry;
    }
    if (fresh.id_token.empty()) fresh.id_token = token.id_token;
    return fresh;
  }

  /// Starts a device login (RFC 8628 §3.1). Show the user verification_uri and user_code (or
  /// verification_uri_complete), then call poll_device_token().
  /// \throws oidc::Error `errc::config` without a device_authorization_endpoint; what
  ///         parse_device_authorization_response() throws.
  [[nodiscard]] DeviceAuthorization device_authorization(RequestOptions options = {}) const {
    const std::string operation = "device authorization request";
    Params form;
    detail::append_scope_and_extra(form, options.scope, options.extra);
    const auto now = clock().now();
    const auto response = post_to(config().device_authorization_endpoint, "device_authorization_endpoint",
                                  std::move(form), operation, options.cancel);
    return parse_device_authorization_response(response.response, now, operation, response.secret_views(),
                                               config().allow_insecure_http);
  }

  /// Polls the token endpoint until the user approves (RFC 8628 §3.4–3.5), waiting `interval`
  /// before every request on the configured Clock. authorization_pending keeps polling; slow_down
  /// adds 5 s to the interval for all later polls; a connection timeout doubles it (§3.5). Blocks
  /// the calling thread.
  /// \return the token once the user approved.
  /// \throws oidc::Error `errc::oauth_error` with oauth_code() "access_denied" or "expired_token"
  ///         when the server says so; `errc::deadline_exceeded` once the code's expires_in (or
  ///         options.deadline) has passed; `errc::cancelled` when options.cancel fires (at once,
  ///         even mid-sleep or mid-request); any other request failure.
  [[nodiscard]] Token poll_device_token(const DeviceAuthorization& authorization,
                                        const DevicePollOptions& options = {}) const {
    using std::chrono::seconds;
    const std::string operation = "device token polling";
    auto deadline = authorization.expires_at;
    if (options.deadline) deadline = std::min(deadline, *options.deadline);
    seconds interval = authorization.interval > seconds{0} ? authorization.interval : seconds{5};
    const grants::DeviceCode grant{authorization.device_code, options.extra};
    DevicePollProgress progress;
    for (;;) {
      const auto now = clock().now();
      if (now >= deadline) throw Error(errc::deadline_exceeded, operation, expired_reason(authorization, deadline));
      auto wait = std::min<Clock::duration>(interval, deadline - now);
      // The first poll must come before the code expires, however long the interval: a code living
      // no longer than its interval would otherwise never be polled at all. It comes 2 s (at most
      // half the remaining life) before the deadline: providers count whole seconds from a floored
      // issue time (node oidc-provider does), so their expiry can be up to 1 s before ours, and
      // the request still has to arrive.
      if (progress.polls == 0 && wait == deadline - now)
        wait -= std::min<Clock::duration>(seconds{2}, (deadline - now) / 2);
      if (!clock().sleep_for(wait, options.cancel)) throw Error(errc::cancelled, operation, "polling cancelled");
      if (clock().now() >= deadline)
        throw Error(errc::deadline_exceeded, operation, expired_reason(authorization, deadline));
      try {
        ++progress.polls;
        return request_token(grant.form(), options.cancel);
      } catch (const Error& e) {
        if (e.oauth_code() == "slow_down") {
          interval += seconds{5};
        } else if (e.code() == errc::timeout) {
          interval *= 2;
        } else if (e.oauth_code() != "authorization_pending") {
          throw;
        }
        progress.slow_down = e.oauth_code() == "slow_down";
      }
      progress.interval = interval;
      progress.remaining = std::chrono::duration_cast<seconds>(deadline - clock().now());
      if (options.on_pending) options.on_pending(progress);
    }
  }

  ///@}

  /// \name Authorization code flow
  ///@{

  /// The authorization request for the user's browser (RFC 6749 §4.1.1), with a fresh state, a
  /// nonce when the scope has openid, and PKCE S256 (RFC 7636) unless told otherwise. With a
  /// pushed_authorization_request_endpoint configured the parameters are POSTed there first
  /// (RFC 9126, with client authentication) and the URL carries only client_id and request_uri.
  /// Keep the returned request (it holds the state, nonce and PKCE verifier) for exchange_code().
  /// \throws oidc::Error `errc::config` for a missing endpoint or redirect_uri, a reserved or
  ///         repeated parameter in `extra`, or require_pushed_authorization_requests without a PAR
  ///         endpoint; a PAR request's failure.
  [[nodiscard]] AuthorizationRequest authorization_request(AuthorizationOptions options) const {
    const std::string operation = "authorization request";
    const auto& cfg = config();
    check_authorization_options(options, operation);

    AuthorizationRequest req;
    Pkce pkce = options.pkce ? std::move(*options.pkce) : make_pkce(options.pkce_method);
    auto params = authorization_parameters("code", options, req.state_, req.nonce_, &pkce);
    req.redirect_uri_ = std::move(options.redirect_uri);
    req.resource_ = std::move(options.resource);
    req.max_age_ = max_age_of(options.extra, operation);
    req.code_verifier_ = std::move(pkce.verifier);

    if (cfg.pushed_authorization_request_endpoint.empty()) {
      req.url_ = detail::authorization_url(cfg.authorization_endpoint, params, operation);
      return req;
    }
    // RFC 9126 §2.1: the same parameters, authenticated like a token request. client_id is added
    // with the client authentication, and in the body even with HTTP Basic (§2.1 requires it).
    params.erase(params.begin() + 1);
    const std::string par_operation = "pushed authorization request";
    const auto response = post_to(cfg.pushed_authorization_request_endpoint, "pushed_authorization_request_endpoint",
                                  std::move(params), par_operation, options.cancel, /*client_id_in_body=*/true);
    const auto request_uri =
        detail::parse_pushed_authorization_response(response.response, par_operation, response.secret_views());
    req.url_ = detail::authorization_url(cfg.authorization_endpoint,
                                         {{"client_id", cfg.client_id}, {"request_uri", request_uri}}, operation);
    req.pushed_ = true;
    return req;
  }

  /// Checks the redirect the browser delivered (RFC 6749 §4.1.2; a whole URL, or its query)
  /// against \p request (state, RFC 9207 iss against config().issuer, errors: see
  /// parse_authorization_response), then exchanges the code (§4.1.3) with the request's
  /// redirect_uri, PKCE verifier and resources. Unless validate_id_tokens is false, the ID token
  /// is validated, and required when a nonce was sent (openid scope).
  /// The request is consumed: pass it with std::move; a moved-from or spent one is `errc::config`.
  /// Feed the Token to token_source(Token) for refreshing.
  [[nodiscard]] Token exchange_code(AuthorizationRequest request, std::string_view callback,
                                    const std::optional<CancelToken>& cancel = std::nullopt) const {
    if (!request.usable())
      throw Error(errc::config, "authorization response", "this authorization request was already used");
    AuthorizationResponseChecks checks{request.state_, config().issuer,
                                       config().authorization_response_iss_parameter_supported};
    auto response = parse_authorization_response(callback, checks);
    request.state_.clear();
    Token token = request_token(grants::AuthorizationCode{std::move(response.code), std::move(request.redirect_uri_),
                                                          std::move(request.code_verifier_), std::move(request.resource_)}
                                    .form(),
                                cancel);
    check_received_id_token(token, {request.nonce_, request.max_age_, nullptr}, "authorization code");
    return token;
  }

  ///@}

  /// \name OpenID Connect validation
  ///@{

  /// Validates `token.id_token` (OIDC Core §3.1.3.7, §3.2.2.11, §12.2): the signature with the
  /// configured keys (config().keys, or the jwks_uri's, refetched once on an unknown kid,
  /// rate-limited), the algorithm against the allow-list (id_token_algorithms: discovery's
  /// advertised ones, asymmetric only, unless configured), iss equal to config().issuer, aud
  /// holding client_id (azp when several), exp/iat/nbf within clock_leeway, at_hash against
  /// token.access_token when present, and \p options (nonce, max_age, the previous ID token).
  /// \throws oidc::Error as oidc::validate_id_token() does, each failure with its own errc;
  ///         `errc::missing_claim` when the token has no id_token; `errc::config` without an
  ///         issuer or keys.
  [[nodiscard]] IdToken validate_id_token(const Token& token, const IdTokenOptions& options = {}) const {
    if (token.id_token.empty()) throw Error(errc::missing_claim, "ID token validation", "the token has no id_token");
    return validate_id_token_jwt(token.id_token.expose(), options, token.access_token.expose());
  }
  /// The same for a compact ID token on its own (no at_hash check: no access token is known).
  [[nodiscard]] IdToken validate_id_token(std::string_view jwt, const IdTokenOptions& options = {}) const {
    return validate_id_token_jwt(jwt, options, {});
  }

  /// A TokenSourceOptions::validate that validates every ID token a source receives: the first
  /// against the configuration, every later one also against the one before (OIDC Core §12.2:
  /// same iss, sub, aud, auth_time). A renewal whose ID token fails is a failed renewal. The
  /// function keeps a copy of this Client and is thread-safe.
  [[nodiscard]] std::function<void(const Token&, const Token*)> id_token_validator() const {
    struct Last {
      std::mutex mutex;
      std::optional<IdToken> id;
    };
    Client self = *this;
    auto last = std::make_shared<Last>();
    return [self, last](const Token& fresh, const Token*) {
      if (fresh.id_token.empty()) return;
      std::lock_guard<std::mutex> lock(last->mutex);
      const IdToken* previous = last->id ? &*last->id : nullptr;
      // A refresh that kept the old ID token (the response had none) has nothing new to check.
      if (previous && previous->raw() == fresh.id_token.expose()) return;
      auto id = self.validate_id_token(fresh, {{}, {}, previous});
      last->id = std::move(id);
    };
  }

  /// Validates a JWT access token (RFC 9068) as a resource server would, with this client's
  /// issuer, keys and clock: typ at+jwt, iss, aud holding `checks.audience`, exp/iat, the required
  /// scopes, the signature (asymmetric algorithms only; `checks.algorithms` as given, or the ID
  /// token allow-list's asymmetric part when left at its default). `checks.issuer` and
  /// `checks.now` are filled in when empty.
  /// \throws oidc::Error as oidc::validate_access_token() does; `errc::config` without an issuer
  ///         or keys.
  [[nodiscard]] JwtAccessToken validate_access_token(std::string_view jwt, AccessTokenChecks checks) const {
    const std::string operation = "JWT access token validation";
    if (checks.issuer.empty()) checks.issuer = config().issuer;
    if (checks.issuer.empty()) throw Error(errc::config, operation, "no issuer configured");
    if (checks.now == std::chrono::system_clock::time_point{}) checks.now = clock().now();
    if (checks.algorithms == AccessTokenChecks{}.algorithms) {
      checks.algorithms.clear();
      for (const auto a : state_->id_token_algorithms)
        if (!is_symmetric(a)) checks.algorithms.push_back(a);
      if (checks.algorithms.empty()) checks.algorithms = AccessTokenChecks{}.algorithms;
    }
    return oidc::validate_access_token(jwt, key_source(operation), checks);
  }


  ///@}

  /// \name Implicit grant (deprecated)
  ///@{

  /// Builds a response_type=token request (RFC 6749 §4.2.1: state, and a nonce with openid; never
  /// pushed).
  /// \deprecated The implicit grant puts the access token in the browser's URL, where history,
  /// logs and referrers leak it, with no way to bind it to the client; the OAuth 2.0 Security BCP
  /// (RFC 9700 §2.1.2) says not to use it. Use authorization_request() with PKCE.
  [[deprecated("the implicit grant leaks tokens (RFC 9700 §2.1.2); use authorization_request")]]
  [[nodiscard]] ImplicitRequest implicit_request(AuthorizationOptions options) const {
    const std::string operation = "implicit authorization request";
    check_authorization_options(options, operation);
    if (options.pkce) throw Error(errc::config, operation, "PKCE does not apply to the implicit grant");
    ImplicitRequest req;
    const auto params = authorization_parameters("token", options, req.state_, req.nonce_, nullptr);
    req.redirect_uri_ = std::move(options.redirect_uri);
    req.url_ = detail::authorization_url(config().authorization_endpoint, params, operation);
    return req;
  }

  /// Checks the redirect's fragment like exchange_code() checks a query (state, iss, errors),
  /// then reads the token from it through the same validation as a token response; a
  /// refresh_token there is refused (RFC 6749 §4.2.2 forbids it). The ID token is validated
  /// unless validate_id_tokens is false.
  /// \deprecated With implicit_request(); use exchange_code().
  [[deprecated("the implicit grant leaks tokens (RFC 9700 §2.1.2); use exchange_code")]]
  [[nodiscard]] Token implicit_token(ImplicitRequest request, std::string_view callback) const {
    const std::string operation = "implicit authorization response";
    if (request.state_.empty()) throw Error(errc::config, operation, "this authorization request was already used");
    if (callback.size() > detail::max_callback_bytes)
      throw Error(errc::parse, operation, "the redirect is longer than " + std::to_string(detail::max_callback_bytes) + " bytes");
    const auto now = clock().now();
    const auto params = detail::parse_callback_parameters(
        detail::callback_parameters(callback, ResponseLocation::fragment, operation), operation);
    detail::check_authorization_response(
        params, {request.state_, config().issuer, config().authorization_response_iss_parameter_supported}, operation);
    request.state_.clear();
    // The fragment's members as the JSON object a token endpoint would have sent, so that one parser
    // (and its validation) reads both. Values are strings; expires_in as a string is accepted.
    nlohmann::json members = nlohmann::json::object();
    for (const auto& [name, value] : params) {
      if (name == "refresh_token") throw Error(errc::parse, operation, "an implicit response must not carry a refresh_token");
      if (name != "state" && name != "iss") members[name] = value;
    }
    HttpResponse synthesized;
    synthesized.status = 200;
    synthesized.headers.set("Content-Type", "application/json");
    synthesized.body = members.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    Token token = parse_token_response(synthesized, now, operation, {}, config().token_response_rules);
    if (!token.id_token.empty() && config().validate_id_tokens) (void)validate_id_token(token, {request.nonce_, {}, nullptr});
    return token;
  }

  ///@}

  /// \name Token sources
  /// Which overload says how renewal works:
  ///
  /// - a grant the client can re-run on its own (client credentials, password, any extension grant
  ///   given as its form): renewal refreshes while the refresh token is usable and re-runs the
  ///   grant otherwise, or when the refresh is refused (invalid_grant, unauthorized_client,
  ///   unsupported_grant_type, invalid_scope, or a bare status of refresh_refusal_statuses), as
  ///   servers without refresh require (seed 003);
  /// - a Token from an interactive login (device flow, authorization code): renewal can only
  ///   refresh; when that is impossible (no refresh token, expired, or refused) callers get
  ///   `errc::interaction_required`: the user must log in again.
  ///
  /// The source starts from `options.initial` when set (say, a token restored from storage); the
  /// Token overload starts from its argument and therefore refuses an `options.initial` as well
  /// (`errc::config`) rather than silently dropping one of the two. Each source keeps a copy of
  /// this Client. With options.store, the store key is token_key() of the grant, completed by
  /// options.store_key; a store_key member that differs from the client's is `errc::config`.
  ///@{

  /// Renews by refresh, else by re-running the client credentials grant.
  [[nodiscard]] std::shared_ptr<CachingTokenSource> token_source(grants::ClientCredentials grant,
                                                                 TokenSourceOptions options = {}) const {
    RequestOptions refresh{grant.scope, grant.extra};
    return regrant_source([grant = std::move(grant)] { return grant.form(); }, std::move(refresh),
                          std::move(options));
  }
  /// Renews by refresh, else by re-running the password grant. Keeps the password in memory (as a
  /// Secret) for re-authentication, as the grant itself requires.
  [[nodiscard]] std::shared_ptr<CachingTokenSource> token_source(grants::Password grant,
                                                                 TokenSourceOptions options = {}) const {
    RequestOptions refresh{grant.scope, grant.extra};
    return regrant_source([grant = std::move(grant)] { return grant.form(); }, std::move(refresh),
                          std::move(options));
  }
  /// Renews by refresh, else by re-running an extension grant (RFC 6749 §4.5) such as
  /// `{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", jwt}}`: \p form
  /// is sent as request_token() sends it, every time the grant is re-run. Refreshes send no
  /// extension parameters (they belong to the grant, not to the refresh). A \p form without
  /// grant_type is `errc::config`.
  [[nodiscard]] std::shared_ptr<CachingTokenSource> token_source(Params form, TokenSourceOptions options = {}) const {
    if (detail::parameter_value(form, "grant_type").empty())
      throw Error(errc::config, "token source", "the extension grant's form has no grant_type");
    return regrant_source([form = std::move(form)] { return form; }, {}, std::move(options));
  }
  /// Refresh-only, starting from \p initial: the Token of an interactive login (device flow,
  /// authorization code).
  [[nodiscard]] std::shared_ptr<CachingTokenSource> token_source(Token initial,
                                                                 TokenSourceOptions options = {}) const {
    if (options.initial)
      throw Error(errc::config, "token source",
                  "both a token and options.initial given; pass the token to start from once");
    options.initial = std::move(initial);
    return refresh_source(std::move(options));
  }
  /// A refresh-only source like the Token overload's, starting from options.store's token (say, of
  /// an earlier login): without one, token() is `errc::interaction_required`. The store key has this
  /// client's issuer, token endpoint and client id; the login's grant, scope and subject (a profile
  /// or user name) are options.store_key's. Without options.store: `errc::config`.
  [[nodiscard]] std::shared_ptr<CachingTokenSource> stored_token_source(TokenSourceOptions options) const {
    if (!options.store) throw Error(errc::config, "token source", "stored_token_source needs options.store");
    return refresh_source(std::move(options));
  }

  /// The TokenStore key of the tokens \p form obtains: this client's issuer, token endpoint and
  /// client id, and the form's grant_type, scope, resource (or audience) and username.
  [[nodiscard]] TokenKey token_key(const Params& form = {}) const {
    return TokenKey::of_request(config().issuer, config().token_endpoint, config().client_id, form);
  }
  ///@}

 private:
  std::shared_ptr<CachingTokenSource> refresh_source(TokenSourceOptions options) const {
    keyed(options, token_key());
    Client self = *this;
    return std::make_shared<CachingTokenSource>(
        [self, validate = options.validate](const std::shared_ptr<const Token>& current, const CancelToken& cancel) {
          if (!current) throw Error(errc::interaction_required, "token renewal", "no token to refresh");
          try {
            Token fresh = self.refresh(*current, {{}, {}, cancel});
            if (validate) validate(fresh, current.get());
            return fresh;
          } catch (const Error& e) {
            if (!self.refresh_refused(e)) throw;
            const std::string why = e.oauth() ? e.oauth_code() : "HTTP " + std::to_string(e.http_status());
            throw Error(errc::interaction_required, "token renewal",
                        "the refresh token was refused (" + why + "); log in again");
          }
        },
        state_->config.clock, std::move(options));
  }

  // Completes options.store_key from `derived`: a member the caller left empty is derived's; one
  // that differs from a non-empty derived member is errc::config (a key must not claim another
  // client's or grant's tokens).
  static void keyed(TokenSourceOptions& options, const TokenKey& derived) {
    if (!options.store) return;
    TokenKey k = options.store_key.value_or(TokenKey{});
    // Scope and resource are sets, compared as TokenKey compares them.
    const auto fill = [](std::string& mine, const std::string& theirs, const char* name, bool as_set = false) {
      if (mine.empty()) {
        mine = theirs;
      } else if (!theirs.empty() && mine != theirs &&
                 !(as_set && TokenKey::canonical_scope(mine) == TokenKey::canonical_scope(theirs))) {
        throw Error(errc::config, "token source", std::string("store_key.") + name + " differs from the client's");
      }
    };
    fill(k.issuer, derived.issuer, "issuer");
    fill(k.token_endpoint, derived.token_endpoint, "token_endpoint");
    fill(k.client_id, derived.client_id, "client_id");
    fill(k.grant, derived.grant, "grant");
    fill(k.scope, derived.scope, "scope", true);
    fill(k.resource, derived.resource, "resource", true);
    fill(k.subject, derived.subject, "subject");
    options.store_key = std::move(k);
  }

 public:
  /// Any grant, including extension grants (RFC 6749 §4.5): sends \p form (which must name its
  /// grant_type) plus client authentication to the token endpoint and parses the token response
  /// (parse_token_response()). \p cancel, when set, aborts the request in flight
  /// (`errc::cancelled`). What was sent as a secret (the form's sensitive values, the client's
  /// credentials) is masked in any error's body excerpt.
  /// \throws oidc::Error `errc::config` without grant_type or token_endpoint; transport errors;
  ///         what parse_token_response() throws.
  [[nodiscard]] Token request_token(Params form, const std::optional<CancelToken>& cancel = std::nullopt) const {
    const std::string grant_type = detail::parameter_value(form, "grant_type");
    const std::string operation = "token request (grant_type=" + grant_type + ")";
    if (grant_type.empty()) throw Error(errc::config, operation, "the form has no grant_type");
    const auto now = clock().now();  // before sending: expires_in counts from the server's issue time
    const auto response = post_to(config().token_endpoint, "token_endpoint", std::move(form), operation, cancel);
    return parse_token_response(response.response, now, operation, response.secret_views(),
                                config().token_response_rules);
  }

  /// \name Userinfo, introspection, revocation, logout
  /// OIDC Core §5.3, RFC 7662, RFC 7009, RP-Initiated Logout 1.0. Introspection and revocation
  /// authenticate the client as configured. A missing endpoint is `errc::config`.
  ///@{

  /// The user's claims for \p token (OIDC Core §5.3; a Bearer access token; DPoP and MAC are
  /// `errc::config`). \p expected_subject (the ID token's sub) must equal the response's sub, else
  /// `errc::subject_mismatch` (§5.3.2); left empty, it is the sub of token.id_token when the token
  /// has one (that ID token was validated when it arrived: exchange_code, or a validating token
  /// source; here it is only read, as it may have expired since). A refusal with a
  /// WWW-Authenticate error (invalid_token, insufficient_scope) is `errc::oauth_error`. A signed
  /// response (application/jwt) is verified by \p userinfo_verifier when set, else with the
  /// Client's keys (config().keys or the jwks_uri's; verify_userinfo_jwt: algorithms from
  /// id_token_algorithms or the server's userinfo_signing_alg_values_supported, HS* with the client
  /// secret only when allow_symmetric_id_tokens; iss and aud when present); with neither it is
  /// `errc::config`.
  [[nodiscard]] UserInfo userinfo(const Token& token, std::string_view expected_subject = {},
                                  const std::optional<CancelToken>& cancel = std::nullopt,
                                  UserInfoJwtVerifier userinfo_verifier = {}) const {
    const auto& cfg = config();
    std::string id_token_subject;
    if (expected_subject.empty() && !token.id_token.empty()) {
      const auto claims = detail::unverified_jwt_payload(token.id_token.expose());
      const auto sub = claims ? claims->find("sub") : nlohmann::json::const_iterator{};
      if (!claims || sub == claims->end() || !sub->is_string() || sub->get_ref<const std::string&>().empty())
        throw Error(errc::missing_claim, "userinfo", "the token's id_token has no sub to compare the answer with");
      id_token_subject = sub->get<std::string>();
      expected_subject = id_token_subject;
    }
    const detail::RequestContext ctx{cfg.transport.get(), cfg.timeout, &cfg.extra_headers, cfg.allow_insecure_http,
                                     nullptr, cancel};
    if (!userinfo_verifier && state_->keys) {
      SignedUserInfoChecks checks{cfg.issuer, cfg.client_id,
                                  detail::userinfo_algorithms(cfg.id_token_algorithms,
                                                              cfg.userinfo_signing_alg_values_supported),
                                  std::nullopt};
      if (cfg.allow_symmetric_id_tokens) checks.client_secret = cfg.client_secret;
      userinfo_verifier = [keys = state_->keys, checks = std::move(checks)](std::string_view jwt, const std::string& op) {
        return verify_userinfo_jwt(jwt, *keys, checks, op);
      };
    }
    return detail::request_userinfo(ctx, cfg.userinfo_endpoint, token, expected_subject, userinfo_verifier);
  }

  /// What the server knows of \p token (RFC 7662). active=false is a result, not an error; see
  /// IntrospectionResponse::active for an active answer whose exp has passed.
  [[nodiscard]] IntrospectionResponse introspect(std::string_view token, std::string_view token_type_hint = {},
                                                 const std::optional<CancelToken>& cancel = std::nullopt) const {
    return detail::introspect(context(cancel), config().introspection_endpoint, token, token_type_hint, clock().now(),
                              config().clock_leeway);
  }
  /// The same for a Token member (`introspect(t.access_token)`); a template so that a string
  /// literal picks the string_view overload instead of being ambiguous with Secret's converting
  /// constructor.
  template <class S, std::enable_if_t<std::is_same_v<S, Secret>, int> = 0>
  [[nodiscard]] IntrospectionResponse introspect(const S& token, std::string_view token_type_hint = {},
                                                 const std::optional<CancelToken>& cancel = std::nullopt) const {
    return introspect(std::string_view(token.expose()), token_type_hint, cancel);
  }

  /// Revokes \p token (RFC 7009; "access_token" or "refresh_token" as \p token_type_hint when
  /// known). Returns on 200 whatever the body; 503 is `errc::http_status` (retry later), error
  /// bodies `errc::oauth_error`.
  void revoke(std::string_view token, std::string_view token_type_hint = {},
              const std::optional<CancelToken>& cancel = std::nullopt) const {
    detail::revoke(context(cancel), config().revocation_endpoint, token, token_type_hint);
  }
  /// The same for a Token member (`revoke(t.refresh_token, "refresh_token")`); a template for the
  /// reason given at introspect().
  template <class S, std::enable_if_t<std::is_same_v<S, Secret>, int> = 0>
  void revoke(const S& token, std::string_view token_type_hint = {},
              const std::optional<CancelToken>& cancel = std::nullopt) const {
    revoke(std::string_view(token.expose()), token_type_hint, cancel);
  }

  /// The URL of end_session_endpoint for the user's browser (RP-Initiated Logout 1.0 §2).
  [[nodiscard]] std::string end_session_url(const EndSessionRequest& request) const {
    return detail::end_session_url(config().end_session_endpoint, config().client_id, request,
                                   config().allow_insecure_http);
  }
  /// The same with a validated ID token as id_token_hint:
  /// `end_session_url(id, "https://app.example.com/bye")`. A template so that
  /// `end_session_url({})` still means an EndSessionRequest.
  template <class T, std::enable_if_t<std::is_same_v<T, IdToken>, int> = 0>
  [[nodiscard]] std::string end_session_url(const T& id_token, std::string post_logout_redirect_uri = {},
                                            std::string state = {}) const {
    EndSessionRequest request;
    request.id_token_hint = id_token.raw();
    request.post_logout_redirect_uri = std::move(post_logout_redirect_uri);
    request.state = std::move(state);
    return end_session_url(request);
  }
  ///@}

 private:
  // The request context of a client-authenticated request (as post_to builds).
  [[nodiscard]] detail::RequestContext context(const std::optional<CancelToken>& cancel) const {
    const auto& cfg = config();
    return {cfg.transport.get(), cfg.timeout, &cfg.extra_headers, cfg.allow_insecure_http, &state_->auth, cancel};
  }

 public:

 private:
  struct State {
    explicit State(ClientConfig c)
        : config(std::move(c)),
          auth(config.auth_method, config.client_id, config.client_secret,
               {config.signing_key, config.assertion_audience, config.issuer, config.token_endpoint, config.clock}) {
      if (config.client_id.empty()) throw Error(errc::config, "client configuration", "client_id is empty");
      for (const auto& [name, value] : config.extra_headers) detail::check_header_field(name, value, "client configuration");
      if (!config.clock) config.clock = system_clock();
      if (!config.transport) config.transport = default_transport();
      id_token_algorithms = resolve_id_token_algorithms(config);
      if (config.keys) {
        keys = config.keys;
      } else if (!config.jwks_uri.empty()) {
        FetchOptions fetch;
        fetch.transport = config.transport;
        fetch.timeout = config.timeout;
        fetch.extra_headers = config.extra_headers;
        fetch.allow_insecure_http = config.allow_insecure_http;
        fetch.clock = config.clock;
        keys = std::make_shared<JwksCache>(config.jwks_uri, std::move(fetch), config.jwks_cache);
      }
    }
    ClientConfig config;
    detail::ClientAuthentication auth;  // after config: built from it
    std::vector<JwsAlgorithm> id_token_algorithms;
    std::shared_ptr<const KeySource> keys;  // null: neither keys nor jwks_uri configured
  };

  // The ID token allow-list: the configured one, else what discovery advertised, asymmetric
  // algorithms only (HS* also when allow_symmetric_id_tokens), else RS256 (OIDC Core §3.1.3.7
  // step 7). "none" never: it is not a JwsAlgorithm.
  static std::vector<JwsAlgorithm> resolve_id_token_algorithms(const ClientConfig& c) {
    const auto allowed = [&](JwsAlgorithm a) { return !is_symmetric(a) || c.allow_symmetric_id_tokens; };
    std::vector<JwsAlgorithm> out;
    if (!c.id_token_algorithms.empty()) {
      for (const auto a : c.id_token_algorithms)
        if (!allowed(a))
          throw Error(errc::config, "client configuration",
                      "an HS* ID token algorithm needs allow_symmetric_id_tokens (it is keyed with the client secret)");
      return c.id_token_algorithms;
    }
    for (const auto& name : c.id_token_signing_alg_values_supported)
      if (const auto a = parse_jws_algorithm(name); a && allowed(*a) && std::find(out.begin(), out.end(), *a) == out.end())
        out.push_back(*a);
    if (out.empty()) out.push_back(JwsAlgorithm::RS256);
    return out;
  }

  const KeySource& key_source(const std::string& operation) const {
    if (!state_->keys)
      throw Error(errc::config, operation,
                  "no keys to verify signatures: configure jwks_uri (Client::discover does) or keys");
    return *state_->keys;
  }

  IdToken validate_id_token_jwt(std::string_view jwt, const IdTokenOptions& options, const std::string& access_token) const {
    const std::string operation = "ID token validation";
    const auto& cfg = config();
    if (cfg.issuer.empty()) throw Error(errc::config, operation, "no issuer configured");
    IdTokenChecks checks;
    checks.issuer = cfg.issuer;
    checks.client_id = cfg.client_id;
    checks.algorithms = state_->id_token_algorithms;
    if (cfg.allow_symmetric_id_tokens && !cfg.client_secret.empty()) checks.client_secret = cfg.client_secret;
    checks.now = clock().now();
    checks.leeway = cfg.clock_leeway;
    checks.nonce = options.nonce;
    checks.max_age = options.max_age;
    checks.access_token = access_token;
    checks.previous = options.previous;
    return oidc::validate_id_token(jwt, key_source(operation), checks);
  }

  // What exchange_code and implicit_token do with the ID token of their response: validate it
  // (config().validate_id_tokens), and insist on one when the request sent a nonce (OIDC Core
  // §3.1.3.3: a response to an openid request carries an id_token).
  void check_received_id_token(const Token& token, const IdTokenOptions& options, const char* flow) const {
    if (!config().validate_id_tokens) return;
    if (token.id_token.empty()) {
      if (options.nonce.empty()) return;
      throw Error(errc::missing_claim, std::string(flow) + " token response",
                  "the scope had openid and the response has no id_token (OIDC Core §3.1.3.3)");
    }
    (void)validate_id_token(token, options);
  }

  // What every authorization request (code or implicit) must satisfy before anything is built.
  void check_authorization_options(const AuthorizationOptions& options, const std::string& operation) const {
    const auto& cfg = config();
    if (cfg.authorization_endpoint.empty()) throw Error(errc::config, operation, "no authorization_endpoint configured");
    detail::require_secure_url(cfg.authorization_endpoint, cfg.allow_insecure_http, operation);
    if (const auto problem = detail::redirect_uri_problem(options.redirect_uri))
      throw Error(errc::config, operation, *problem);
    if (!options.scope.empty() && !detail::is_scope(options.scope))
      throw Error(errc::config, operation, "scope is not space-separated RFC 6749 scope-tokens");
    for (const auto& r : options.resource)
      if (r.find("://") == std::string::npos || r.find('#') != std::string::npos)
        throw Error(errc::config, operation, "a resource is an absolute URI without a fragment (RFC 8707 §2)");
    for (const auto& [name, unused] : options.extra)
      if (detail::is_reserved_authorization_parameter(name))
        throw Error(errc::config, operation, "parameter '" + name + "' is set through AuthorizationOptions");
    for (const auto* value : {&options.state, &options.nonce})
      if (!value->empty() && !detail::is_vschar_string(*value))
        throw Error(errc::config, operation, "state and nonce are printable ASCII");
    if (cfg.require_pushed_authorization_requests && cfg.pushed_authorization_request_endpoint.empty())
      throw Error(errc::config, operation,
                  "the server requires pushed authorization requests and no pushed_authorization_request_endpoint is "
                  "configured");
  }

  // The request's parameters in a fixed order; fills `state` and `nonce` (the options' own or fresh
  // CSPRNG values; a nonce only with openid). `pkce` null: none (implicit).
  Params authorization_parameters(const char* response_type, const AuthorizationOptions& options, std::string& state,
                                  std::string& nonce, const Pkce* pkce) const {
    state = options.state.empty() ? detail::random_token() : options.state;
    if (detail::has_scope_token(options.scope, "openid"))
      nonce = options.nonce.empty() ? detail::random_token() : options.nonce;
    Params params{{"response_type", response_type}, {"client_id", config().client_id},
                  {"redirect_uri", options.redirect_uri}};
    if (!options.scope.empty()) params.emplace_back("scope", options.scope);
    params.emplace_back("state", state);
    if (!nonce.empty()) params.emplace_back("nonce", nonce);
    if (pkce) {
      params.emplace_back("code_challenge", pkce->challenge);
      params.emplace_back("code_challenge_method", to_string(pkce->method));
    }
    for (const auto& r : options.resource) params.emplace_back("resource", r);
    params.insert(params.end(), options.extra.begin(), options.extra.end());
    return params;
  }

  // Every request of the Client goes through the one request path (detail/request.hpp).
  detail::FormResponse post_to(const std::string& url, const char* endpoint_name, Params form,
                               const std::string& operation, const std::optional<CancelToken>& cancel,
                               bool client_id_in_body = false) const {
    const auto& cfg = config();
    if (url.empty()) throw Error(errc::config, operation, std::string("no ") + endpoint_name + " configured");
    detail::RequestContext ctx{cfg.transport.get(), cfg.timeout,      &cfg.extra_headers,
                               cfg.allow_insecure_http, &state_->auth, cancel};
    ctx.client_id_in_body = client_id_in_body;
    return detail::post_form(ctx, url, std::move(form), operation);
  }

  static std::string expired_reason(const DeviceAuthorization& authorization, Clock::time_point deadline) {
    return deadline < authorization.expires_at ? "the polling deadline passed before a token was issued"
                                               : "the device code expired before a token was issued";
  }

  // The server will not take this refresh token, now or later: invalid_grant (expired, revoked,
  // rotated), a client not allowed to refresh at all (unauthorized_client, as seed 003's server
  // answers), or a refusal status from refresh_refusal_statuses without an OAuth error body
  // (errc::http_status: empty, HTML or non-OAuth JSON). Transport failures, 5xx and OAuth errors
  // such as invalid_client (our credentials, not the token) are not refusals.
  bool refresh_refused(const Error& e) const {
    const auto& code = e.oauth_code();
    if (code == "invalid_grant" || code == "unauthorized_client" || code == "unsupported_grant_type" ||
        code == "invalid_scope")
      return true;
    const auto& statuses = config().refresh_refusal_statuses;
    return e.code() == errc::http_status &&
           std::find(statuses.begin(), statuses.end(), e.http_status()) != statuses.end();
  }

  // The renewal of a grant the client can re-run: `make_form` builds the grant's form for each
  // attempt (so a password stays a Secret until then); `refresh` is what a refresh adds.
  template <class MakeForm>
  std::shared_ptr<CachingTokenSource> regrant_source(MakeForm make_form, RequestOptions refresh,
                                                     TokenSourceOptions options) const {
    keyed(options, token_key(make_form()));
    Client self = *this;
    return std::make_shared<CachingTokenSource>(
        [self, make_form = std::move(make_form), refresh = std::move(refresh), validate = options.validate](
            const std::shared_ptr<const Token>& current, const CancelToken& cancel) {
          const auto checked = [&](Token fresh) {
            if (validate) validate(fresh, current.get());
            return fresh;
          };
          if (current && current->refresh_token_usable(self.clock().now())) {
            try {
              return checked(self.refresh(*current, {refresh.scope, refresh.extra, cancel}));
            } catch (const Error& e) {
              if (!self.refresh_refused(e)) throw;  // refused: fall back to the grant
            }
          }
          return checked(self.request_token(make_form(), cancel));
        },
        state_->config.clock, std::move(options));
  }

  // The max_age parameter (OIDC Core §3.1.2.1) of an authorization request: non-negative seconds.
  static std::optional<std::chrono::seconds> max_age_of(const Params& extra, const std::string& operation) {
    const std::string v = detail::parameter_value(extra, "max_age");
    if (v.empty()) return std::nullopt;
    if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      throw Error(errc::config, operation, "max_age is a number of seconds");
    return std::chrono::seconds{std::stoll(v)};
  }

  std::shared_ptr<const State> state_;
};

}  // namespace oidc

#endif  // OIDC_CLIENT_HPP
