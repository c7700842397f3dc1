#ifndef OIDC_TRANSPORT_HPP
#define OIDC_TRANSPORT_HPP

#include <functional>
#include <memory>
#include <utility>

#include "oidc/export.hpp"
#include "oidc/http.hpp"

namespace oidc {

/// Every request of the library goes through a Transport. Implementations must be safe to call
/// from many threads at once. Any HTTP status is a response; when no complete response arrives,
/// send() throws oidc::Error with a transport code (transport, dns, connect, tls, timeout,
/// response_too_large, protocol for broken framing, cancelled when HttpRequest::cancel fired) and
/// a message that does not contain the request body. A malformed request (a method that is not a
/// token, a URL that is not printable ASCII, an invalid header field) is refused with
/// `errc::invalid_request` before anything is sent. Do not follow redirects (the curl transport
/// does not): the library answers a 3xx as it is, and following redirects enables SSRF.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Sends \p request and returns the complete response, whatever its status.
  /// \throws oidc::Error with one of the codes above when no complete response arrives.
  [[nodiscard]] virtual HttpResponse send(const HttpRequest& request) = 0;
};

/// What make_transport() adapts: returns the response or throws oidc::Error, as Transport::send().
using TransportFunction = std::function<HttpResponse(const HttpRequest&)>;

/// Adapts a callable, for tests and for bringing another HTTP stack. The request is validated
/// first (`errc::invalid_request`), as every transport must; \p fn must itself be safe to call
/// from many threads at once.
inline std::shared_ptr<Transport> make_transport(TransportFunction fn) {
  class FunctionTransport final : public Transport {
   public:
    explicit FunctionTransport(TransportFunction f) : fn_(std::move(f)) {}
    HttpResponse send(const HttpRequest& request) override {
      detail::validate_request(request);
      return fn_(request);
    }

   private:
    TransportFunction fn_;
  };
  return std::make_shared<FunctionTransport>(std::move(fn));
}

/// The transport a Client uses when none is configured: one shared libcurl transport (so default
/// Clients share pooled connections) when the library was built with OIDC_WITH_CURL.
/// \throws oidc::Error `errc::config` when it was built without libcurl. Defined in src/.
OIDC_API std::shared_ptr<Transport> default_transport();

}  // namespace oidc

#endif  // OIDC_TRANSPORT_HPP
