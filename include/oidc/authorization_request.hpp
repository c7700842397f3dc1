#ifndef OIDC_AUTHORIZATION_REQUEST_HPP
#define OIDC_AUTHORIZATION_REQUEST_HPP

/// \file
/// The authorization request (RFC 6749 §4.1.1) with PKCE (RFC 7636), resource indicators (RFC 8707)
/// and, through Client, pushed authorization requests (RFC 9126). An AuthorizationRequest holds what
/// the response must be checked against and what the code exchange needs; it is move-only and
/// Client::exchange_code consumes it, so one request yields at most one exchange.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/crypto.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/failure.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/http.hpp"
#include "oidc/error.hpp"
#include "oidc/pkce.hpp"
#include "oidc/secret.hpp"

namespace oidc {

class Client;

/// What the application chooses for Client::authorization_request (and Client::implicit_request).
/// `redirect_uri` is required; the rest has safe defaults. Client::authorization_request throws
/// oidc::Error with errc::config for a redirect_uri that is not absolute or has a fragment (RFC 6749
/// §3.1.2), a scope that is not RFC 6749 §3.3 scope-tokens, a resource that is not an absolute URI
/// without fragment, a parameter in `extra` that one of these members sets, or a state or nonce
/// outside printable ASCII.
struct AuthorizationOptions {
  std::string redirect_uri{};           ///< Registered with the server; any scheme (RFC 8252 §7.1), no fragment.
  std::string scope{};                  ///< Space-delimited; "openid" adds a nonce.
  std::vector<std::string> resource{};  ///< RFC 8707, each an absolute URI; sent again in the exchange.
  Params extra{};                       ///< prompt, login_hint, max_age, acr_values, ui_locales, audience, ...
  PkceMethod pkce_method = PkceMethod::S256;  ///< RFC 7636 §4.2 method of the generated pair.
  /// State the application brings itself (required without OpenSSL, see crypto.hpp); empty:
  /// 256 bits from the CSPRNG (RFC 6749 §10.10 asks for at least 128).
  std::string state{};
  std::string nonce{};         ///< OIDC Core §3.1.2.1 nonce, as `state`; used only with "openid".
  std::optional<Pkce> pkce{};  ///< A PKCE pair brought by the application; unset: a fresh one.
  std::optional<CancelToken> cancel{};  ///< For the pushed authorization request, when one is made.
};

/// One authorization request: open url() in the user's browser, then hand the redirect to
/// Client::exchange_code together with this object. Made only by Client::authorization_request;
/// move-only, so the state, nonce and PKCE verifier it keeps are used for one exchange at most.
class AuthorizationRequest {
 public:
  AuthorizationRequest(AuthorizationRequest&&) noexcept = default;  ///< The moved-from request is no longer usable().
  AuthorizationRequest& operator=(AuthorizationRequest&&) noexcept = default;  ///< As the move constructor.
  AuthorizationRequest(const AuthorizationRequest&) = delete;
  AuthorizationRequest& operator=(const AuthorizationRequest&) = delete;
  ~AuthorizationRequest() = default;

  /// The authorization endpoint URL with the request's parameters (or, after PAR, only client_id
  /// and request_uri), for the user's browser.
  [[nodiscard]] const std::string& url() const noexcept { return url_; }
  /// The RFC 6749 §4.1.1 state the response must return; exchange_code checks it.
  [[nodiscard]] const std::string& state() const noexcept { return state_; }
  /// The OIDC nonce the ID token must carry; empty without openid.
  [[nodiscard]] const std::string& nonce() const noexcept { return nonce_; }
  [[nodiscard]] const std::string& redirect_uri() const noexcept { return redirect_uri_; }  ///< As requested.
  /// Whether the parameters went by PAR (RFC 9126).
  [[nodiscard]] bool pushed() const noexcept { return pushed_; }
  /// False once exchange_code consumed it (or it was moved from).
  [[nodiscard]] bool usable() const noexcept { return !state_.empty(); }

 private:
  friend class Client;
  AuthorizationRequest() = default;

  std::string url_, state_, nonce_, redirect_uri_;
  std::optional<std::chrono::seconds> max_age_;  // from extra "max_age": the ID token's auth_time is checked
  std::vector<std::string> resource_;
  Secret code_verifier_;
  bool pushed_ = false;
};

namespace detail {

// 32 CSPRNG bytes, base64url: 256 bits for state and nonce (RFC 6749 §10.10 asks for >= 128).
inline std::string random_token() {
  auto bytes = random_bytes(32);
  auto out = base64url_encode(bytes);
  secure_wipe(bytes);
  return out;
}

// RFC 6749 §3.1.2: an absolute URI without a fragment. Any scheme (RFC 8252 §7.1 private-use
// schemes such as com.example.app:/cb); printable ASCII without spaces, bounded.
inline std::optional<std::string> redirect_uri_problem(std::string_view uri) {
  if (uri.empty()) return "redirect_uri is required";
  if (uri.size() > 2048) return "redirect_uri is longer than 2048 bytes";
  for (const unsigned char c : uri)
    if (c <= 0x20 || c >= 0x7F) return "redirect_uri has spaces, control or non-ASCII characters";
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) return "redirect_uri is not an absolute URI";
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = uri[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!(alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
      return "redirect_uri is not an absolute URI";
  }
  if (uri.find('#') != std::string_view::npos) return "redirect_uri must not have a fragment (RFC 6749 §3.1.2)";
  return std::nullopt;
}

// The parameters the library sets itself; `extra` may not name them.
inline bool is_reserved_authorization_parameter(std::string_view name) noexcept {
  for (const char* n : {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                        "code_challenge_method", "resource", "request_uri"})
    if (name == n) return true;
  return false;
}

// `endpoint` with `params` appended to its query (a query it has is kept, RFC 6749 §3.1); a name
// given twice, here or already in the endpoint's query, is errc::config.
inline std::string authorization_url(std::string_view endpoint, const Params& params, const std::string& operation) {
  if (endpoint.find('#') != std::string_view::npos)
    throw Error(errc::config, operation, "the authorization endpoint has a fragment (RFC 6749 §3.1 forbids it)");
  std::vector<std::string> names;
  const auto q = endpoint.find('?');
  if (q != std::string_view::npos)
    for (auto& [name, unused] : form_decode(endpoint.substr(q + 1))) names.push_back(std::move(name));
  std::string url(endpoint);
  char sep = q == std::string_view::npos ? '?' : (url.back() == '?' || url.back() == '&' ? '\0' : '&');
  for (const auto& [name, value] : params) {
    for (const auto& seen : names)
      if (seen == name && name != "resource")
        throw Error(errc::config, operation, "parameter '" + name + "' given twice");
    names.push_back(name);
    if (sep) url += sep;
    sep = '&';
    url += form_encode_component(name);
    url += '=';
    url += form_encode_component(value);
  }
  return url;
}

// RFC 9126 §2.2: {"request_uri": "...", "expires_in": N}, usually with 201 Created. The
// request_uri goes into the browser's URL, so it must be a URI of printable ASCII without spaces.
inline std::string parse_pushed_authorization_response(const HttpResponse& response, const std::string& operation,
                                                       const std::vector<std::string_view>& secrets) {
  auto obj = parse_oauth_response(response, operation, secrets);
  const auto fail = [&](std::string why) { throw_malformed(errc::parse, response, operation, std::move(why), secrets); };
  const auto it = obj.find("request_uri");
  if (it == obj.end() || !it->is_string()) fail("response has no request_uri string");
  const auto& uri = it->get_ref<const std::string&>();
  if (uri.empty() || uri.size() > 2048 || uri.find(':') == std::string::npos) fail("request_uri is not a URI");
  for (const unsigned char c : uri)
    if (c <= 0x20 || c >= 0x7F) fail("request_uri has spaces, control or non-ASCII characters");
  if (!lifetime_member(obj, "expires_in")) fail("response has no positive expires_in");
  return uri;
}

}  // namespace detail

}  // namespace oidc

#endif  // OIDC_AUTHORIZATION_REQUEST_HPP
