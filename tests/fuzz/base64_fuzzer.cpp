// detail::base64_encode / base64url_encode / base64_decode. Invariants: both alphabets round-trip
// any bytes; base64url_encode is base64_encode(url = true); whatever base64_decode accepts
// re-encodes to something that decodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "oidc/detail/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace oidc::detail;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto std_form = base64_encode(in);
  const auto url_form = base64url_encode(in);
  oidc_fuzz::check(url_form == base64_encode(in, true), "base64url_encode(x) == base64_encode(x, true)", in);
  oidc_fuzz::check(base64_decode(std_form) == std::string(in), "base64_decode(base64_encode(x)) == x", std_form);
  oidc_fuzz::check(base64_decode(url_form) == std::string(in), "base64_decode(base64url_encode(x)) == x", url_form);
  oidc_fuzz::check(url_form.find_first_of("+/=") == std::string::npos, "base64url has no '+', '/' or '='",
                   url_form);
  if (const auto decoded = base64_decode(in)) {
    oidc_fuzz::check(base64_decode(base64url_encode(*decoded)) == *decoded, "decoded bytes re-encode stably", in);
  }
  return 0;
}
