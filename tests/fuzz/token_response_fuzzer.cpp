// oidc::parse_token_response on a fuzzed HTTP response (status, headers, body; fuzz_support.hpp
// has the text format). Invariants: only oidc::Error escapes; its what() carries no control byte;
// a returned token's Authorization header value has no CR, LF or NUL (header injection).
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "oidc/error.hpp"
#include "oidc/token_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto response = oidc_fuzz::parse_http({reinterpret_cast<const char*>(data), size});
  const oidc::Token::time_point now{std::chrono::seconds{1'700'000'000}};
  try {
    const auto token = oidc::parse_token_response(response, now, "token request", {oidc_fuzz::kSecret});
    oidc_fuzz::check(!oidc_fuzz::has_crlf_nul(token.authorization_header()),
                     "authorization_header() has no CR, LF or NUL", token.authorization_header());
  } catch (const oidc::Error& e) {
    oidc_fuzz::check_error(e);
  }
  return 0;
}
