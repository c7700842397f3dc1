#ifndef OIDC_TRANSPORT_HPP
#define OIDC_TRANSPORT_HPP

#include <functional>
#include <memory>
#include <utility>

#include "oidc/export.hpp"
#include "oidc/http.hpp"

namespace oidc {

// Every request of the library goes through a Transport. Implementations must be safe to call from
// many threads at once. Any HTTP status is a response; when no complete response arrives, send()
// throws oidc::Error with a transport code (transport, dns, connect, tls, timeout,
// response_too_large, protocol for broken framing, cancelled when HttpRequest::cancel fired) and a
// message that does not contain the request body. A request that fails detail::validate_request
// is refused with errc::invalid_request before anything is sent.
class Transport {
 public:
  virtual ~Transport() = default;
  [[nodiscard]] virtual HttpResponse send(const HttpRequest& request) = 0;
};

using TransportFunction = std::function<HttpResponse(const HttpRequest&)>;

// Adapts a callable, for tests and for bringing another HTTP stack.
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

// The transport a Client uses when none is configured: libcurl when the library was built with
// OIDC_WITH_CURL, otherwise it throws oidc::Error(errc::config). Defined in src/.
OIDC_API std::shared_ptr<Transport> default_transport();

}  // namespace oidc

#endif  // OIDC_TRANSPORT_HPP
