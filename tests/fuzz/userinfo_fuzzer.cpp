// detail::parse_userinfo_response on a fuzzed HTTP response (status, headers such as
// WWW-Authenticate and Content-Type, body; fuzz_support.hpp has the text format), with and without
// an expected subject, and with a stub verifier for application/jwt that echoes the sent secret.
// Invariants: only oidc::Error escapes; its what() and parts carry no control byte nor the sent
// secret; an accepted response's subject is 1-255 bytes, equals the claims' "sub", and equals the
// expected subject when one was given.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "oidc/error.hpp"
#include "oidc/userinfo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto response = oidc_fuzz::parse_http({reinterpret_cast<const char*>(data), size});
  const oidc::UserInfoJwtVerifier verify = [](std::string_view, const std::string& operation) -> nlohmann::json {
    throw oidc::Error(oidc::errc::signature_invalid, operation, "stub verifier");
  };
  for (const char* expected : {"", "alice"}) {
    try {
      const auto info = oidc::detail::parse_userinfo_response(response, expected, size % 2 ? verify : nullptr,
                                                              "userinfo request", {oidc_fuzz::kSecret});
      oidc_fuzz::check(!info.subject().empty() && info.subject().size() <= oidc::detail::max_subject_bytes,
                       "subject is 1-255 bytes", info.subject());
      oidc_fuzz::check(info.claims().at("sub") == info.subject(), "subject() is the claims' sub", info.subject());
      oidc_fuzz::check(*expected == '\0' || info.subject() == expected, "subject equals the expected one",
                       info.subject());
    } catch (const oidc::Error& e) {
      oidc_fuzz::check_error(e);
    }
  }
  return 0;
}
