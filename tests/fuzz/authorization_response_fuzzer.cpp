// oidc::parse_authorization_response on fuzzed redirects: a whole URL, a bare query or a fragment,
// checked against a fixed state and issuer, iss required or not. Invariants: only oidc::Error
// escapes, with clean messages (fuzz_support check_clean); an accepted response carries exactly
// the expected state, an iss that is absent or the expected one (present when required, VSCHAR), and a
// non-empty VSCHAR code; no accepted response has a parameter twice.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"
#include "oidc/authorization_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  oidc::AuthorizationResponseChecks checks;
  checks.state = "st-0123456789abcdef";
  checks.issuer = in.ConsumeBool() ? "https://issuer.example" : "";
  checks.iss_required = in.ConsumeBool();
  const auto where = in.ConsumeBool() ? oidc::ResponseLocation::query : oidc::ResponseLocation::fragment;
  const auto callback = in.ConsumeRemainingBytesAsString();
  try {
    const auto r = oidc::parse_authorization_response(callback, checks, where);
    oidc_fuzz::check(r.state == checks.state, "an accepted response has the request's state", r.state);
    oidc_fuzz::check(r.iss.empty() ? !checks.iss_required : (checks.issuer.empty() || r.iss == checks.issuer),
                     "an accepted iss is the expected issuer, and present when required", r.iss);
    oidc_fuzz::check(r.iss.empty() || oidc::detail::is_vschar_string(r.iss), "an accepted iss is VSCHAR", r.iss);
    oidc_fuzz::check(oidc::detail::is_vschar_string(r.code.expose()), "an accepted code is VSCHAR", r.code.expose());
    for (const auto& [name, value] : r.extra)
      oidc_fuzz::check(name != "code" && name != "state" && name != "iss" && name != "error",
                       "known parameters are not left in extra", name);
  } catch (const oidc::Error& e) {
    // check_clean, not check_error: no secret is sent, and a refusal quotes a parameter's name.
    oidc_fuzz::check_clean(e);
  }
  return 0;
}
