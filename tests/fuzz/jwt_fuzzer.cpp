// detail::unverified_jwt_payload / unverified_jwt_exp, on arbitrary strings and on compact JWS
// "header.payload.sig" whose payload is fuzzed JSON text (so "exp" of every JSON type and size is
// reached). Invariants: nothing throws, nothing is undefined behaviour; an exp hint is always in
// (now, now + max_lifetime]; an "exp" that is a whole number in that window comes back as it was.
#include <cstddef>
#include <cstdint>
#include <chrono>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace oidc::detail;
  FuzzedDataProvider in(data, size);
  const std::chrono::system_clock::time_point now{std::chrono::seconds{1'700'000'000}};
  auto check_window = [&](const std::optional<std::chrono::system_clock::time_point>& exp, std::string_view input) {
    oidc_fuzz::check(!exp || (*exp > now && *exp - now <= max_lifetime), "an exp hint lies in (now, now + 10 years]",
                     input);
  };
  if (in.ConsumeBool()) {
    const auto jwt = in.ConsumeRemainingBytesAsString();
    (void)unverified_jwt_payload(jwt);
    check_window(unverified_jwt_exp(jwt, now), jwt);
    return 0;
  }
  const auto header = in.ConsumeRandomLengthString(64);
  const auto payload_json = in.ConsumeRemainingBytesAsString();
  const auto jwt = base64url_encode(header) + "." + base64url_encode(payload_json) + ".c2ln";
  const auto payload = unverified_jwt_payload(jwt);
  const auto exp = unverified_jwt_exp(jwt, now);
  check_window(exp, payload_json);
  const auto parsed = nlohmann::json::parse(payload_json, nullptr, false);
  // The bounded parser may refuse more (depth, duplicate members), never accept a non-object.
  oidc_fuzz::check(!payload || parsed.is_object(), "a payload is read only when it is an object", payload_json);
  if (parsed.is_object()) {
    const auto it = parsed.find("exp");
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const auto max_s = std::chrono::duration_cast<std::chrono::seconds>(max_lifetime).count();
    // Only exp members our bounded parser also sees once (a duplicated one is no hint).
    const bool integral_in_window = it != parsed.end() && it->is_number_integer() && !it->is_number_unsigned() &&
                                    it->get<std::int64_t>() > now_s && it->get<std::int64_t>() - now_s <= max_s;
    if (integral_in_window && payload)
      oidc_fuzz::check(exp == std::chrono::system_clock::time_point{std::chrono::seconds{it->get<std::int64_t>()}},
                       "an integral exp in the window comes back unchanged", payload_json);
  }
  return 0;
}
