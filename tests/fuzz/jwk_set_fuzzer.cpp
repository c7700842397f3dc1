// JwkSet::parse on arbitrary bytes: a typed error or a set, never a crash, a leak or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oidc/error.hpp"
#include "oidc/jwk_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto set = oidc::JwkSet::parse(text);
    for (const auto& k : set.keys()) (void)k.accepts(oidc::JwsAlgorithm::RS256);
  } catch (const oidc::Error&) {
  }
  return 0;
}
