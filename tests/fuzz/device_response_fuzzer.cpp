// oidc::parse_device_authorization_response on a fuzzed HTTP response (fuzz_support.hpp format).
// Invariants: only oidc::Error escapes; the user_code and URIs shown to the user carry no control
// byte (a terminal escape there rewrites what the user reads).
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "oidc/error.hpp"
#include "oidc/grants/device_code.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto response = oidc_fuzz::parse_http({reinterpret_cast<const char*>(data), size});
  const oidc::DeviceAuthorization::time_point now{std::chrono::seconds{1'700'000'000}};
  try {
    const auto a = oidc::parse_device_authorization_response(response, now, "device authorization",
                                                             {oidc_fuzz::kSecret});
    oidc_fuzz::check(!oidc_fuzz::has_control(a.user_code), "user_code has no control byte", a.user_code);
    oidc_fuzz::check(!oidc_fuzz::has_control(a.verification_uri), "verification_uri has no control byte",
                     a.verification_uri);
    oidc_fuzz::check(!oidc_fuzz::has_control(a.verification_uri_complete),
                     "verification_uri_complete has no control byte", a.verification_uri_complete);
  } catch (const oidc::Error&) {
  }
  return 0;
}
