#ifndef OIDC_IMPLICIT_HPP
#define OIDC_IMPLICIT_HPP

// The implicit grant's request (RFC 6749 §4.2), kept for servers that offer nothing else (seed
// 002). Deprecated: the token travels in the browser's URL (RFC 9700 §2.1.2). See
// Client::implicit_request and Client::implicit_token.
#include <string>

namespace oidc {

class Client;

class ImplicitRequest {
 public:
  ImplicitRequest(ImplicitRequest&&) noexcept = default;
  ImplicitRequest& operator=(ImplicitRequest&&) noexcept = default;
  ImplicitRequest(const ImplicitRequest&) = delete;
  ImplicitRequest& operator=(const ImplicitRequest&) = delete;
  ~ImplicitRequest() = default;

  [[nodiscard]] const std::string& url() const noexcept { return url_; }
  [[nodiscard]] const std::string& state() const noexcept { return state_; }
  [[nodiscard]] const std::string& nonce() const noexcept { return nonce_; }
  [[nodiscard]] const std::string& redirect_uri() const noexcept { return redirect_uri_; }

 private:
  friend class Client;
  ImplicitRequest() = default;
  std::string url_, state_, nonce_, redirect_uri_;
};

}  // namespace oidc

#endif  // OIDC_IMPLICIT_HPP
