// JWTs from a server. A first bool picks the mode:
//  raw: detail::unverified_jwt_payload / unverified_jwt_exp, parse_jws and validate_id_token
//       (against a fixed RS256 key) on arbitrary strings;
//  structured: the exp hint of "header.payload.sig" whose payload is fuzzed JSON text (so "exp"
//       of every JSON type and size is reached), then validate_id_token of that header and payload
//       signed by the harness with the client secret (HS256), so every claim rule is reached.
// Invariants: nothing but oidc::Error is thrown, nothing is undefined behaviour, messages have no
// control byte; an exp hint is always in (now, now + max_lifetime], an integral "exp" in that
// window comes back as it was; an accepted ID token has the expected iss, an aud with the client
// id, is not expired and carries the nonce sent.
#include <cstddef>
#include <cstdint>
#include <chrono>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/jwt.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/id_token.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwt.hpp"

namespace {

using namespace oidc::detail;
const std::chrono::system_clock::time_point now{std::chrono::seconds{1'700'000'000}};
const std::string issuer = "https://sso.example.com/realms/core";
const oidc::Secret client_secret("fuzz-client-secret-0123456789abcdef");

const oidc::StaticKeySource& rsa_keys() {
  static const auto key = oidc::SigningKey::generate(oidc::JwsAlgorithm::RS256, "k1");
  static const oidc::StaticKeySource keys(oidc::JwkSet({key.verification_key()}));
  return keys;
}

oidc::IdTokenChecks checks() {
  oidc::IdTokenChecks c;
  c.issuer = issuer;
  c.client_id = "my-app";
  c.algorithms = {oidc::JwsAlgorithm::RS256, oidc::JwsAlgorithm::HS256};
  c.client_secret = client_secret;
  c.now = now;
  c.nonce = "n-1";
  return c;
}

void check_clean(const oidc::Error& e, std::string_view input) {
  const std::string what = e.what();
  oidc_fuzz::check(printable(what).size() == what.size() + [&] {
    std::size_t n = 0;
    for (char c : what) n += c == '\\' ? 1 : 0;
    return n;
  }(), "an error message has no control byte", input);
}

void validate(std::string_view jwt, std::string_view input) {
  try {
    (void)oidc::parse_jws(jwt, "fuzz");
  } catch (const oidc::Error& e) {
    check_clean(e, input);
  }
  try {
    const auto t = oidc::validate_id_token(jwt, rsa_keys(), checks());
    bool has_client = false;
    for (const auto& a : t.audience()) has_client = has_client || a == "my-app";
    oidc_fuzz::check(t.issuer() == issuer && has_client && t.expires_at() + std::chrono::seconds{30} > now &&
                         t.nonce() == std::string("n-1") && !t.subject().empty(),
                     "an accepted ID token passed every rule", input);
  } catch (const oidc::Error& e) {
    check_clean(e, input);
  }
}

void hint_and_validate(FuzzedDataProvider& in) {
  auto check_window = [&](const std::optional<std::chrono::system_clock::time_point>& exp, std::string_view input) {
    oidc_fuzz::check(!exp || (*exp > now && *exp - now <= max_lifetime), "an exp hint lies in (now, now + 10 years]",
                     input);
  };
  if (in.ConsumeBool()) {
    const auto jwt = in.ConsumeRemainingBytesAsString();
    (void)unverified_jwt_payload(jwt);
    check_window(unverified_jwt_exp(jwt, now), jwt);
    validate(jwt, jwt);
    return;
  }
  auto header_text = in.ConsumeRandomLengthString(64);
  const auto payload_json = in.ConsumeRemainingBytesAsString();
  const auto jwt = base64url_encode(header_text) + "." + base64url_encode(payload_json) + ".c2ln";
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
  // The same header (alg forced to HS256 when it is an object) and payload, signed with the client
  // secret, so validate_id_token reaches every claim rule.
  auto header = nlohmann::json::parse(header_text, nullptr, false);
  if (header.is_object()) {
    header["alg"] = "HS256";
    header_text = header.dump();
  }
  const auto input = base64url_encode(header_text) + "." + base64url_encode(payload_json);
  static const auto signer = oidc::SigningKey::from_secret(client_secret, oidc::JwsAlgorithm::HS256);
  validate(input + "." + base64url_encode(signer.sign(input)), payload_json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  hint_and_validate(in);
  return 0;
}
