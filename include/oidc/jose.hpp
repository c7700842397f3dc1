#ifndef OIDC_JOSE_HPP
#define OIDC_JOSE_HPP

/// \file
/// JWS keys and signatures (RFC 7515; algorithms of RFC 7518 §3 and RFC 8037): a key is checked and
/// turned into OpenSSL's form once, when it is built from a JWK, a PEM or a secret, and then used for
/// any number of signatures or verifications. Defined in src/jose.cpp with OpenSSL 3, which never
/// reaches a public header; in a library built with OIDC_WITH_OPENSSL=OFF every factory throws
/// errc::config.

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/base64.hpp"
#include "oidc/export.hpp"
#include "oidc/secret.hpp"

namespace oidc {

/// The JWS "alg" values the library implements (RFC 7518 §3.1, RFC 8037 §3.1). "none" is not one
/// of them, by design.
enum class JwsAlgorithm {
  RS256,  ///< RSASSA-PKCS1-v1_5 with SHA-256; the OIDC default (OIDC Core §3.1.3.7).
  RS384,  ///< RSASSA-PKCS1-v1_5 with SHA-384.
  RS512,  ///< RSASSA-PKCS1-v1_5 with SHA-512.
  PS256,  ///< RSASSA-PSS with SHA-256 and MGF1 with SHA-256.
  PS384,  ///< RSASSA-PSS with SHA-384 and MGF1 with SHA-384.
  PS512,  ///< RSASSA-PSS with SHA-512 and MGF1 with SHA-512.
  ES256,  ///< ECDSA on P-256 with SHA-256.
  ES384,  ///< ECDSA on P-384 with SHA-384.
  ES512,  ///< ECDSA on P-521 with SHA-512.
  EdDSA,  ///< Ed25519 (RFC 8037).
  HS256,  ///< HMAC with SHA-256, keyed with a shared secret.
  HS384,  ///< HMAC with SHA-384, keyed with a shared secret.
  HS512   ///< HMAC with SHA-512, keyed with a shared secret.
};

/// Every JwsAlgorithm, in declaration order.
inline constexpr std::array<JwsAlgorithm, 13> all_jws_algorithms{
    JwsAlgorithm::RS256, JwsAlgorithm::RS384, JwsAlgorithm::RS512, JwsAlgorithm::PS256, JwsAlgorithm::PS384,
    JwsAlgorithm::PS512, JwsAlgorithm::ES256, JwsAlgorithm::ES384, JwsAlgorithm::ES512, JwsAlgorithm::EdDSA,
    JwsAlgorithm::HS256, JwsAlgorithm::HS384, JwsAlgorithm::HS512};

/// The "alg" name of \p a, as RFC 7518 spells it ("RS256", "EdDSA", ...).
[[nodiscard]] constexpr std::string_view to_string(JwsAlgorithm a) noexcept {
  switch (a) {
    case JwsAlgorithm::RS256: return "RS256";
    case JwsAlgorithm::RS384: return "RS384";
    case JwsAlgorithm::RS512: return "RS512";
    case JwsAlgorithm::PS256: return "PS256";
    case JwsAlgorithm::PS384: return "PS384";
    case JwsAlgorithm::PS512: return "PS512";
    case JwsAlgorithm::ES256: return "ES256";
    case JwsAlgorithm::ES384: return "ES384";
    case JwsAlgorithm::ES512: return "ES512";
    case JwsAlgorithm::EdDSA: return "EdDSA";
    case JwsAlgorithm::HS256: return "HS256";
    case JwsAlgorithm::HS384: return "HS384";
    case JwsAlgorithm::HS512: return "HS512";
  }
  return "";
}

/// The algorithm named exactly \p name (case-sensitive, RFC 7515 §4.1.1); nullopt for anything else,
/// "none" included.
[[nodiscard]] constexpr std::optional<JwsAlgorithm> parse_jws_algorithm(std::string_view name) noexcept {
  for (const auto a : all_jws_algorithms)
    if (to_string(a) == name) return a;
  return std::nullopt;
}

/// True for HS256/384/512: keyed with a shared secret, never with a public key.
[[nodiscard]] constexpr bool is_symmetric(JwsAlgorithm a) noexcept {
  return a == JwsAlgorithm::HS256 || a == JwsAlgorithm::HS384 || a == JwsAlgorithm::HS512;
}

/// The JWK "kty" families (RFC 7518 §6.1, RFC 8037 §2).
enum class KeyType {
  rsa,  ///< "RSA": RS* and PS*.
  ec,   ///< "EC": ES* on P-256, P-384 or P-521.
  okp,  ///< "OKP": Ed25519 for EdDSA.
  oct   ///< "oct": a shared secret for HS*.
};

namespace detail {
struct KeyMaterial;  // an EVP_PKEY, or an HMAC secret; defined in src/jose.cpp
}  // namespace detail

/// A key that verifies JWS signatures. Cheap to copy (the prepared key is shared and immutable);
/// safe to use from many threads at once. Built only by the factories below.
class OIDC_API VerificationKey {
 public:
  /// One JWK (RFC 7517 §4) from a server, checked through the validation boundary: kty RSA (n, e;
  /// an odd modulus of 2048 to 16384 bits, e odd, greater than 1, at most 256 bits and below n), EC
  /// (crv P-256, P-384 or P-521; x and y of exactly the curve's size and on the curve), OKP (crv
  /// Ed25519, x of 32 bytes) or, only with \p allow_symmetric, oct (k, non-empty); "use" absent or
  /// "sig"; "key_ops" absent or an array of strings containing "verify"; "alg" absent or a
  /// JwsAlgorithm the key's type and curve fit; no private members (d, p, q, dp, dq, qi, oth);
  /// every member used of the JSON type it must have ("kid" a string when present); base64url
  /// members strict (detail::base64url_decode_strict). Throws Error(errc::parse, operation, why),
  /// nothing else; `why` names the kid (made printable) and never quotes key material.
  static VerificationKey from_jwk(const nlohmann::json& jwk, const std::string& operation = "JWK",
                                  bool allow_symmetric = false);
  /// A PEM public key (SubjectPublicKeyInfo) or X.509 certificate: RSA (at least 2048 bits), EC on
  /// one of the three curves, or Ed25519. Throws Error(errc::config, ...).
  /// \param kid compared with a token's "kid" in JwkSet::select; empty: only tokens without a kid select it.
  static VerificationKey from_pem(std::string_view pem, std::string kid = {});
  /// A shared secret for HS256/384/512 (OIDC Core §10.1: the client secret's UTF-8 octets); accepts
  /// all three. Throws errc::config for an empty secret.
  static VerificationKey from_secret(const Secret& secret, std::string kid = {});

  [[nodiscard]] const std::string& kid() const noexcept { return kid_; }  ///< The JWK's "kid"; "" when none.
  [[nodiscard]] KeyType type() const noexcept { return type_; }  ///< The key's family.
  /// The JWK's "alg", when it named one: then only that algorithm is accepted.
  [[nodiscard]] const std::optional<JwsAlgorithm>& alg() const noexcept { return alg_; }

  /// Whether this key may verify \p alg: RS*/PS* need an RSA key, ES256/384/512 an EC key on
  /// P-256/P-384/P-521 respectively, EdDSA an Ed25519 key, HS* a secret; and the JWK's alg, if
  /// any, must be \p alg. This is what stops key confusion (an RSA public key used as an HMAC secret).
  [[nodiscard]] bool accepts(JwsAlgorithm alg) const noexcept;

  /// Checks a JWS signature (its raw bytes, base64url-decoded; ECDSA in the JOSE form r||s, not
  /// DER) over \p signing_input (ASCII(BASE64URL(header) '.' BASE64URL(payload))). False for a bad
  /// signature, a wrong length, or an algorithm the key does not accept; never throws for bad input.
  [[nodiscard]] bool verify(JwsAlgorithm alg, std::string_view signing_input, std::string_view signature) const noexcept;

 private:
  std::shared_ptr<const detail::KeyMaterial> material_;
  std::string kid_;
  KeyType type_ = KeyType::rsa;
  std::optional<JwsAlgorithm> alg_;
  friend class SigningKey;
};

/// A key that signs JWS: a private key (private_key_jwt, RFC 7523) or a shared secret
/// (client_secret_jwt). Cheap to copy; safe to use from many threads at once. Its material is a
/// secret: it never appears in messages.
class OIDC_API SigningKey {
 public:
  /// A PEM private key (PKCS#8 or traditional, unencrypted): RSA of at least 2048 bits for
  /// RS*/PS*, EC for the ES* of its curve, Ed25519 for EdDSA. \p alg empty: RS256 for RSA, the
  /// curve's ES* for EC, EdDSA for Ed25519. Throws Error(errc::config, ...) when the PEM is not
  /// such a key or does not fit \p alg.
  /// \param kid the "kid" put into every JWS header it signs; empty: none.
  static SigningKey from_pem(const Secret& pem, std::string kid = {}, std::optional<JwsAlgorithm> alg = {});
  /// A shared secret for HS256/384/512; \p alg must be one of them and the secret non-empty
  /// (errc::config otherwise).
  static SigningKey from_secret(Secret secret, JwsAlgorithm alg = JwsAlgorithm::HS256, std::string kid = {});
  /// A fresh key for \p alg from OpenSSL's CSPRNG: RSA 2048 for RS*/PS*, the curve of an ES*,
  /// Ed25519 for EdDSA, 64 random bytes for HS*. For tests, and for a client's new key pair.
  /// Throws errc::config when OpenSSL cannot generate it.
  static SigningKey generate(JwsAlgorithm alg, std::string kid = {});

  [[nodiscard]] const std::string& kid() const noexcept { return kid_; }  ///< The header "kid"; "" when none.
  [[nodiscard]] JwsAlgorithm algorithm() const noexcept { return alg_; }  ///< The one algorithm it signs with.

  /// The JWS signature of \p signing_input with algorithm(): raw bytes (ECDSA as r||s).
  /// Throws errc::config when OpenSSL fails to sign.
  [[nodiscard]] std::string sign(std::string_view signing_input) const;
  /// The public half as a JWK: kty, the public members, kid (when set), alg and "use": "sig".
  /// Throws errc::config for an HMAC key, which has no public half.
  [[nodiscard]] nlohmann::json public_jwk() const;
  /// The key that verifies what this one signs, accepting only algorithm(): the public half (built
  /// from public_jwk(), so it holds no private material) or, for an HMAC key, the same secret.
  [[nodiscard]] VerificationKey verification_key() const;
  /// The private key as unencrypted PKCS#8 PEM, to store a generated key. Throws errc::config for
  /// HMAC keys.
  [[nodiscard]] Secret private_pem() const;

 private:
  std::shared_ptr<const detail::KeyMaterial> material_;
  std::string kid_;
  JwsAlgorithm alg_ = JwsAlgorithm::RS256;
};

/// The hash of \p data by the hash function of \p alg (SHA-256 for *256, SHA-384 for *384, SHA-512
/// for *512 and, as oidc-provider and the OIDC EdDSA practice do, for Ed25519): what at_hash and
/// c_hash (OIDC Core §3.1.3.6, §3.3.2.11) are made of. Raw digest bytes.
[[nodiscard]] OIDC_API std::string jws_hash(JwsAlgorithm alg, std::string_view data);

/// A compact JWS (RFC 7515 §7.1) of \p payload: \p header gets "alg" and, when the key has one,
/// "kid"; both are serialized compactly and base64url-encoded. Throws what SigningKey::sign throws.
[[nodiscard]] inline std::string sign_compact_jws(const SigningKey& key, nlohmann::json header,
                                                  const nlohmann::json& payload) {
  header["alg"] = std::string(to_string(key.algorithm()));
  if (!key.kid().empty()) header["kid"] = key.kid();
  std::string out = detail::base64url_encode(header.dump()) + "." + detail::base64url_encode(payload.dump());
  const std::string signature = key.sign(out);
  out += '.';
  out += detail::base64url_encode(signature);
  return out;
}

}  // namespace oidc

#endif  // OIDC_JOSE_HPP
