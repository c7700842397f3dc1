// detail::parse_pushed_authorization_response (RFC 9126 §2.2) on a fuzzed HTTP response
// (fuzz_support.hpp format). Invariants: only oidc::Error escapes, and a clean one; an accepted
// request_uri is 1-2048 bytes of printable ASCII without spaces and has a ':' (it goes into the
// browser's URL: a CR LF or an escape there reaches a Location header or the user's terminal).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "oidc/authorization_request.hpp"
#include "oidc/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto response = oidc_fuzz::parse_http({reinterpret_cast<const char*>(data), size});
  try {
    const auto uri =
        oidc::detail::parse_pushed_authorization_response(response, "pushed authorization request", {oidc_fuzz::kSecret});
    oidc_fuzz::check(!uri.empty() && uri.size() <= 2048, "request_uri is 1-2048 bytes", uri);
    oidc_fuzz::check(uri.find(':') != uri.npos, "request_uri has a scheme separator", uri);
    for (const unsigned char c : uri)
      oidc_fuzz::check(c > 0x20 && c < 0x7F, "request_uri is printable ASCII without spaces", uri);
  } catch (const oidc::Error& e) {
    oidc_fuzz::check_error(e);
  }
  return 0;
}
