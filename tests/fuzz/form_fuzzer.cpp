// detail::form_encode / form_decode. Invariants: decode(encode(params)) == params for any
// parameters (even an empty pair encodes as "="); decoding arbitrary bytes is stable:
// decode(encode(decode(x))) == decode(x).
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"
#include "oidc/detail/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto raw = in.ConsumeRandomLengthString(size);
  const auto decoded = oidc::detail::form_decode(raw);
  oidc_fuzz::check(oidc::detail::form_decode(oidc::detail::form_encode(decoded)) == decoded,
                   "form_decode(form_encode(form_decode(x))) == form_decode(x)", raw);

  oidc::Params params;
  while (in.remaining_bytes() > 0 && params.size() < 16) {
    auto name = in.ConsumeRandomLengthString(64);
    auto value = in.ConsumeRandomLengthString(256);
    params.emplace_back(std::move(name), std::move(value));
  }
  const auto encoded = oidc::detail::form_encode(params);
  oidc_fuzz::check(oidc::detail::form_decode(encoded) == params, "form_decode(form_encode(params)) == params",
                   encoded);
  for (const auto& [name, value] : params) {
    oidc_fuzz::check(oidc::detail::form_decode_component(oidc::detail::form_encode_component(value)) == value,
                     "form_decode_component(form_encode_component(v)) == v", value);
    (void)name;
  }
  return 0;
}
