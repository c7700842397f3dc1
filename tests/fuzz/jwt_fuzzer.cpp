// detail::unverified_jwt_payload / unverified_jwt_exp, on arbitrary strings and on compact JWS
// "header.payload.sig" whose payload is fuzzed JSON text (so "exp" of every JSON type and size is
// reached). Invariant: nothing throws, nothing is undefined behaviour; an "exp" that is a whole
// number in int64 range comes back as it was.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace oidc::detail;
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    const auto jwt = in.ConsumeRemainingBytesAsString();
    (void)unverified_jwt_payload(jwt);
    (void)unverified_jwt_exp(jwt);
    return 0;
  }
  const auto header = in.ConsumeRandomLengthString(64);
  const auto payload_json = in.ConsumeRemainingBytesAsString();
  const auto jwt = base64url_encode(header) + "." + base64url_encode(payload_json) + ".c2ln";
  const auto payload = unverified_jwt_payload(jwt);
  const auto exp = unverified_jwt_exp(jwt);
  const auto parsed = nlohmann::json::parse(payload_json, nullptr, false);
  oidc_fuzz::check(payload.has_value() == parsed.is_object(), "the payload is read exactly when it is an object",
                   payload_json);
  if (parsed.is_object()) {
    const auto it = parsed.find("exp");
    if (it != parsed.end() && it->is_number_integer() &&
        (it->is_number_unsigned() ? it->get<std::uint64_t>() <= INT64_MAX : true))
      oidc_fuzz::check(exp == it->get<std::int64_t>(), "an integral exp comes back unchanged", payload_json);
  }
  return 0;
}
