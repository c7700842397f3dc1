#ifndef OIDC_CLIENT_HPP
#define OIDC_CLIENT_HPP

#include <chrono>
#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/client_auth.hpp"
#include "oidc/clock.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/detail/url.hpp"
#include "oidc/endpoints.hpp"
#include "oidc/error.hpp"
#include "oidc/grants/client_credentials.hpp"
#include "oidc/grants/device_code.hpp"
#include "oidc/grants/password.hpp"
#include "oidc/grants/refresh_token.hpp"
#include "oidc/http.hpp"
#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"
#include "oidc/token.hpp"
#include "oidc/token_response.hpp"
#include "oidc/token_source.hpp"
#include "oidc/transport.hpp"

namespace oidc {

// Everything a Client needs to know. The endpoint members come from Endpoints so that discovery
// can fill them: `ClientConfig cfg; cfg.token_endpoint = "...";`.
struct ClientConfig : Endpoints {
  std::string client_id;
  Secret client_secret;  // empty: public client
  ClientAuthMethod auth_method = ClientAuthMethod::client_secret_basic;
  Headers extra_headers;             // sent with every request (seed 003 requires Host)
  bool allow_insecure_http = false;  // http:// to non-loopback hosts; for tests behind TLS terminators only
  std::chrono::milliseconds timeout{30000};  // per request
  std::shared_ptr<Transport> transport;      // null: default_transport() (libcurl)
  std::shared_ptr<const Clock> clock;        // null: system_clock()
  // A refresh answered with one of these statuses and no OAuth error body counts as refused, like
  // invalid_grant: real providers (glewlwyd, some gateways) refuse with an empty 400/401/403.
  // Renewal then re-runs the grant, or reports errc::interaction_required for interactive tokens.
  std::vector<int> refresh_refusal_statuses{400, 401, 403};
};

// The facade: one configured client of one authorization server. Cheap to copy (state is shared),
// and every const member function may be called from many threads at once. Failures throw
// oidc::Error.
class Client {
 public:
  explicit Client(ClientConfig config) : state_(std::make_shared<State>(std::move(config))) {}

  [[nodiscard]] const ClientConfig& config() const noexcept { return state_->config; }
  [[nodiscard]] const Clock& clock() const noexcept { return *state_->config.clock; }

  // RFC 6749 §4.4.
  [[nodiscard]] Token client_credentials(const grants::client_credentials& grant = {},
                                         const std::optional<CancelToken>& cancel = std::nullopt) const {
    return request_token(grant.form(), cancel);
  }

  // RFC 6749 §4.3.
  [[nodiscard]] Token password(const grants::password& grant,
                               const std::optional<CancelToken>& cancel = std::nullopt) const {
    return request_token(grant.form(), cancel);
  }
  [[nodiscard]] Token password(std::string username, Secret password, RequestOptions options = {}) const {
    return this->password(
        grants::password{std::move(username), std::move(password), std::move(options.scope), std::move(options.extra)},
        options.cancel);
  }

  // RFC 6749 §6. A response without refresh_token keeps the old one (the server did not rotate),
  // and one without id_token keeps the old id_token (OIDC Core §12.2 makes it optional; logout
  // still needs it as id_token_hint). A refresh token known to be expired is not sent: that is
  // errc::interaction_required.
  [[nodiscard]] Token refresh(const Token& token, RequestOptions options = {}) const {
    if (!token.has_refresh_token())
      throw Error(errc::interaction_required, "refresh", "the token has no refresh_token");
    if (!token.refresh_token_usable(clock().now()))
      throw Error(errc::interaction_required, "refresh", "the refresh_token has expired");
    Token fresh = request_token(
        grants::refresh_token{token.refresh_token, std::move(options.scope), std::move(options.extra)}.form(),
        options.cancel);
    if (!fresh.has_refresh_token()) {
      fresh.refresh_token = token.refresh_token;
      fresh.refresh_expiry = token.refresh_expiry;
    }
    if (fresh.id_token.empty()) fresh.id_token = token.id_token;
    return fresh;
  }

  // RFC 8628 §3.1: starts a device login. Show the user verification_uri and user_code (or
  // verification_uri_complete), then call poll_device_token().
  [[nodiscard]] DeviceAuthorization device_authorization(RequestOptions options = {}) const {
    const std::string operation = "device authorization request";
    Params form;
    detail::append_scope_and_extra(form, options.scope, options.extra);
    const auto now = clock().now();
    const auto response = post_form(config().device_authorization_endpoint, "device_authorization_endpoint",
                                    std::move(form), operation, options.cancel);
    return parse_device_authorization_response(response.response, now, operation, response.secret_views());
  }

  // RFC 8628 §3.4-3.5: polls the token endpoint until the user approves, waiting `interval`
  // before every request. authorization_pending keeps polling; slow_down adds 5 s to the interval
  // for all later polls; a connection timeout doubles it (§3.5). Ends with the token, or throws:
  // oauth_error with oauth_code() "access_denied" or "expired_token" when the server says so,
  // errc::deadline_exceeded once the code's expires_in (or options.deadline) has passed,
  // errc::cancelled when options.cancel fires (at once, even mid-sleep or mid-request).
  [[nodiscard]] Token poll_device_token(const DeviceAuthorization& authorization,
                                        const DevicePollOptions& options = {}) const {
    using std::chrono::seconds;
    const std::string operation = "device token polling";
    auto deadline = authorization.expires_at;
    if (options.deadline) deadline = std::min(deadline, *options.deadline);
    seconds interval = authorization.interval > seconds{0} ? authorization.interval : seconds{5};
    const grants::device_code grant{authorization.device_code, options.extra};
    DevicePollProgress progress;
    for (;;) {
      const auto now = clock().now();
      if (now >= deadline) throw Error(errc::deadline_exceeded, operation, expired_reason(authorization, deadline));
      const auto wait = std::min<Clock::duration>(interval, deadline - now);
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

  // A cached, self-renewing source of this grant's tokens (see CachingTokenSource). Renewal uses
  // the refresh token while it is usable and re-runs the grant otherwise, or when the refresh is
  // refused (see refresh_refused: invalid_grant, unauthorized_client, or an empty 400/401/403), as
  // servers without refresh require (seed 003).
  [[nodiscard]] std::shared_ptr<CachingTokenSource> token_source(grants::client_credentials grant,
                                                                 TokenSourceOptions options = {}) const {
    return regrant_source(std::move(grant), std::move(options));
  }
  // Keeps the password in memory for re-authentication, as the grant itself requires.
  [[nodiscard]] std::shared_ptr<CachingTokenSource> token_source(grants::password grant,
                                                                 TokenSourceOptions options = {}) const {
    return regrant_source(std::move(grant), std::move(options));
  }

  // A source for a token obtained interactively (device flow, authorization code): it can only be
  // renewed by refresh. When that is impossible (no refresh token, expired, or refused as
  // refresh_refused says) callers get errc::interaction_required: the user must log in again.
  [[nodiscard]] std::shared_ptr<CachingTokenSource> token_source(Token initial,
                                                                 TokenSourceOptions options = {}) const {
    options.initial = std::move(initial);
    Client self = *this;
    return std::make_shared<CachingTokenSource>(
        [self](const std::shared_ptr<const Token>& current, const CancelToken& cancel) {
          if (!current) throw Error(errc::interaction_required, "token renewal", "no token to refresh");
          try {
            return self.refresh(*current, {{}, {}, cancel});
          } catch (const Error& e) {
            if (!self.refresh_refused(e)) throw;
            const std::string why = e.oauth() ? e.oauth_code() : "HTTP " + std::to_string(e.http_status());
            throw Error(errc::interaction_required, "token renewal",
                        "the refresh token was refused (" + why + "); log in again");
          }
        },
        state_->config.clock, std::move(options));
  }

  // Any grant, including extension grants (RFC 6749 §4.5): sends `form` plus client
  // authentication to the token endpoint and parses the token response.
  // `cancel`, when set, aborts the request in flight (errc::cancelled).
  [[nodiscard]] Token request_token(Params form, const std::optional<CancelToken>& cancel = std::nullopt) const {
    const std::string operation = "token request (grant_type=" + value_of(form, "grant_type") + ")";
    const auto now = clock().now();  // before sending: expires_in counts from the server's issue time
    const auto response = post_form(config().token_endpoint, "token_endpoint", std::move(form), operation, cancel);
    return parse_token_response(response.response, now, operation, response.secret_views());
  }

  // The response to an authenticated form POST, with the secret values that were sent so that
  // error excerpts can mask them. Building block for every endpoint that takes client auth.
  struct FormResponse {
    HttpResponse response;
    std::vector<Secret> sent_secrets;
    [[nodiscard]] std::vector<std::string_view> secret_views() const {
      std::vector<std::string_view> v;
      for (const auto& s : sent_secrets) v.push_back(s.expose());
      return v;
    }
  };

  // POSTs an application/x-www-form-urlencoded body with client authentication to `url`. With
  // ClientAuthMethod::auto_detect and no method known for `url` yet, a refusal of the Basic
  // credentials (invalid_client or 401) is retried once with client_secret_post.
  [[nodiscard]] FormResponse post_form(const std::string& url, const char* endpoint_name, Params form,
                                       const std::string& operation,
                                       const std::optional<CancelToken>& cancel = std::nullopt) const {
    const auto& cfg = config();
    if (url.empty()) throw Error(errc::config, operation, std::string("no ") + endpoint_name + " configured");
    detail::require_secure_url(url, cfg.allow_insecure_http, operation);
    reject_reserved(form, operation);

    FormResponse out;
    for (const auto& [name, value] : form)
      if (detail::is_sensitive_name(name) && !value.empty()) out.sent_secrets.emplace_back(value);
    // Encoded once: a retry with another method appends different authentication to the same body.
    Secret body = detail::form_encode(form);
    for (auto& field : form) detail::secure_wipe(field.second);

    const auto& auth = state_->auth;
    const auto known = auth.method_for(url);
    auto method = known.value_or(ClientAuthMethod::client_secret_basic);
    out.response = post_authenticated(url, body, method, operation, cancel, out.sent_secrets);
    if (!known) {
      if (detail::is_client_auth_failure(out.response.status, oauth_error_of(out.response))) {
        method = ClientAuthMethod::client_secret_post;
        out.response = post_authenticated(url, body, method, operation, cancel, out.sent_secrets);
      }
      if (out.response.ok() && oauth_error_of(out.response).empty()) auth.remember(url, method);
    }
    return out;
  }

  // Sends through the configured transport; anything it throws becomes an oidc::Error naming the
  // operation, keeping the transport's error code.
  [[nodiscard]] HttpResponse send(const HttpRequest& request, const std::string& operation) const {
    try {
      return state_->config.transport->send(request);
    } catch (const Error& e) {
      Error::Details d = e.details();
      d.operation = operation;
      throw Error(std::move(d));
    } catch (const std::exception& e) {
      throw Error(errc::transport, operation, e.what());
    }
  }

 private:
  struct State {
    explicit State(ClientConfig c)
        : config(std::move(c)), auth(config.auth_method, config.client_id, config.client_secret) {
      if (config.client_id.empty()) throw Error(errc::config, "client configuration", "client_id is empty");
      for (const auto& [name, value] : config.extra_headers)
        if (name.find_first_of("\r\n:") != std::string::npos || value.find_first_of("\r\n") != std::string::npos)
          throw Error(errc::config, "client configuration", "header names must not contain ':', CR or LF, nor values CR or LF");
      if (!config.clock) config.clock = system_clock();
      if (!config.transport) config.transport = default_transport();
    }
    ClientConfig config;
    detail::ClientAuthentication auth;  // after config: built from it
  };

  // One attempt of post_form: `body` (already encoded) plus authentication by `method`.
  HttpResponse post_authenticated(const std::string& url, const Secret& body, ClientAuthMethod method,
                                  const std::string& operation, const std::optional<CancelToken>& cancel,
                                  std::vector<Secret>& sent) const {
    const auto& cfg = config();
    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.timeout = cfg.timeout;
    request.cancel = cancel;
    for (const auto& [name, value] : cfg.extra_headers) request.headers.add(name, value);
    request.headers.set("Content-Type", "application/x-www-form-urlencoded");
    request.headers.set("Accept", "application/json");
    Params auth_params;
    state_->auth.apply(method, auth_params, request.headers, sent);
    request.body = body.expose();
    if (!auth_params.empty()) {
      if (!request.body.empty()) request.body += '&';
      request.body += detail::form_encode(auth_params);
      for (auto& field : auth_params) detail::secure_wipe(field.second);
    }
    auto response = send(request, operation);
    detail::secure_wipe(request.body);
    return response;
  }

  // The RFC 6749 §5.2 error code of a response, "" when it is not an error body.
  static std::string oauth_error_of(const HttpResponse& r) {
    const auto obj = detail::body_as_object(r);
    return obj ? detail::string_member(*obj, "error") : std::string{};
  }

  static std::string expired_reason(const DeviceAuthorization& authorization, Clock::time_point deadline) {
    return deadline < authorization.expires_at ? "the polling deadline passed before the user approved"
                                               : "the device code expired before the user approved";
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

  template <class Grant>
  std::shared_ptr<CachingTokenSource> regrant_source(Grant grant, TokenSourceOptions options) const {
    Client self = *this;
    return std::make_shared<CachingTokenSource>(
        [self, grant = std::move(grant)](const std::shared_ptr<const Token>& current, const CancelToken& cancel) {
          if (current && current->refresh_token_usable(self.clock().now())) {
            try {
              return self.refresh(*current, {grant.scope, grant.extra, cancel});
            } catch (const Error& e) {
              if (!self.refresh_refused(e)) throw;  // refused: fall back to the grant
            }
          }
          return self.request_token(grant.form(), cancel);
        },
        state_->config.clock, std::move(options));
  }

  static std::string value_of(const Params& form, std::string_view name) {
    for (const auto& [n, v] : form)
      if (n == name) return v;
    return {};
  }

  // Extension parameters must not smuggle in, or duplicate, what the library itself sends.
  static void reject_reserved(const Params& form, const std::string& operation) {
    for (const auto& [name, value] : form) {
      (void)value;
      if (name == "client_id" || name == "client_secret")
        throw Error(errc::config, operation, "parameter '" + name + "' is set by the client configuration");
    }
    for (std::size_t i = 0; i < form.size(); ++i)
      for (std::size_t j = i + 1; j < form.size(); ++j)
        if (form[i].first == form[j].first)
          throw Error(errc::config, operation, "parameter '" + form[i].first + "' given twice");
  }

  std::shared_ptr<const State> state_;
};

}  // namespace oidc

#endif  // OIDC_CLIENT_HPP
