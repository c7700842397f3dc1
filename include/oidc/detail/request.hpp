#ifndef OIDC_DETAIL_REQUEST_HPP
#define OIDC_DETAIL_REQUEST_HPP

// The one request path of the library (docs/design.md, "Requests: one path"): every request to an
// authorization server is built here, whoever sends it: Client today, and discovery, JWKS,
// introspection and revocation, which need no Client.

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/client_auth.hpp"
#include "oidc/detail/failure.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/redact.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/detail/url.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"
#include "oidc/secret.hpp"
#include "oidc/transport.hpp"

namespace oidc::detail {

// What one request needs. Built per call from what the caller owns (pointers, not copies, so the
// hot path copies no headers and touches no reference count); it must not outlive them.
struct RequestContext {
  Transport* transport = nullptr;                     // required
  std::chrono::milliseconds timeout{30000};
  const Headers* extra_headers = nullptr;             // sent first (seed 003 requires Host); null: none
  bool allow_insecure_http = false;                   // see require_secure_url
  const ClientAuthentication* client_auth = nullptr;  // null: the request carries no client authentication
  std::optional<CancelToken> cancel{};                // set: cancel() aborts the request (errc::cancelled)
  // client_id goes in the body even when HTTP Basic carries it: RFC 9126 §2.1 requires it in a
  // pushed authorization request, since it is a required authorization request parameter.
  bool client_id_in_body = false;
};

// Sends through the transport; anything it throws becomes an oidc::Error naming `operation`,
// keeping the transport's error code.
[[nodiscard]] inline HttpResponse send(Transport& transport, const HttpRequest& request, const std::string& operation) {
  try {
    return transport.send(request);
  } catch (const Error& e) {
    Error::Details d = e.details();
    d.operation = operation;
    throw Error(std::move(d));
  } catch (const std::exception& e) {
    throw Error(errc::transport, operation, e.what());
  }
}

// A request to `url` with what every request of the context carries: the secure-URL check, the
// timeout, the cancel token, the extra headers and `Accept: application/json` (for a GET of
// discovery, JWKS or userinfo; post_form adds the body).
[[nodiscard]] inline HttpRequest make_request(const RequestContext& ctx, std::string method, std::string url,
                                              const std::string& operation) {
  require_secure_url(url, ctx.allow_insecure_http, operation);
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.timeout = ctx.timeout;
  request.cancel = ctx.cancel;
  if (ctx.extra_headers)
    for (const auto& [name, value] : *ctx.extra_headers) request.headers.add(name, value);
  request.headers.set("Accept", "application/json");
  return request;
}

// The response to a form POST, with the secret values that were sent (form secrets, the client
// secret, the Basic credential) so that error excerpts and messages can mask them.
struct FormResponse {
  HttpResponse response;
  std::vector<Secret> sent_secrets;
  [[nodiscard]] std::vector<std::string_view> secret_views() const {
    std::vector<std::string_view> v;
    v.reserve(sent_secrets.size());
    for (const auto& s : sent_secrets) v.push_back(s.expose());
    return v;
  }
};

// The RFC 6749 §5.2 error code of a response, "" when it is not an error body.
inline std::string oauth_error_of(const HttpResponse& r) {
  const auto body = body_as_object(r);
  return body.object ? string_member(*body.object, "error") : std::string{};
}

// Parameters must not smuggle in, or duplicate, what the library itself sends.
inline void reject_reserved(const Params& form, bool client_auth, const std::string& operation) {
  if (client_auth)
    for (const auto& field : form)
      if (field.first == "client_id" || field.first == "client_secret" || field.first == "client_assertion" ||
          field.first == "client_assertion_type")
        throw Error(errc::config, operation, "parameter '" + field.first + "' is set by the client configuration");
  for (std::size_t i = 0; i < form.size(); ++i)
    for (std::size_t j = i + 1; j < form.size(); ++j)
      if (form[i].first == form[j].first && form[i].first != "resource")  // RFC 8707 §2: repeatable
        throw Error(errc::config, operation, "parameter '" + form[i].first + "' given twice");
}

// One attempt: `body` (already encoded) plus authentication by `method` when the context has any.
inline HttpResponse post_encoded(const RequestContext& ctx, const std::string& url, const Secret& body,
                                 ClientAuthMethod method, const std::string& operation,
                                 std::vector<Secret>& sent) {
  HttpRequest request = make_request(ctx, "POST", url, operation);
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  request.body = body.expose();
  if (ctx.client_auth) {
    Params auth_params;
    ctx.client_auth->apply(method, url, auth_params, request.headers, sent);
    if (ctx.client_id_in_body &&
        std::none_of(auth_params.begin(), auth_params.end(), [](const auto& f) { return f.first == "client_id"; }))
      auth_params.insert(auth_params.begin(), {"client_id", ctx.client_auth->client_id()});
    if (!auth_params.empty()) {
      if (!request.body.empty()) request.body += '&';
      request.body += form_encode(auth_params);
      for (auto& field : auth_params) secure_wipe(field.second);
    }
  }
  auto response = send(*ctx.transport, request, operation);
  secure_wipe(request.body);
  return response;
}

// POSTs `form` as application/x-www-form-urlencoded (RFC 6749 Appendix B) to `url`, with the
// context's client authentication. With ClientAuthMethod::auto_detect and no method known for
// `url` yet, a refusal of the Basic credentials (invalid_client or 401) is retried once with
// client_secret_post, and the method that succeeds is remembered for `url`. The form's values are
// wiped once encoded.
[[nodiscard]] inline FormResponse post_form(const RequestContext& ctx, const std::string& url, Params form,
                                            const std::string& operation) {
  reject_reserved(form, ctx.client_auth != nullptr, operation);
  FormResponse out;
  for (const auto& [name, value] : form)
    if (is_sensitive_name(name) && !value.empty()) out.sent_secrets.emplace_back(value);
  // Encoded once: a retry with another method appends different authentication to the same body.
  const Secret body = form_encode(form);
  for (auto& field : form) secure_wipe(field.second);

  const auto known = ctx.client_auth ? ctx.client_auth->method_for(url) : std::optional{ClientAuthMethod::none};
  auto method = known.value_or(ClientAuthMethod::client_secret_basic);
  out.response = post_encoded(ctx, url, body, method, operation, out.sent_secrets);
  if (!known) {
    if (is_client_auth_failure(out.response.status, oauth_error_of(out.response))) {
      method = ClientAuthMethod::client_secret_post;
      out.response = post_encoded(ctx, url, body, method, operation, out.sent_secrets);
    }
    if (out.response.ok() && oauth_error_of(out.response).empty()) ctx.client_auth->remember(url, method);
  }
  return out;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_REQUEST_HPP
