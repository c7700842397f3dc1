// JwkSet::parse and VerificationKey::from_jwk on arbitrary bytes: a typed error or a set, never a
// crash, a leak, a hang, or an exception other than oidc::Error (no nlohmann exception may leak
// through a member of the wrong type). Every parsed key then checks signatures of every
// algorithm: made of the input's tail, of a fixed pattern, and of every length around the
// algorithms' sizes, so the ECDSA r||s conversion and the HMAC comparison see all of them.
// Invariants: accepts() follows the key's type, curve and "alg"; a kid appears in at most one
// kept key; refusal reasons and error messages carry no control byte.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/error.hpp"
#include "oidc/jwk_set.hpp"

namespace {

using oidc::JwsAlgorithm;

void check_key(const oidc::VerificationKey& k, std::string_view tail) {
  static const std::string input = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmdXp6In0";
  static const std::size_t lengths[] = {0, 1, 31, 32, 33, 48, 63, 64, 65, 96, 131, 132, 133, 255, 256, 257, 512};
  bool any = false;
  for (const auto alg : oidc::all_jws_algorithms) {
    const bool accepts = k.accepts(alg);
    any = any || accepts;
    if (k.alg() && accepts) oidc_fuzz::check(*k.alg() == alg, "a JWK with alg accepts only that alg");
    if (accepts && oidc::is_symmetric(alg)) oidc_fuzz::check(k.type() == oidc::KeyType::oct, "HS* only with oct keys");
    if (accepts && !oidc::is_symmetric(alg)) oidc_fuzz::check(k.type() != oidc::KeyType::oct, "oct keys only HS*");
    bool verified = k.verify(alg, input, tail);
    for (const auto n : lengths) verified = k.verify(alg, input, std::string(n, '\x5a')) || verified;
    // A fixed pattern and the input's tail are not signatures of `input` by any honest key; an
    // oct key chosen by the input could make one, so only asymmetric keys are held to it.
    if (k.type() != oidc::KeyType::oct) oidc_fuzz::check(!verified, "a junk signature verifies", tail);
    if (!accepts) oidc_fuzz::check(!k.verify(alg, input, tail), "verify() true for an algorithm not accepted");
  }
  oidc_fuzz::check(any, "a parsed key accepts some algorithm");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string_view tail = text.substr(size > 132 ? size - 132 : 0);
  std::optional<oidc::JwkSet> set;
  try {
    set = oidc::JwkSet::parse(text);
    std::set<std::string> kids;
    for (const auto& k : set->keys()) {
      if (!k.kid().empty()) oidc_fuzz::check(kids.insert(k.kid()).second, "a kid is in at most one kept key", k.kid());
      check_key(k, tail);
    }
  } catch (const oidc::Error& e) {
    // Not check_error: this harness sends no secret, and a refusal quotes the (printable) kid.
    oidc_fuzz::check_clean(e);
  }
  // The same keys one by one, oct allowed, and the refusal reasons.
  auto doc = oidc::detail::parse_json(text);
  if (doc.ok() && doc.value.is_object()) {
    const auto it = doc.value.find("keys");
    if (it != doc.value.end() && it->is_array() && it->size() <= oidc::JwkSet::max_keys) {
      for (const auto& jwk : *it) {
        if (set && jwk.is_object() && jwk.contains("kid") && jwk["kid"].is_string())
          if (const std::string* why = set->refusal(jwk["kid"].get<std::string>()))
            oidc_fuzz::check(!oidc_fuzz::has_control(*why), "a refusal reason has no control byte", *why);
        try {
          check_key(oidc::VerificationKey::from_jwk(jwk, "JWK", true), tail);
        } catch (const oidc::Error& e) {
          oidc_fuzz::check_clean(e);
        }
      }
    }
  }
  return 0;
}
