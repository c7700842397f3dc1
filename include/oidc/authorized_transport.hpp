#ifndef OIDC_AUTHORIZED_TRANSPORT_HPP
#define OIDC_AUTHORIZED_TRANSPORT_HPP

#include <memory>
#include <utility>

#include "oidc/error.hpp"
#include "oidc/token_source.hpp"
#include "oidc/transport.hpp"

namespace oidc {

// A Transport for calling resource servers (golang.org/x/oauth2's Transport): adds
// `Authorization: <type> <token>` from the source to a copy of each request. When the answer is
// 401, the token is invalidated and the request retried once with a fresh one, covering tokens
// revoked or rotated server-side before their expiry.
inline std::shared_ptr<Transport> make_authorized_transport(std::shared_ptr<TokenSource> source,
                                                            std::shared_ptr<Transport> base) {
  class AuthorizedTransport final : public Transport {
   public:
    AuthorizedTransport(std::shared_ptr<TokenSource> s, std::shared_ptr<Transport> b)
        : source_(std::move(s)), base_(std::move(b)) {
      if (!source_ || !base_) throw Error(errc::config, "authorized transport", "token source and transport required");
    }
    HttpResponse send(const HttpRequest& request) override {
      HttpRequest authorized = request;
      authorized.headers.set("Authorization", source_->authorization_header());
      HttpResponse response = base_->send(authorized);
      if (response.status != 401) return response;
      source_->invalidate();
      authorized.headers.set("Authorization", source_->authorization_header());
      return base_->send(authorized);
    }

   private:
    std::shared_ptr<TokenSource> source_;
    std::shared_ptr<Transport> base_;
  };
  return std::make_shared<AuthorizedTransport>(std::move(source), std::move(base));
}

}  // namespace oidc

#endif  // OIDC_AUTHORIZED_TRANSPORT_HPP
