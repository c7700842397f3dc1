#ifndef OIDC_DETAIL_REQUEST_HPP
#define OIDC_DETAIL_REQUEST_HPP

// The one request path of the library (docs/design.md, "Requests: one path"): every request to an
// authorization server is built here, whoever sends it: Client today, and discovery, JWKS,
// introspection and revocation, which need no Client.

#include <algorithm>
#include <chrono>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/client_auth.hpp"
#include "oidc/detail/failure.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/detail/redact.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/detail/url.hpp"
#include "oidc/detail/validate.hpp"
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

// ---- GET of a JSON document (discovery, JWK Sets) ---------------------------------------------

// The media type of the response's Content-Type, parameters (charset) and case dropped; "" when
// there is none.
inline std::string media_type_of(const HttpResponse& r) {
  const auto ct = r.headers.get("Content-Type");
  if (!ct) return {};
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  std::string out(v);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

// What a fetched document must be before its body is parsed: at most `max_bytes`, a 2xx status
// (redirects are not followed: a 3xx is refused like any other status, since following one would
// let a server send the client to another host), and one of `media_types` as Content-Type.
inline void check_document_response(const HttpResponse& r, const std::string& operation, std::size_t max_bytes,
                                    std::initializer_list<std::string_view> media_types) {
  if (r.body.size() > max_bytes) {
    Error::Details d;
    d.code = errc::response_too_large;
    d.operation = operation;
    d.detail = "the document exceeds the " + std::to_string(max_bytes) + "-byte limit";
    d.http_status = r.status;
    throw Error(std::move(d));
  }
  if (!r.ok())
    throw_malformed(errc::http_status, r, operation,
                    r.status >= 300 && r.status < 400 ? "redirects are not followed" : std::string{}, {});
  const std::string type = media_type_of(r);
  for (const auto m : media_types)
    if (type == m) return;
  const auto ct = r.headers.get("Content-Type");
  throw_malformed(errc::parse, r, operation,
                  "expected a JSON document, got " +
                      (ct ? "Content-Type " + redacted_text(*ct, {}, 100) : std::string("no Content-Type")),
                  {});
}

// The body as a JSON object through parse_json (depth limit, duplicate members refused).
inline nlohmann::json document_object(const HttpResponse& r, const std::string& operation) {
  auto doc = parse_json(r.body);
  if (!doc.ok()) throw_malformed(errc::parse, r, operation, "the document is not accepted JSON: " + doc.problem, {});
  if (!doc.value.is_object()) throw_malformed(errc::parse, r, operation, "the document is not a JSON object", {});
  return std::move(doc.value);
}

// A GET through the request path (secure-URL check, timeout, cancel, extra headers, Accept).
[[nodiscard]] inline HttpResponse get(const RequestContext& ctx, std::string url, const std::string& operation) {
  return send(*ctx.transport, make_request(ctx, "GET", std::move(url), operation), operation);
}

// GET, checks and parse in one: the JSON object at `url`.
[[nodiscard]] inline nlohmann::json get_json(const RequestContext& ctx, std::string url, const std::string& operation,
                                             std::size_t max_bytes) {
  const auto r = get(ctx, std::move(url), operation);
  check_document_response(r, operation, max_bytes, {"application/json"});
  return document_object(r, operation);
}

// How long the response says it may be cached (Cache-Control max-age, RFC 9111 §5.2.2.1); 0 for
// no-store or no-cache; nullopt when it says nothing usable. Callers bound it from below.
inline std::optional<std::chrono::seconds> cache_max_age(const HttpResponse& r) {
  const auto cc = r.headers.get("Cache-Control");
  if (!cc) return std::nullopt;
  std::string_view rest = *cc;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view d = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!d.empty() && (d.front() == ' ' || d.front() == '\t')) d.remove_prefix(1);
    while (!d.empty() && (d.back() == ' ' || d.back() == '\t')) d.remove_suffix(1);
    if (iequals(d, "no-store") || iequals(d, "no-cache")) return std::chrono::seconds{0};
    if (d.size() > 8 && iequals(d.substr(0, 8), "max-age=")) {
      const auto v = whole_seconds(nlohmann::json(std::string(d.substr(8))));  // digits only, saturating
      if (v) return std::chrono::seconds{*v};
    }
  }
  return std::nullopt;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_REQUEST_HPP
