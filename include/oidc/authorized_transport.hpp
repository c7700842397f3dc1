#ifndef OIDC_AUTHORIZED_TRANSPORT_HPP
#define OIDC_AUTHORIZED_TRANSPORT_HPP

#include <memory>
#include <utility>

#include "oidc/detail/url.hpp"
#include "oidc/error.hpp"
#include "oidc/token_source.hpp"
#include "oidc/transport.hpp"

namespace oidc {

/// \file
/// make_authorized_transport(): a Transport that authorizes requests to resource servers.

/// A Transport for calling resource servers (golang.org/x/oauth2's Transport): adds
/// `Authorization: <type> <token>` from the source to a copy of each request. When the answer is
/// 401, that token is invalidated (compare-and-drop: concurrent 401s for one token cause one
/// renewal) and the request retried once with a fresh one, covering tokens revoked or rotated
/// server-side before their expiry. The second answer is returned as is, even a 401.
///
/// A bearer token is refused to http:// URLs of non-loopback hosts (errc::insecure_url, before any
/// token is fetched), as anyone on the path could replay it; \p allow_insecure_http permits them,
/// for tests behind TLS-terminating proxies only.
///
/// Errors from \p source (renewal failures) and \p base propagate unchanged. Thread-safe as far as
/// \p source and \p base are; the returned transport shares ownership of both.
/// \throws oidc::Error with errc::config when \p source or \p base is null.
inline std::shared_ptr<Transport> make_authorized_transport(std::shared_ptr<TokenSource> source,
                                                            std::shared_ptr<Transport> base,
                                                            bool allow_insecure_http = false) {
  class AuthorizedTransport final : public Transport {
   public:
    AuthorizedTransport(std::shared_ptr<TokenSource> s, std::shared_ptr<Transport> b, bool allow_http)
        : source_(std::move(s)), base_(std::move(b)), allow_insecure_http_(allow_http) {
      if (!source_ || !base_) throw Error(errc::config, "authorized transport", "token source and transport required");
    }
    HttpResponse send(const HttpRequest& request) override {
      detail::require_secure_url(request.url, allow_insecure_http_, "authorized request");
      HttpRequest authorized = request;
      std::shared_ptr<const Token> token = source_->token();
      authorized.headers.set("Authorization", token->authorization_header());
      HttpResponse response = base_->send(authorized);
      if (response.status != 401) return response;
      source_->invalidate(*token);
      token = source_->token();
      authorized.headers.set("Authorization", token->authorization_header());
      return base_->send(authorized);
    }

   private:
    std::shared_ptr<TokenSource> source_;
    std::shared_ptr<Transport> base_;
    bool allow_insecure_http_;
  };
  return std::make_shared<AuthorizedTransport>(std::move(source), std::move(base), allow_insecure_http);
}

}  // namespace oidc

#endif  // OIDC_AUTHORIZED_TRANSPORT_HPP
