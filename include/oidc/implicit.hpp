#ifndef OIDC_IMPLICIT_HPP
#define OIDC_IMPLICIT_HPP

/// \file
/// The implicit grant's request (RFC 6749 §4.2), kept for servers that offer nothing else (seed
/// 002). Deprecated: the token travels in the browser's URL (RFC 9700 §2.1.2). See
/// Client::implicit_request and Client::implicit_token.
#include <string>

namespace oidc {

class Client;

/// One implicit grant request (RFC 6749 §4.2.1, response_type=token): open url() in the browser,
/// then pass the redirect to Client::implicit_token with this object. Made only by the deprecated
/// Client::implicit_request; move-only, so its state is checked against one response at most.
class ImplicitRequest {
 public:
  ImplicitRequest(ImplicitRequest&&) noexcept = default;  ///< The moved-from request must not be used.
  ImplicitRequest& operator=(ImplicitRequest&&) noexcept = default;  ///< As the move constructor.
  ImplicitRequest(const ImplicitRequest&) = delete;
  ImplicitRequest& operator=(const ImplicitRequest&) = delete;
  ~ImplicitRequest() = default;

  /// The authorization endpoint URL with the request's parameters, for the user's browser.
  [[nodiscard]] const std::string& url() const noexcept { return url_; }
  /// The state the redirect's fragment must return; implicit_token checks it.
  [[nodiscard]] const std::string& state() const noexcept { return state_; }
  /// The nonce a returned ID token must carry; empty without openid.
  [[nodiscard]] const std::string& nonce() const noexcept { return nonce_; }
  [[nodiscard]] const std::string& redirect_uri() const noexcept { return redirect_uri_; }  ///< As requested.

 private:
  friend class Client;
  ImplicitRequest() = default;
  std::string url_, state_, nonce_, redirect_uri_;
};

}  // namespace oidc

#endif  // OIDC_IMPLICIT_HPP
