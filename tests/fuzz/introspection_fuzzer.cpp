// detail::parse_introspection_response on a fuzzed HTTP response (fuzz_support.hpp has the text
// format). Invariants: only oidc::Error escapes; its what() and parts carry no control byte nor
// the sent secret; an accepted response has a boolean "active" equal to server_active, active
// implies server_active, active is false once exp is past the leeway, and every scope entry is a
// non-empty scope-token.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/introspection.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto response = oidc_fuzz::parse_http({reinterpret_cast<const char*>(data), size});
  const std::chrono::system_clock::time_point now{std::chrono::seconds{1'700'000'000}};
  const std::chrono::seconds leeway{30};
  try {
    const auto r = oidc::detail::parse_introspection_response(response, now, leeway, "token introspection",
                                                              {oidc_fuzz::kSecret});
    oidc_fuzz::check(r.claims().at("active").is_boolean() && r.claims().at("active") == r.server_active,
                     "active is the server's boolean");
    oidc_fuzz::check(!r.active || r.server_active, "active implies server_active");
    oidc_fuzz::check(!(r.active && r.exp && now >= *r.exp + leeway), "an expired token is not active");
    for (const auto& s : r.scope)
      oidc_fuzz::check(oidc::detail::is_scope_token(s), "scope entries are scope-tokens", s);
  } catch (const oidc::Error& e) {
    oidc_fuzz::check_error(e);
  }
  return 0;
}
