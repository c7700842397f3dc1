// ID token validation (issue 14, item 10): oidc::validate_id_token with a StaticKeySource (the
// keys prepared once, as a JwksCache holds them) against a bare OpenSSL EVP_DigestVerify of the
// same token's signing input with the same key, prepared once. Target: library <= 1.3x bare for
// RS256; ES256 and EdDSA rows too. Each iteration runs both, alternating which goes first, timed
// separately (paired, so machine drift hits both alike); the ratio lines come last.
//
//   cmake --preset bench -B build/bench && cmake --build build/bench --target oidc_id_token_benchmark
//   build/bench/benchmarks/oidc_id_token_benchmark

#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/id_token.hpp"
#include "oidc/jwk_set.hpp"

namespace {

using oidc::JwsAlgorithm;
using clock_type = std::chrono::steady_clock;

const std::chrono::system_clock::time_point kNow{std::chrono::seconds{1'700'000'000}};

// What the bare baseline needs: the public key as an EVP_PKEY (read from the generated key's PEM
// once) and the digest of the algorithm (none for EdDSA).
struct Bare {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  const EVP_MD* md = nullptr;
  bool ecdsa = false;
};

struct Case {
  oidc::SigningKey signer;
  std::string jwt;
  std::string signing_input, signature;  // for the baseline
  std::unique_ptr<oidc::StaticKeySource> keys;
  oidc::IdTokenChecks checks;
  Bare bare;
};

Case make_case(JwsAlgorithm alg) {
  Case c{oidc::SigningKey::generate(alg, "bench-key"), {}, {}, {}, {}, {}, {}};
  // A Keycloak-sized ID token.
  const nlohmann::json claims = {
      {"iss", "https://sso.example.com/realms/core"}, {"sub", "f1b0c7e2-3c1a-4d5e-9f00-2b6a7c8d9e0f"},
      {"aud", "my-app"}, {"exp", 1'700'000'300}, {"iat", 1'700'000'000}, {"auth_time", 1'699'999'990},
      {"nonce", "n-0S6_WzA2Mj"}, {"azp", "my-app"}, {"session_state", "9f2c3d4e-5a6b-7c8d-9e0f-1a2b3c4d5e6f"},
      {"acr", "1"}, {"email_verified", true}, {"name", "Alice Example"}, {"preferred_username", "alice"},
      {"given_name", "Alice"}, {"family_name", "Example"}, {"email", "alice@example.com"}};
  c.jwt = oidc::sign_compact_jws(c.signer, {{"typ", "JWT"}}, claims);
  c.signing_input = c.jwt.substr(0, c.jwt.rfind('.'));
  c.signature = *oidc::detail::base64url_decode_strict(c.jwt.substr(c.jwt.rfind('.') + 1));
  nlohmann::json set = {{"keys", {c.signer.public_jwk()}}};
  c.keys = std::make_unique<oidc::StaticKeySource>(oidc::JwkSet::parse(set.dump()));
  c.checks.issuer = "https://sso.example.com/realms/core";
  c.checks.client_id = "my-app";
  c.checks.algorithms = {alg};
  c.checks.now = kNow;
  c.checks.nonce = "n-0S6_WzA2Mj";

  const auto pem = c.signer.private_pem();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.expose().data(), static_cast<int>(pem.expose().size())),
                                                BIO_free);
  c.bare.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!c.bare.key) throw std::runtime_error("cannot read the generated key");
  c.bare.md = alg == JwsAlgorithm::EdDSA ? nullptr : EVP_sha256();
  c.bare.ecdsa = alg == JwsAlgorithm::ES256;
  return c;
}

// What an application writing OpenSSL by hand does per token: (for ECDSA, r||s to DER) then one
// EVP_DigestVerify with the prepared key.
bool bare_verify(const Case& c, EVP_MD_CTX* ctx) {
  std::string der;
  const unsigned char* sig = reinterpret_cast<const unsigned char*>(c.signature.data());
  std::size_t sig_len = c.signature.size();
  if (c.bare.ecdsa) {
    ECDSA_SIG* s = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(sig, static_cast<int>(sig_len / 2), nullptr);
    BIGNUM* v = BN_bin2bn(sig + sig_len / 2, static_cast<int>(sig_len / 2), nullptr);
    ECDSA_SIG_set0(s, r, v);
    unsigned char* out = nullptr;
    const int n = i2d_ECDSA_SIG(s, &out);
    der.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    ECDSA_SIG_free(s);
    sig = reinterpret_cast<const unsigned char*>(der.data());
    sig_len = der.size();
  }
  EVP_MD_CTX_reset(ctx);
  if (EVP_DigestVerifyInit(ctx, nullptr, c.bare.md, nullptr, c.bare.key.get()) != 1) return false;
  return EVP_DigestVerify(ctx, sig, sig_len, reinterpret_cast<const unsigned char*>(c.signing_input.data()),
                          c.signing_input.size()) == 1;
}

struct Result {
  double library_us = 0, bare_us = 0;
};
std::map<std::string, Result>& results() {
  static std::map<std::string, Result> r;
  return r;
}

void BM_PairedIdTokenVsBareVerify(benchmark::State& state, JwsAlgorithm alg) {
  const Case c = make_case(alg);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!bare_verify(c, ctx.get())) {
    state.SkipWithError("the bare verify failed");
    return;
  }
  (void)oidc::validate_id_token(c.jwt, *c.keys, c.checks);  // throws if the setup is wrong
  double library_s = 0, bare_s = 0;
  bool library_first = false;
  for (auto _ : state) {
    library_first = !library_first;
    for (int pass = 0; pass < 2; ++pass) {
      const auto t0 = clock_type::now();
      if ((pass == 0) == library_first) {
        auto t = oidc::validate_id_token(c.jwt, *c.keys, c.checks);
        benchmark::DoNotOptimize(t);
        library_s += std::chrono::duration<double>(clock_type::now() - t0).count();
      } else {
        benchmark::DoNotOptimize(bare_verify(c, ctx.get()));
        bare_s += std::chrono::duration<double>(clock_type::now() - t0).count();
      }
    }
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["library_us"] = library_s / n * 1e6;
  state.counters["bare_us"] = bare_s / n * 1e6;
  state.counters["ratio"] = library_s / bare_s;
  auto& r = results()[std::string(oidc::to_string(alg))];
  r.library_us = library_s / n * 1e6;
  r.bare_us = bare_s / n * 1e6;
}
BENCHMARK_CAPTURE(BM_PairedIdTokenVsBareVerify, RS256, JwsAlgorithm::RS256)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PairedIdTokenVsBareVerify, ES256, JwsAlgorithm::ES256)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PairedIdTokenVsBareVerify, EdDSA, JwsAlgorithm::EdDSA)->Unit(benchmark::kMicrosecond);

// The library's own work without the signature: parse_jws and the claim checks of an HS256 token
// are dominated by base64url and JSON, not by the HMAC.
void BM_ParseJwsOnly(benchmark::State& state) {
  const Case c = make_case(JwsAlgorithm::RS256);
  for (auto _ : state) {
    auto jws = oidc::parse_jws(c.jwt, "bench");
    benchmark::DoNotOptimize(jws);
  }
}
BENCHMARK(BM_ParseJwsOnly)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const auto& [alg, r] : results()) {
    const double ratio = r.library_us / r.bare_us;
    std::printf("ratio validate_id_token/bare EVP_DigestVerify %s: %.3f (library %.1f us, bare %.1f us)%s\n",
                alg.c_str(), ratio, r.library_us, r.bare_us,
                alg == "RS256" ? (ratio <= 1.3 ? "; target <= 1.3: met" : "; target <= 1.3: NOT met") : "");
  }
  return 0;
}
