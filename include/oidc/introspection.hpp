#ifndef OIDC_INTROSPECTION_HPP
#define OIDC_INTROSPECTION_HPP

/// \file
/// OAuth 2.0 Token Introspection (RFC 7662): the authorization server says whether a token is
/// active and what it carries. `active=false` is an answer, not an error.

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/request.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc {

/// An introspection response (RFC 7662 §2.2), typed. String values are the server's text as sent
/// (not escaped); a member the server left out is empty. Each member present has been checked for
/// its type (errc::parse otherwise, naming the member, never its value).
struct IntrospectionResponse {
  using time_point = std::chrono::system_clock::time_point;  ///< Wall-clock instant.

  /// The answer to rely on: the server's "active", and false when exp has passed or nbf is still
  /// ahead (beyond the clock leeway). RFC 7662 §4 makes the server check expiry; one that answers
  /// active for a token whose own exp is past is wrong about it or about the time, and a resource
  /// server should refuse rather than guess which (fail closed).
  bool active = false;
  bool server_active = false;      ///< "active" exactly as the server sent it.
  std::vector<std::string> scope;  ///< "scope", split at spaces.
  std::string client_id;           ///< The client the token was issued to.
  std::string username;            ///< A human-readable name of the resource owner.
  std::string token_type;          ///< RFC 6749 §7.1 type, such as "Bearer".
  std::optional<time_point> exp;   ///< Expiry; nullopt when not sent.
  std::optional<time_point> iat;   ///< Issue time; nullopt when not sent.
  std::optional<time_point> nbf;   ///< Not before; nullopt when not sent.
  std::string sub;                 ///< Subject: the resource owner's identifier.
  std::vector<std::string> aud;    ///< A single string is a one-element list (RFC 7519 §4.1.3).
  std::string iss;                 ///< The token's issuer.
  std::string jti;                 ///< The token's identifier.
  nlohmann::json raw = nlohmann::json::object();  ///< The whole response object, as claims() returns it.

  /// The whole response, extension members included.
  [[nodiscard]] const nlohmann::json& claims() const noexcept { return raw; }
  /// Whether \p s is one of scope, compared exactly.
  [[nodiscard]] bool has_scope(std::string_view s) const {
    return std::find(scope.begin(), scope.end(), s) != scope.end();
  }
  /// Whether \p a is one of aud, compared exactly.
  [[nodiscard]] bool has_audience(std::string_view a) const { return std::find(aud.begin(), aud.end(), a) != aud.end(); }
};

namespace detail {

// Parses an introspection response (errors through parse_oauth_response: RFC 6749 §5.2 bodies,
// statuses, depth limit, duplicate members). "active" must be a boolean; each other member RFC 7662
// §2.2 defines must have its type when present (errc::parse naming the member, never its value).
// `now` and `leeway` decide `active` against exp and nbf.
inline IntrospectionResponse parse_introspection_response(const HttpResponse& r, std::chrono::system_clock::time_point now,
                                                          std::chrono::seconds leeway, const std::string& operation,
                                                          const std::vector<std::string_view>& secrets) {
  auto body = parse_oauth_response(r, operation, secrets);
  const auto bad = [&](const char* name, const char* what) {
    throw_malformed(errc::parse, r, operation, std::string("\"") + name + "\" " + what, secrets);
  };
  IntrospectionResponse out;
  const auto active = body.find("active");
  if (active == body.end()) bad("active", "is missing (RFC 7662 §2.2 requires it)");
  if (!active->is_boolean()) bad("active", "is not a boolean");
  out.server_active = active->get<bool>();

  const auto string_member = [&](const char* name, std::string& to) {
    const auto it = body.find(name);
    if (it == body.end()) return;
    if (!it->is_string()) bad(name, "is not a string");
    to = it->get<std::string>();
  };
  for (const auto& [name, to] : {std::pair<const char*, std::string*>{"client_id", &out.client_id},
                                 {"username", &out.username},
                                 {"token_type", &out.token_type},
                                 {"sub", &out.sub},
                                 {"iss", &out.iss},
                                 {"jti", &out.jti}})
    string_member(name, *to);

  std::string scope;
  string_member("scope", scope);
  if (!is_scope(scope)) bad("scope", "is not RFC 6749 scope-tokens separated by spaces");
  for (std::size_t i = 0; i < scope.size();) {
    const auto end = std::min(scope.find(' ', i), scope.size());
    if (end > i) out.scope.push_back(scope.substr(i, end - i));
    i = end + 1;
  }

  if (const auto it = body.find("aud"); it != body.end()) {
    if (it->is_string()) {
      out.aud.push_back(it->get<std::string>());
    } else if (it->is_array() && std::all_of(it->begin(), it->end(), [](const auto& a) { return a.is_string(); })) {
      for (const auto& a : *it) out.aud.push_back(a.template get<std::string>());
    } else {
      bad("aud", "is neither a string nor an array of strings");
    }
  }

  for (const auto& [name, to] : {std::pair<const char*, std::optional<IntrospectionResponse::time_point>*>{"exp", &out.exp},
                                 {"iat", &out.iat},
                                 {"nbf", &out.nbf}}) {
    const auto it = body.find(name);
    if (it == body.end()) continue;
    *to = numeric_date(*it);
    if (!*to) bad(name, "is not a NumericDate (seconds since 1970 as a JSON number)");
  }

  out.active = out.server_active && !(out.exp && now >= *out.exp + leeway) && !(out.nbf && now + leeway < *out.nbf);
  out.raw = std::move(body);
  return out;
}

// POSTs `token` (and `token_type_hint` when not empty) to the introspection endpoint with the
// context's client authentication (RFC 7662 §2.1) and parses the answer.
inline IntrospectionResponse introspect(const RequestContext& ctx, const std::string& url, std::string_view token,
                                        std::string_view token_type_hint, std::chrono::system_clock::time_point now,
                                        std::chrono::seconds leeway) {
  const std::string operation = "token introspection";
  if (url.empty()) throw Error(errc::config, operation, "no introspection_endpoint configured");
  if (token.empty()) throw Error(errc::config, operation, "the token to introspect is empty");
  Params form{{"token", std::string(token)}};
  if (!token_type_hint.empty()) form.emplace_back("token_type_hint", std::string(token_type_hint));
  const auto response = post_form(ctx, url, std::move(form), operation);
  return parse_introspection_response(response.response, now, leeway, operation, response.secret_views());
}

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_INTROSPECTION_HPP
