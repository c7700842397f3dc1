#ifndef OIDC_TESTS_TEST_KEYS_HPP
#define OIDC_TESTS_TEST_KEYS_HPP

// Signing keys for tests: generated once per (algorithm, kid) per test process, because an RSA
// key takes OpenSSL tens of milliseconds and hundreds of tests want one.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/jose.hpp"

namespace oidc_testing {

inline const oidc::SigningKey& test_key(oidc::JwsAlgorithm alg, const std::string& kid = "k1") {
  static std::mutex mutex;
  static std::map<std::pair<oidc::JwsAlgorithm, std::string>, oidc::SigningKey> keys;  // node-stable
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = keys.find({alg, kid});
  if (it == keys.end()) it = keys.emplace(std::make_pair(alg, kid), oidc::SigningKey::generate(alg, kid)).first;
  return it->second;
}

// The JWK Set document ({"keys": [...]}) of these keys' public halves. HMAC keys have none and
// are left out.
inline nlohmann::json jwks_json(const std::vector<oidc::SigningKey>& keys) {
  nlohmann::json set = {{"keys", nlohmann::json::array()}};
  for (const auto& k : keys)
    if (!oidc::is_symmetric(k.algorithm())) set["keys"].push_back(k.public_jwk());
  return set;
}

inline std::string jwks_document(const std::vector<oidc::SigningKey>& keys) { return jwks_json(keys).dump(); }

}  // namespace oidc_testing

#endif  // OIDC_TESTS_TEST_KEYS_HPP
