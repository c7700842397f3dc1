#include "oidc/transport.hpp"

#include "oidc/error.hpp"
#ifdef OIDC_WITH_CURL
#include "oidc/curl_transport.hpp"
#endif

namespace oidc {

std::shared_ptr<Transport> default_transport() {
#ifdef OIDC_WITH_CURL
  // One shared transport, so every default Client shares its pooled connections.
  static const std::shared_ptr<Transport> transport = make_curl_transport();
  return transport;
#else
  throw Error(errc::config, "client configuration",
              "no transport configured and the library was built without libcurl (OIDC_WITH_CURL=OFF)");
#endif
}

}  // namespace oidc
