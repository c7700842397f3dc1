// JWS keys and signatures with OpenSSL 3's EVP interface (no deprecated RSA_* / EC_KEY_* calls).
// Every key is checked and imported once, into an EVP_PKEY that KeyMaterial owns; verification
// then only builds a fresh EVP_MD_CTX per call, which is what makes one key safe to share
// between threads.
#include "oidc/jose.hpp"

#include <climits>
#include <cstring>
#include <utility>

#include "oidc/crypto.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"

#ifdef OIDC_WITH_OPENSSL
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#endif

namespace oidc {

#ifdef OIDC_WITH_OPENSSL

namespace detail {
// An asymmetric key (pkey) or an HMAC secret, never both. ec_size is the curve's field size in
// bytes for an EC key (32, 48, 66): the length of r and of s in a JOSE ECDSA signature.
struct KeyMaterial {
  EVP_PKEY* pkey = nullptr;
  Secret secret;
  int ec_size = 0;
  KeyMaterial() = default;
  KeyMaterial(const KeyMaterial&) = delete;
  KeyMaterial& operator=(const KeyMaterial&) = delete;
  ~KeyMaterial() { EVP_PKEY_free(pkey); }
};
}  // namespace detail

namespace {

using detail::KeyMaterial;

struct BnFree {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};
struct X509Free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using Bld = std::unique_ptr<OSSL_PARAM_BLD, BldFree>;
using Params = std::unique_ptr<OSSL_PARAM, ParamFree>;
using Sig = std::unique_ptr<ECDSA_SIG, SigFree>;

// OpenSSL's per-thread error queue is shared with the rest of the process (libcurl reads it to
// explain a failed TLS handshake): whatever our calls push there is removed on the way out, and
// only that.
struct ErrorMark {
  ErrorMark() noexcept { ERR_set_mark(); }
  ~ErrorMark() { ERR_pop_to_mark(); }
  ErrorMark(const ErrorMark&) = delete;
  ErrorMark& operator=(const ErrorMark&) = delete;
};

// RSA moduli below 2048 bits are breakable in practice (NIST SP 800-131A); above 16384 bits a
// verification costs a server-chosen amount of CPU for no security gain.
constexpr int min_rsa_bits = 2048;
constexpr int max_rsa_bits = 16384;
// Public exponents are small in practice (65537); 256 bits is FIPS 186-5's upper bound.
constexpr int max_rsa_e_bits = 256;

const unsigned char* bytes(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

const EVP_MD* md_for(JwsAlgorithm a) noexcept {
  switch (a) {
    case JwsAlgorithm::RS256:
    case JwsAlgorithm::PS256:
    case JwsAlgorithm::ES256:
    case JwsAlgorithm::HS256: return EVP_sha256();
    case JwsAlgorithm::RS384:
    case JwsAlgorithm::PS384:
    case JwsAlgorithm::ES384:
    case JwsAlgorithm::HS384: return EVP_sha384();
    case JwsAlgorithm::RS512:
    case JwsAlgorithm::PS512:
    case JwsAlgorithm::ES512:
    case JwsAlgorithm::HS512:
    case JwsAlgorithm::EdDSA: return EVP_sha512();
  }
  return nullptr;
}

bool is_rsa_alg(JwsAlgorithm a) noexcept {
  switch (a) {
    case JwsAlgorithm::RS256:
    case JwsAlgorithm::RS384:
    case JwsAlgorithm::RS512:
    case JwsAlgorithm::PS256:
    case JwsAlgorithm::PS384:
    case JwsAlgorithm::PS512: return true;
    default: return false;
  }
}

bool is_pss(JwsAlgorithm a) noexcept {
  return a == JwsAlgorithm::PS256 || a == JwsAlgorithm::PS384 || a == JwsAlgorithm::PS512;
}

// The ES* of a curve size, and back.
std::optional<JwsAlgorithm> es_for_size(int ec_size) noexcept {
  switch (ec_size) {
    case 32: return JwsAlgorithm::ES256;
    case 48: return JwsAlgorithm::ES384;
    case 66: return JwsAlgorithm::ES512;
    default: return std::nullopt;
  }
}

int size_for_es(JwsAlgorithm a) noexcept {
  switch (a) {
    case JwsAlgorithm::ES256: return 32;
    case JwsAlgorithm::ES384: return 48;
    case JwsAlgorithm::ES512: return 66;
    default: return 0;
  }
}

// Whether a key of this type (and, for EC, this curve size) fits `alg`: the key-confusion matrix.
bool type_fits(KeyType type, int ec_size, JwsAlgorithm alg) noexcept {
  switch (type) {
    case KeyType::rsa: return is_rsa_alg(alg);
    case KeyType::ec: return ec_size != 0 && size_for_es(alg) == ec_size;
    case KeyType::okp: return alg == JwsAlgorithm::EdDSA;
    case KeyType::oct: return is_symmetric(alg);
  }
  return false;
}

// The OpenSSL group names of the three JOSE curves (RFC 7518 §6.2.1.1), and their sizes.
int ec_size_of_group(std::string_view group) noexcept {
  if (group == "prime256v1" || group == "P-256" || group == "secp256r1") return 32;
  if (group == "secp384r1" || group == "P-384") return 48;
  if (group == "secp521r1" || group == "P-521") return 66;
  return 0;
}

Bn bn_param(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return nullptr;
  return Bn(bn);
}

// The checks every RSA key passes, whatever it came from. Returns why not, or empty.
std::string rsa_problem(const EVP_PKEY* pkey) {
  const Bn n = bn_param(pkey, OSSL_PKEY_PARAM_RSA_N);
  const Bn e = bn_param(pkey, OSSL_PKEY_PARAM_RSA_E);
  if (!n || !e) return "the RSA key's modulus or exponent cannot be read";
  const int bits = BN_num_bits(n.get());
  if (bits < min_rsa_bits) return "the RSA modulus has " + std::to_string(bits) + " bits, fewer than 2048";
  if (bits > max_rsa_bits) return "the RSA modulus has more than 16384 bits";
  if (!BN_is_odd(n.get())) return "the RSA modulus is even";
  // e = 1 makes the "signature" the message itself; an even e is not an RSA exponent.
  if (BN_is_one(e.get()) || !BN_is_odd(e.get())) return "the RSA public exponent is 1 or even";
  if (BN_num_bits(e.get()) > max_rsa_e_bits) return "the RSA public exponent has more than 256 bits";
  if (BN_cmp(e.get(), n.get()) >= 0) return "the RSA public exponent is not smaller than the modulus";
  return {};
}

// What an imported EVP_PKEY is: its JOSE key type, curve size, and the problem with it if any.
struct Classified {
  KeyType type = KeyType::rsa;
  int ec_size = 0;
  std::string problem;
};

Classified classify(const EVP_PKEY* pkey) {
  Classified c;
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      c.type = KeyType::rsa;
      c.problem = rsa_problem(pkey);
      return c;
    case EVP_PKEY_EC: {
      c.type = KeyType::ec;
      char group[64] = {};
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1) {
        c.problem = "the EC key's curve cannot be read";
        return c;
      }
      c.ec_size = ec_size_of_group(std::string_view(group, len));
      if (c.ec_size == 0) c.problem = "the EC key is not on P-256, P-384 or P-521";
      return c;
    }
    case EVP_PKEY_ED25519: c.type = KeyType::okp; return c;
    default: c.problem = "the key is not RSA, EC (P-256, P-384, P-521) or Ed25519"; return c;
  }
}

std::shared_ptr<const KeyMaterial> material_of(Pkey pkey, int ec_size) {
  auto m = std::make_shared<KeyMaterial>();
  m->pkey = pkey.release();
  m->ec_size = ec_size;
  return m;
}

std::shared_ptr<const KeyMaterial> material_of(Secret secret) {
  auto m = std::make_shared<KeyMaterial>();
  m->secret = std::move(secret);
  return m;
}

// --- JWK members --------------------------------------------------------------------------------

// Throws the from_jwk error: errc::parse, with the kid (made printable) when the JWK has one.
struct JwkContext {
  const nlohmann::json& jwk;
  const std::string& operation;
  std::string kid;

  [[noreturn]] void fail(const std::string& why) const {
    throw Error(errc::parse, operation,
                kid.empty() ? "JWK: " + why : "JWK \"" + detail::printable(kid, 64) + "\": " + why);
  }

  // A string member, or nullopt when absent; anything but a string is an error.
  std::optional<std::string> text(const char* name) const {
    const auto it = jwk.find(name);
    if (it == jwk.end()) return std::nullopt;
    if (!it->is_string()) fail(std::string("\"") + name + "\" is not a string");
    return it->get<std::string>();
  }

  std::string required_text(const char* name) const {
    auto v = text(name);
    if (!v) fail(std::string("\"") + name + "\" is missing");
    return std::move(*v);
  }

  // A required base64url member (RFC 7518 §6: no padding, URL alphabet, canonical).
  std::string octets(const char* name) const {
    auto v = detail::base64url_decode_strict(required_text(name));
    if (!v) fail(std::string("\"") + name + "\" is not unpadded base64url");
    return std::move(*v);
  }
};

Pkey rsa_from_jwk(const JwkContext& c) {
  const std::string n = c.octets("n");
  const std::string e = c.octets("e");
  // Bounds before any big-number work; rsa_problem() checks the values themselves.
  if (n.empty() || n.size() > static_cast<std::size_t>(max_rsa_bits / 8 + 1)) c.fail("the RSA modulus size is out of range");
  if (e.empty() || e.size() > static_cast<std::size_t>(max_rsa_e_bits / 8 + 1)) c.fail("the RSA exponent size is out of range");
  const Bn bn_n(BN_bin2bn(bytes(n), static_cast<int>(n.size()), nullptr));
  const Bn bn_e(BN_bin2bn(bytes(e), static_cast<int>(e.size()), nullptr));
  const Bld bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    c.fail("the RSA key cannot be built");
  const Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  const PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    c.fail("OpenSSL refuses the RSA key");
  return Pkey(raw);
}

Pkey ec_from_jwk(const JwkContext& c, int& ec_size) {
  const std::string crv = c.required_text("crv");
  const char* group = crv == "P-256" ? "P-256" : crv == "P-384" ? "P-384" : crv == "P-521" ? "P-521" : nullptr;
  if (!group) c.fail("the EC curve \"" + detail::printable(crv, 32) + "\" is not P-256, P-384 or P-521");
  ec_size = ec_size_of_group(group);
  const std::string x = c.octets("x");
  const std::string y = c.octets("y");
  // RFC 7518 §6.2.1.2: x and y are exactly the field size, leading zeros included.
  if (x.size() != static_cast<std::size_t>(ec_size) || y.size() != static_cast<std::size_t>(ec_size))
    c.fail("the EC coordinates are not " + std::to_string(ec_size) + " bytes each");
  const std::string point = '\x04' + x + y;  // SEC 1 uncompressed point
  const Bld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    c.fail("the EC key cannot be built");
  const Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  const PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    c.fail("the EC point is not on the curve");
  Pkey pkey(raw);
  // The import decodes the point; the public check also refuses the point at infinity and a
  // point outside the prime-order subgroup (invalid-curve attacks).
  const PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) c.fail("the EC point is not on the curve");
  return pkey;
}

Pkey okp_from_jwk(const JwkContext& c) {
  const std::string crv = c.required_text("crv");
  if (crv != "Ed25519") c.fail("the OKP curve \"" + detail::printable(crv, 32) + "\" is not Ed25519");
  const std::string x = c.octets("x");
  if (x.size() != 32) c.fail("the Ed25519 public key is not 32 bytes");
  Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(x), x.size()));
  if (!pkey) c.fail("OpenSSL refuses the Ed25519 key");
  return pkey;
}

// --- PEM ----------------------------------------------------------------------------------------

// Refuses to prompt for a passphrase: an encrypted PEM fails instead of blocking on a terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

Bio mem_bio(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(INT_MAX)) return nullptr;
  return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// --- signatures ---------------------------------------------------------------------------------

// EVP_DigestSign/Verify context for `alg` on `pkey`: PKCS#1 v1.5, or PSS with salt = hash length
// and MGF1 of the same hash (RFC 7518 §3.5), or Ed25519's one-shot mode (no digest).
bool init_ctx(EVP_MD_CTX* ctx, JwsAlgorithm alg, EVP_PKEY* pkey, bool signing) {
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == JwsAlgorithm::EdDSA ? nullptr : md_for(alg);
  const int ok = signing ? EVP_DigestSignInit(ctx, &pctx, md, nullptr, pkey)
                         : EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey);
  if (ok != 1) return false;
  if (is_pss(alg)) {
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
  }
  if (is_rsa_alg(alg)) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  return true;
}

std::string hmac(JwsAlgorithm alg, const Secret& key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string& k = key.expose();
  if (k.size() > static_cast<std::size_t>(INT_MAX) ||
      HMAC(md_for(alg), k.data(), static_cast<int>(k.size()), bytes(data), data.size(), out, &len) == nullptr)
    return {};
  std::string mac(reinterpret_cast<const char*>(out), len);
  OPENSSL_cleanse(out, sizeof out);
  return mac;
}

// JOSE r||s (each `size` bytes) to the DER ECDSA-Sig-Value OpenSSL verifies; empty when the
// input is not exactly 2 * size bytes.
std::string jose_to_der(std::string_view sig, int size) {
  if (sig.size() != 2 * static_cast<std::size_t>(size)) return {};
  Sig s(ECDSA_SIG_new());
  if (!s) return {};
  BIGNUM* r = BN_bin2bn(bytes(sig), size, nullptr);
  BIGNUM* ss = BN_bin2bn(bytes(sig) + size, size, nullptr);
  if (!r || !ss || ECDSA_SIG_set0(s.get(), r, ss) != 1) {
    BN_free(r);
    BN_free(ss);
    return {};
  }
  const int len = i2d_ECDSA_SIG(s.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(s.get(), &p) != len) return {};
  return der;
}

std::string der_to_jose(std::string_view der, int size) {
  const auto* p = bytes(der);
  Sig s(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!s) throw Error(errc::config, "JWS signature", "OpenSSL's ECDSA signature cannot be decoded");
  std::string out(2 * static_cast<std::size_t>(size), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(s.get()), o, size) != size ||
      BN_bn2binpad(ECDSA_SIG_get0_s(s.get()), o + size, size) != size)
    throw Error(errc::config, "JWS signature", "OpenSSL's ECDSA signature does not fit the curve");
  return out;
}

std::string b64_bn(const EVP_PKEY* pkey, const char* name, int pad) {
  const Bn bn = bn_param(pkey, name);
  if (!bn) throw Error(errc::config, "JWK", "the key's public members cannot be read");
  const int len = pad > 0 ? pad : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(len), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), len) != len)
    throw Error(errc::config, "JWK", "the key's public members cannot be read");
  return detail::base64url_encode(out);
}

}  // namespace

// --- VerificationKey ----------------------------------------------------------------------------

VerificationKey VerificationKey::from_jwk(const nlohmann::json& jwk, const std::string& operation,
                                          bool allow_symmetric) {
  const ErrorMark mark;
  if (!jwk.is_object()) throw Error(errc::parse, operation, "JWK: the key is not a JSON object");
  JwkContext c{jwk, operation, {}};
  VerificationKey key;
  if (auto kid = c.text("kid")) c.kid = key.kid_ = std::move(*kid);

  if (const auto use = c.text("use"); use && *use != "sig")
    c.fail("\"use\" is \"" + detail::printable(*use, 32) + "\", not \"sig\"");
  if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array()) c.fail("\"key_ops\" is not an array");
    bool verify = false;
    for (const auto& op : *ops) {
      if (!op.is_string()) c.fail("\"key_ops\" holds a non-string");
      verify = verify || op.get_ref<const std::string&>() == "verify";
    }
    if (!verify) c.fail("\"key_ops\" does not contain \"verify\"");
  }
  std::optional<JwsAlgorithm> alg;
  if (const auto a = c.text("alg")) {
    alg = parse_jws_algorithm(*a);
    if (!alg) c.fail("\"alg\" \"" + detail::printable(*a, 32) + "\" is not a supported JWS algorithm");
  }

  const std::string kty = c.required_text("kty");
  if (kty == "RSA" || kty == "EC" || kty == "OKP") {
    // A JWK Set is public; a private member there means a leaked key or a confused server.
    for (const char* m : {"d", "p", "q", "dp", "dq", "qi", "oth"})
      if (jwk.contains(m)) c.fail(std::string("has the private member \"") + m + "\"");
  }
  int ec_size = 0;
  if (kty == "RSA") {
    key.type_ = KeyType::rsa;
    Pkey pkey = rsa_from_jwk(c);
    if (const auto why = rsa_problem(pkey.get()); !why.empty()) c.fail(why);
    key.material_ = material_of(std::move(pkey), 0);
  } else if (kty == "EC") {
    key.type_ = KeyType::ec;
    Pkey pkey = ec_from_jwk(c, ec_size);
    key.material_ = material_of(std::move(pkey), ec_size);
  } else if (kty == "OKP") {
    key.type_ = KeyType::okp;
    key.material_ = material_of(okp_from_jwk(c), 0);
  } else if (kty == "oct") {
    if (!allow_symmetric) c.fail("a symmetric (oct) key is not accepted here");
    key.type_ = KeyType::oct;
    std::string k = c.octets("k");
    if (k.empty()) c.fail("the oct key is empty");
    key.material_ = material_of(Secret(std::move(k)));
  } else {
    c.fail("kty \"" + detail::printable(kty, 32) + "\" is not RSA, EC, OKP or oct");
  }
  if (alg && !type_fits(key.type_, ec_size, *alg))
    c.fail("\"alg\" " + std::string(to_string(*alg)) + " does not fit the key's type or curve");
  key.alg_ = alg;
  return key;
}

VerificationKey VerificationKey::from_pem(std::string_view pem, std::string kid) {
  const ErrorMark mark;
  const char* op = "PEM key";
  Bio bio = mem_bio(pem);
  if (!bio) throw Error(errc::config, op, "cannot read the PEM");
  Pkey pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) {
    bio = mem_bio(pem);
    std::unique_ptr<X509, X509Free> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
    if (cert) pkey.reset(X509_get_pubkey(cert.get()));
  }
  if (!pkey) throw Error(errc::config, op, "not a PEM public key (SubjectPublicKeyInfo) or X.509 certificate");
  const Classified c = classify(pkey.get());
  if (!c.problem.empty()) throw Error(errc::config, op, c.problem);
  VerificationKey key;
  key.type_ = c.type;
  key.kid_ = std::move(kid);
  key.material_ = material_of(std::move(pkey), c.ec_size);
  return key;
}

VerificationKey VerificationKey::from_secret(const Secret& secret, std::string kid) {
  if (secret.empty()) throw Error(errc::config, "HMAC key", "the secret is empty");
  VerificationKey key;
  key.type_ = KeyType::oct;
  key.kid_ = std::move(kid);
  key.material_ = material_of(secret);
  return key;
}

bool VerificationKey::accepts(JwsAlgorithm alg) const noexcept {
  if (!material_) return false;
  if (alg_ && *alg_ != alg) return false;
  return type_fits(type_, material_->ec_size, alg);
}

bool VerificationKey::verify(JwsAlgorithm alg, std::string_view signing_input,
                             std::string_view signature) const noexcept {
  const ErrorMark mark;
  if (!accepts(alg)) return false;
  try {
    if (is_symmetric(alg)) {
      const std::string mac = hmac(alg, material_->secret, signing_input);
      return !mac.empty() && mac.size() == signature.size() &&
             CRYPTO_memcmp(mac.data(), signature.data(), mac.size()) == 0;
    }
    std::string der;
    if (type_ == KeyType::ec) {
      der = jose_to_der(signature, material_->ec_size);
      if (der.empty()) return false;
      signature = der;
    } else if (type_ == KeyType::okp && signature.size() != 64) {
      return false;
    }
    const MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || !init_ctx(ctx.get(), alg, material_->pkey, false)) return false;
    return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(signing_input),
                            signing_input.size()) == 1;
  } catch (...) {
    return false;  // allocation failure: not a valid signature either
  }
}

// --- SigningKey ---------------------------------------------------------------------------------

SigningKey SigningKey::from_pem(const Secret& pem, std::string kid, std::optional<JwsAlgorithm> alg) {
  const ErrorMark mark;
  const char* op = "PEM key";
  const std::string& text = pem.expose();
  if (text.find("ENCRYPTED") != std::string::npos)
    throw Error(errc::config, op, "the PEM private key is encrypted; decrypt it first");
  const Bio bio = mem_bio(text);
  if (!bio) throw Error(errc::config, op, "cannot read the PEM");
  Pkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) throw Error(errc::config, op, "not an unencrypted PEM private key (PKCS#8 or traditional)");
  const Classified c = classify(pkey.get());
  if (!c.problem.empty()) throw Error(errc::config, op, c.problem);
  if (!alg) alg = c.type == KeyType::rsa ? JwsAlgorithm::RS256 : c.type == KeyType::ec ? *es_for_size(c.ec_size)
                                                                                       : JwsAlgorithm::EdDSA;
  if (!type_fits(c.type, c.ec_size, *alg))
    throw Error(errc::config, op, "the key does not fit " + std::string(to_string(*alg)));
  SigningKey key;
  key.kid_ = std::move(kid);
  key.alg_ = *alg;
  key.material_ = material_of(std::move(pkey), c.ec_size);
  return key;
}

SigningKey SigningKey::from_secret(Secret secret, JwsAlgorithm alg, std::string kid) {
  if (!is_symmetric(alg))
    throw Error(errc::config, "HMAC key", std::string(to_string(alg)) + " is not HS256, HS384 or HS512");
  if (secret.empty()) throw Error(errc::config, "HMAC key", "the secret is empty");
  SigningKey key;
  key.kid_ = std::move(kid);
  key.alg_ = alg;
  key.material_ = material_of(std::move(secret));
  return key;
}

SigningKey SigningKey::generate(JwsAlgorithm alg, std::string kid) {
  const ErrorMark mark;
  SigningKey key;
  key.kid_ = std::move(kid);
  key.alg_ = alg;
  if (is_symmetric(alg)) {
    key.material_ = material_of(Secret(random_bytes(64)));
    return key;
  }
  EVP_PKEY* raw = nullptr;
  int ec_size = size_for_es(alg);
  if (is_rsa_alg(alg)) raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
  else if (ec_size == 32) raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (ec_size == 48) raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  else if (ec_size == 66) raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
  else raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) throw Error(errc::config, "key generation", "OpenSSL could not generate a key for " + std::string(to_string(alg)));
  key.material_ = material_of(Pkey(raw), ec_size);
  return key;
}

std::string SigningKey::sign(std::string_view signing_input) const {
  const ErrorMark mark;
  const char* op = "JWS signature";
  if (!material_) throw Error(errc::config, op, "the signing key is empty");
  if (is_symmetric(alg_)) {
    std::string mac = hmac(alg_, material_->secret, signing_input);
    if (mac.empty()) throw Error(errc::config, op, "OpenSSL's HMAC failed");
    return mac;
  }
  const MdCtx ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || !init_ctx(ctx.get(), alg_, material_->pkey, true) ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes(signing_input), signing_input.size()) != 1)
    throw Error(errc::config, op, "OpenSSL cannot sign with this key");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(signing_input),
                     signing_input.size()) != 1)
    throw Error(errc::config, op, "OpenSSL's signature failed");
  sig.resize(len);
  return material_->ec_size != 0 ? der_to_jose(sig, material_->ec_size) : sig;
}

nlohmann::json SigningKey::public_jwk() const {
  const ErrorMark mark;
  if (!material_ || !material_->pkey) throw Error(errc::config, "JWK", "an HMAC key has no public JWK");
  const EVP_PKEY* pkey = material_->pkey;
  nlohmann::json jwk = nlohmann::json::object();
  const int ec_size = material_->ec_size;
  if (ec_size != 0) {
    jwk["kty"] = "EC";
    jwk["crv"] = ec_size == 32 ? "P-256" : ec_size == 48 ? "P-384" : "P-521";
    jwk["x"] = b64_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X, ec_size);
    jwk["y"] = b64_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, ec_size);
  } else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
    unsigned char x[32];
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, x, sizeof x, &len) != 1 || len != sizeof x)
      throw Error(errc::config, "JWK", "the Ed25519 public key cannot be read");
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(x), len));
  } else {
    jwk["kty"] = "RSA";
    jwk["n"] = b64_bn(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    jwk["e"] = b64_bn(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
  }
  if (!kid_.empty()) jwk["kid"] = kid_;
  jwk["alg"] = std::string(to_string(alg_));
  jwk["use"] = "sig";
  return jwk;
}

VerificationKey SigningKey::verification_key() const {
  if (!material_) throw Error(errc::config, "JWK", "the signing key is empty");
  if (is_symmetric(alg_)) {
    VerificationKey key = VerificationKey::from_secret(material_->secret, kid_);
    key.alg_ = alg_;
    return key;
  }
  // Through the JWK, so the verifier holds only the public half and passes the same checks as
  // a server's key.
  return VerificationKey::from_jwk(public_jwk(), "JWK");
}

Secret SigningKey::private_pem() const {
  const ErrorMark mark;
  if (!material_ || !material_->pkey) throw Error(errc::config, "PEM key", "an HMAC key has no PEM form");
  // Secure heap memory BIO: the PEM text is private key material.
  const Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), material_->pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw Error(errc::config, "PEM key", "OpenSSL cannot write the private key");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || !data) throw Error(errc::config, "PEM key", "OpenSSL cannot write the private key");
  return Secret(std::string(data, static_cast<std::size_t>(len)));
}

std::string jws_hash(JwsAlgorithm alg, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md_for(alg), nullptr) != 1)
    throw Error(errc::config, "hash", "OpenSSL's digest failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

#else  // !OIDC_WITH_OPENSSL

namespace {
[[noreturn]] void no_openssl(const char* what) {
  throw Error(errc::config, what,
              "the library was built without OpenSSL (OIDC_WITH_OPENSSL=OFF); JWS keys and signatures need it");
}
}  // namespace

VerificationKey VerificationKey::from_jwk(const nlohmann::json&, const std::string& operation, bool) {
  no_openssl(operation.c_str());
}
VerificationKey VerificationKey::from_pem(std::string_view, std::string) { no_openssl("PEM key"); }
VerificationKey VerificationKey::from_secret(const Secret&, std::string) { no_openssl("HMAC key"); }
bool VerificationKey::accepts(JwsAlgorithm) const noexcept { return false; }
bool VerificationKey::verify(JwsAlgorithm, std::string_view, std::string_view) const noexcept { return false; }
SigningKey SigningKey::from_pem(const Secret&, std::string, std::optional<JwsAlgorithm>) { no_openssl("PEM key"); }
SigningKey SigningKey::from_secret(Secret, JwsAlgorithm, std::string) { no_openssl("HMAC key"); }
SigningKey SigningKey::generate(JwsAlgorithm, std::string) { no_openssl("key generation"); }
std::string SigningKey::sign(std::string_view) const { no_openssl("JWS signature"); }
nlohmann::json SigningKey::public_jwk() const { no_openssl("JWK"); }
VerificationKey SigningKey::verification_key() const { no_openssl("JWK"); }
Secret SigningKey::private_pem() const { no_openssl("PEM key"); }
std::string jws_hash(JwsAlgorithm, std::string_view) { no_openssl("hash"); }

#endif

}  // namespace oidc
