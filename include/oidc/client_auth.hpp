#ifndef OIDC_CLIENT_AUTH_HPP
#define OIDC_CLIENT_AUTH_HPP

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/authorization_request.hpp"
#include "oidc/clock.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"
#include "oidc/jose.hpp"
#include "oidc/secret.hpp"

namespace oidc {

/// How the client authenticates to the token endpoint (RFC 6749 §2.3; names as in RFC 8414's
/// token_endpoint_auth_methods_supported). The same authentication goes to introspection,
/// revocation and PAR. A client without a secret is a public client (`none`) whatever the method
/// says, except with private_key_jwt, which needs none.
enum class ClientAuthMethod {
  client_secret_basic,  ///< HTTP Basic; the one every server must support (RFC 6749 §2.3.1).
  client_secret_post,   ///< client_id and client_secret in the form body (all four seed documents).
  none,                 ///< Public client: client_id in the body, no secret.
  /// Opt-in (golang.org/x/oauth2's AuthStyleAutoDetect): try client_secret_basic; if the server
  /// answers invalid_client or 401, retry once with client_secret_post. The method that got a
  /// success is remembered per endpoint URL for the Client's lifetime; other failures decide nothing.
  auto_detect,
  /// RFC 7523 §2.2 / OIDC Core §9: a JWT assertion signed with the client's private key
  /// (ClientConfig::signing_key: RS*, PS*, ES*, EdDSA), fresh for every request. Without a
  /// signing key, or with an HMAC one, the Client refuses the configuration (errc::config).
  private_key_jwt,
  /// The same assertion signed HS256 with the client secret's octets (OIDC Core §9).
  client_secret_jwt,
};

/// The "aud" of a JWT client assertion. RFC 7523 §3 only asks for a value identifying the
/// authorization server and names the token endpoint URL as one; OIDC Core §9 says it SHOULD be
/// the token endpoint URL. That is the default: every server we know accepts it, also when the
/// assertion goes to introspection, revocation or PAR (Keycloak and oidc-provider accept the
/// token endpoint and the issuer at each of them). `issuer` is what draft-ietf-oauth-rfc7523bis
/// asks for against audience injection (an attacker's server listing the victim's token endpoint
/// as one of its own); `endpoint` names the URL being called, for servers that insist on it.
/// An empty audience (no token endpoint or issuer configured) is errc::config when signing.
enum class AssertionAudience {
  token_endpoint,  ///< Endpoints::token_endpoint, at every endpoint.
  issuer,          ///< Endpoints::issuer.
  endpoint,        ///< The URL the request goes to.
};

/// What a JWT client assertion needs besides the client id (ClientConfig's members of the same names).
struct JwtAssertionSettings {
  /// The private key for private_key_jwt (client_secret_jwt keys HS256 with the secret).
  std::optional<SigningKey> signing_key;
  AssertionAudience audience = AssertionAudience::token_endpoint;  ///< Which URL goes into "aud".
  std::string issuer;                   ///< The "aud" under AssertionAudience::issuer.
  std::string token_endpoint;           ///< The "aud" under AssertionAudience::token_endpoint.
  std::shared_ptr<const Clock> clock;   ///< For iat and exp; null: system_clock().
};

/// RFC 7523 §2.2 `client_assertion_type` of the JWT methods.
inline constexpr std::string_view jwt_bearer_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// An assertion is good for this long after its iat: long enough for a slow request, short enough
/// that a copy captured from a log is useless soon (RFC 7523 §3 leaves it to the client).
inline constexpr std::chrono::seconds assertion_lifetime{60};

namespace detail {

// The Basic credential encoding: RFC 6749 §2.3.1 says application/x-www-form-urlencoded
// (Appendix B) before Base64; like Go's url.QueryEscape (what most servers were tested against),
// the RFC 3986 unreserved characters A-Z a-z 0-9 - . _ ~ pass unencoded, space becomes '+', and
// every other byte is %XX. Servers that compare the raw value without decoding then still match
// ids and secrets made of unreserved characters.
inline std::string basic_credential_encode(std::string_view in) {
  return plus_percent_encode(
      in, [](unsigned char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; });
}

// True when a token endpoint refused the client's authentication itself (RFC 6749 §5.2
// invalid_client, or a bare 401), as opposed to the grant: what makes auto_detect switch method.
inline bool is_client_auth_failure(int status, std::string_view oauth_error) {
  return status == 401 || oauth_error == "invalid_client";
}

// One client's credentials, prepared once per Client: the Basic header value is encoded at
// construction instead of on every request, and auto_detect's outcome is remembered per endpoint.
// Safe for concurrent use.
class ClientAuthentication {
 public:
  // Throws errc::config for a JWT method that lacks what it signs with: private_key_jwt without
  // jwt.signing_key or with an HMAC one (that would be client_secret_jwt, sharing the key with the
  // server), client_secret_jwt without a secret.
  ClientAuthentication(ClientAuthMethod method, std::string client_id, Secret secret, JwtAssertionSettings jwt = {})
      : method_(method), client_id_(std::move(client_id)), secret_(std::move(secret)), jwt_(std::move(jwt)) {
    const std::string operation = "client configuration";
    if (method_ == ClientAuthMethod::private_key_jwt) {
      if (!jwt_.signing_key) throw Error(errc::config, operation, "private_key_jwt needs a signing_key");
      if (is_symmetric(jwt_.signing_key->algorithm()))
        throw Error(errc::config, operation,
                    "private_key_jwt needs an asymmetric signing_key (RS*, PS*, ES*, EdDSA); HS* is client_secret_jwt");
    } else if (method_ == ClientAuthMethod::client_secret_jwt) {
      if (secret_.empty()) throw Error(errc::config, operation, "client_secret_jwt needs a client_secret");
      jwt_.signing_key = SigningKey::from_secret(secret_, JwsAlgorithm::HS256);
    } else {
      jwt_.signing_key.reset();  // only the JWT methods sign
    }
    if (!jwt_.clock) jwt_.clock = system_clock();
    // A client without a secret is a public client whatever the method says (private_key_jwt
    // needs none).
    if (secret_.empty() && method_ != ClientAuthMethod::private_key_jwt) method_ = ClientAuthMethod::none;
    if (method_ == ClientAuthMethod::client_secret_basic || method_ == ClientAuthMethod::auto_detect) {
      basic_plain_ = basic_credential_encode(client_id_) + ":" + basic_credential_encode(secret_.expose());
      basic_credential_ = base64_encode(basic_plain_.expose());
      basic_header_ = "Basic " + basic_credential_.expose();
    }
  }

  ClientAuthentication(const ClientAuthentication&) = delete;
  ClientAuthentication& operator=(const ClientAuthentication&) = delete;

  [[nodiscard]] ClientAuthMethod configured_method() const noexcept { return method_; }
  [[nodiscard]] const std::string& client_id() const noexcept { return client_id_; }

  // The method to use at `endpoint`: the configured one, or for auto_detect the one that worked
  // there before; nullopt while auto_detect has not decided (then probe, see is_client_auth_failure).
  [[nodiscard]] std::optional<ClientAuthMethod> method_for(std::string_view endpoint) const {
    if (method_ != ClientAuthMethod::auto_detect) return method_;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = learned_.find(endpoint);
    if (it == learned_.end()) return std::nullopt;
    return it->second;
  }

  // auto_detect: `method` got a success at `endpoint`; later requests there use it without probing.
  void remember(std::string_view endpoint, ClientAuthMethod method) const {
    if (method_ != ClientAuthMethod::auto_detect) return;
    std::lock_guard<std::mutex> lock(mutex_);
    learned_.emplace(std::string(endpoint), method);
  }

  // Adds authentication by `method` (a concrete one, not auto_detect) for a request to `endpoint`:
  // the form parameters go to `form`, the Authorization header to `headers`, and every value sent
  // that reveals the secret to `sent`, so that error excerpts can mask it (a server may echo the
  // header back). The JWT methods sign a fresh assertion each time (new jti, iat from the clock).
  void apply(ClientAuthMethod method, std::string_view endpoint, Params& form, Headers& headers,
             std::vector<Secret>& sent) const {
    if (method == ClientAuthMethod::private_key_jwt || method == ClientAuthMethod::client_secret_jwt) {
      Secret assertion = make_assertion(endpoint);
      sent.push_back(assertion);
      form.emplace_back("client_id", client_id_);
      form.emplace_back("client_assertion_type", std::string(jwt_bearer_assertion_type));
      form.emplace_back("client_assertion", assertion.expose());
      return;
    }
    if (secret_.empty() || method == ClientAuthMethod::none) {
      form.emplace_back("client_id", client_id_);
      return;
    }
    sent.push_back(secret_);
    if (method == ClientAuthMethod::client_secret_post) {
      form.emplace_back("client_id", client_id_);
      form.emplace_back("client_secret", secret_.expose());
    } else {
      headers.set("Authorization", basic_header_.expose());
      // Both: the redactor derives every Base64 form of "id:secret" (either alphabet, padded or
      // not, inside a longer run) from the plain one.
      sent.push_back(basic_plain_);
      sent.push_back(basic_credential_);
    }
  }

 private:
  // RFC 7523 §3 claims: iss = sub = client_id, aud per the settings, a jti of 256 CSPRNG bits (so
  // the server can refuse a replay), iat and a short exp from the Client's clock.
  [[nodiscard]] Secret make_assertion(std::string_view endpoint) const {
    const std::string operation = "client assertion";
    std::string_view audience = endpoint;
    if (jwt_.audience == AssertionAudience::token_endpoint) audience = jwt_.token_endpoint;
    if (jwt_.audience == AssertionAudience::issuer) audience = jwt_.issuer;
    if (audience.empty())
      throw Error(errc::config, operation,
                  jwt_.audience == AssertionAudience::issuer
                      ? "assertion_audience is issuer and no issuer is configured"
                      : "assertion_audience is token_endpoint and no token_endpoint is configured");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(jwt_.clock->now().time_since_epoch()).count();
    nlohmann::json claims{{"iss", client_id_},
                          {"sub", client_id_},
                          {"aud", std::string(audience)},
                          {"jti", random_token()},
                          {"iat", now},
                          {"exp", now + assertion_lifetime.count()}};
    return sign_compact_jws(*jwt_.signing_key, {{"typ", "JWT"}}, claims);
  }

  ClientAuthMethod method_;
  std::string client_id_;
  Secret secret_;
  JwtAssertionSettings jwt_;
  Secret basic_plain_;       // id:secret, each encoded
  Secret basic_credential_;  // base64(id:secret), precomputed
  Secret basic_header_;      // "Basic " + basic_credential_
  mutable std::mutex mutex_;
  mutable std::map<std::string, ClientAuthMethod, std::less<>> learned_;  // auto_detect, by endpoint
};

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_CLIENT_AUTH_HPP
