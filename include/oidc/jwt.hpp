#ifndef OIDC_JWT_HPP
#define OIDC_JWT_HPP

/// \file
/// A compact JWS (RFC 7515 §7.1) carrying JWT claims (RFC 7519): parsed and structurally checked by
/// parse_jws, its signature checked by verify_jws, and the registered claims every JWT profile
/// shares (iss, sub, aud, exp, iat, nbf) read by the detail:: helpers below, so the ID token
/// (id_token.hpp) and the JWT access token (jwt_access_token.hpp) check each rule the same way.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/base64.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/detail/jwt.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/secret.hpp"

namespace oidc {

/// A compact JWS as parse_jws returns it: structurally checked, NOT verified. Nothing in it may be
/// trusted before verify_jws succeeds.
struct Jws {
  nlohmann::json header;      ///< The JOSE header, a JSON object.
  nlohmann::json payload;     ///< The claims, a JSON object.
  JwsAlgorithm alg = JwsAlgorithm::RS256;  ///< The header's "alg", known and never "none".
  std::optional<std::string> kid;  ///< The header's "kid"; nullopt when absent.
  std::string typ;            ///< The header's "typ"; "" when absent.
  std::string signing_input;  ///< header.payload as received, the bytes the signature covers.
  std::string signature;      ///< Decoded bytes.
};

/// Largest compact JWS accepted: ID tokens and access tokens are a few KiB; this bounds the work an
/// attacker's token can cause before its signature is checked.
inline constexpr std::size_t max_jws_bytes = 64 * 1024;

namespace detail {

// Longest header or claim value quoted in a message (after printable()).
inline constexpr std::size_t jwt_quote_bytes = 64;

inline std::string quote_value(std::string_view s) { return "\"" + printable(s, jwt_quote_bytes) + "\""; }

inline nlohmann::json jws_json_segment(std::string_view segment, const char* what, const std::string& operation) {
  const auto bytes = base64url_decode_strict(segment);
  if (!bytes) throw Error(errc::jwt_malformed, operation, std::string("the JWS ") + what + " is not strict base64url");
  auto doc = parse_json(*bytes);
  if (!doc.ok()) throw Error(errc::jwt_malformed, operation, std::string("the JWS ") + what + " is not accepted JSON: " + doc.problem);
  if (!doc.value.is_object()) throw Error(errc::jwt_malformed, operation, std::string("the JWS ") + what + " is not a JSON object");
  return std::move(doc.value);
}

// An optional string header member; absent is nullopt, any other type jwt_malformed.
inline std::optional<std::string> jws_string_header(const nlohmann::json& header, const char* name,
                                                    const std::string& operation) {
  const auto it = header.find(name);
  if (it == header.end()) return std::nullopt;
  if (!it->is_string()) throw Error(errc::jwt_malformed, operation, std::string("the JWS header's \"") + name + "\" is not a string");
  return it->get<std::string>();
}

}  // namespace detail

/// Parses a compact JWS, without verifying it. Throws oidc::Error (its operation \p operation):
/// errc::jwt_malformed: over max_jws_bytes, not 3 segments (a JWE's 5 named as
/// such), non-strict base64url, header or payload not a JSON object (parse_json: depth limit,
/// duplicate members refused), "crit" present (RFC 7515 §4.1.11: we understand no extension),
/// "b64" present and not true (RFC 7797's unencoded payload), kid or typ not strings.
/// errc::algorithm_rejected: alg absent, not a string, "none" in any case, or unknown. Key-locating
/// headers (jku, x5u, jwk, x5c) are never used: keys come only from the caller's KeySource.
inline Jws parse_jws(std::string_view compact, const std::string& operation) {
  if (compact.size() > max_jws_bytes)
    throw Error(errc::jwt_malformed, operation, "the JWS is longer than " + std::to_string(max_jws_bytes) + " bytes");
  const auto parts = detail::split_compact(compact);
  if (parts.segments == 5)
    throw Error(errc::jwt_malformed, operation, "the token is a JWE (5 segments): encrypted tokens are not supported");
  if (parts.segments != 3)
    throw Error(errc::jwt_malformed, operation,
                "the token has " + std::to_string(parts.segments) + " segments; a compact JWS has 3");
  Jws jws;
  jws.header = detail::jws_json_segment(parts.header, "header", operation);
  if (jws.header.contains("crit"))
    throw Error(errc::jwt_malformed, operation, "the JWS header has \"crit\": no extension is understood (RFC 7515 §4.1.11)");
  if (const auto b64 = jws.header.find("b64"); b64 != jws.header.end() && *b64 != true)
    throw Error(errc::jwt_malformed, operation, "the JWS header asks for an unencoded payload (\"b64\", RFC 7797)");
  const auto alg = jws.header.find("alg");
  if (alg == jws.header.end()) throw Error(errc::algorithm_rejected, operation, "the JWS header has no \"alg\"");
  if (!alg->is_string()) throw Error(errc::algorithm_rejected, operation, "the JWS header's \"alg\" is not a string");
  const auto& name = alg->get_ref<const std::string&>();
  if (detail::iequals(name, "none"))
    throw Error(errc::algorithm_rejected, operation, "alg \"none\": unsigned tokens are never accepted");
  const auto known = parse_jws_algorithm(name);
  if (!known) throw Error(errc::algorithm_rejected, operation, "unknown alg " + detail::quote_value(name));
  jws.alg = *known;
  jws.kid = detail::jws_string_header(jws.header, "kid", operation);
  jws.typ = detail::jws_string_header(jws.header, "typ", operation).value_or("");
  jws.payload = detail::jws_json_segment(parts.payload, "payload", operation);
  const auto signature = detail::base64url_decode_strict(parts.signature);
  if (!signature) throw Error(errc::jwt_malformed, operation, "the JWS signature is not strict base64url");
  jws.signature = *signature;
  jws.signing_input = std::string(parts.signing_input);
  return jws;
}

namespace detail {
// RFC 9068 §4 "at+jwt", with or without "application/", in any case (RFC 8725 §3.11: explicit
// typing keeps an access token from passing as another kind of JWT, and back).
inline bool is_access_token_typ(std::string_view typ) noexcept {
  return iequals(typ, "at+jwt") || iequals(typ, "application/at+jwt");
}

inline std::string algorithm_list(const std::vector<JwsAlgorithm>& algs) {
  std::string out;
  for (const auto a : algs) out += (out.empty() ? "" : ", ") + std::string(to_string(a));
  return out.empty() ? std::string("none configured") : out;
}
}  // namespace detail

/// Checks the signature of \p jws with the keys of \p keys selected by kid and alg, trying each
/// candidate. Checks no claim: the profiles (validate_id_token, validate_access_token) do that.
/// Throws oidc::Error: errc::algorithm_rejected when jws.alg is not in \p allowed, or is HS* and
/// \p hmac_key is null (HS* is keyed only with the caller's secret, never with a key of the set: a
/// public key is never an HMAC secret); errc::key_not_found when the KeySource has no key for kid +
/// alg (saying why when the set refused the key with that kid); errc::signature_invalid when no
/// candidate verifies.
/// \param operation names the failing step in the oidc::Error.
/// \param hmac_key the shared secret for HS*; null: HS* is refused.
inline void verify_jws(const Jws& jws, const KeySource& keys, const std::vector<JwsAlgorithm>& allowed,
                       const std::string& operation, const VerificationKey* hmac_key = nullptr) {
  const auto alg = std::string(to_string(jws.alg));
  bool is_allowed = false;
  for (const auto a : allowed) is_allowed = is_allowed || a == jws.alg;
  if (!is_allowed)
    throw Error(errc::algorithm_rejected, operation,
                "alg " + alg + " is not among the allowed algorithms (" + detail::algorithm_list(allowed) + ")");
  if (is_symmetric(jws.alg)) {
    if (!hmac_key)
      throw Error(errc::algorithm_rejected, operation, "alg " + alg + " needs a shared secret, and none is configured");
    if (!hmac_key->verify(jws.alg, jws.signing_input, jws.signature))
      throw Error(errc::signature_invalid, operation, "the " + alg + " signature does not verify");
    return;
  }
  const auto set = keys.keys_for(jws.kid);
  const auto candidates = set ? set->select(jws.kid, jws.alg) : std::vector<const VerificationKey*>{};
  if (candidates.empty()) {
    if (!jws.kid) throw Error(errc::key_not_found, operation, "no key of the set accepts " + alg);
    const auto kid = detail::quote_value(*jws.kid);
    if (const auto* why = set ? set->refusal(*jws.kid) : nullptr)
      throw Error(errc::key_not_found, operation, "the key with kid " + kid + " was refused: " + *why);
    if (set && set->has_kid(*jws.kid))
      throw Error(errc::key_not_found, operation, "the key with kid " + kid + " does not accept " + alg);
    throw Error(errc::key_not_found, operation, "no key with kid " + kid);
  }
  for (const auto* key : candidates)
    if (key->verify(jws.alg, jws.signing_input, jws.signature)) return;
  throw Error(errc::signature_invalid, operation, "the " + alg + " signature does not verify with any key of the set");
}

namespace detail {

// ---- Registered claims (RFC 7519 §4.1), shared by every JWT profile ----------------------------

using time_point = std::chrono::system_clock::time_point;

inline std::string claim_name(const char* name) { return std::string("\"") + name + "\""; }

// A string claim; absent is nullopt, another type errc::missing_claim.
inline std::optional<std::string> optional_string_claim(const nlohmann::json& claims, const char* name,
                                                        const std::string& operation) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_string()) throw Error(errc::missing_claim, operation, "the " + claim_name(name) + " claim is not a string");
  return it->get<std::string>();
}

// The accessors' reading of a claim (IdToken, UserInfo): nullopt when absent or of another type,
// never an error, since what they return is not checked.
inline std::optional<std::string> string_claim_if(const nlohmann::json& claims, std::string_view name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
inline std::optional<bool> bool_claim_if(const nlohmann::json& claims, std::string_view name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

inline std::string required_string_claim(const nlohmann::json& claims, const char* name, const std::string& operation) {
  auto v = optional_string_claim(claims, name, operation);
  if (!v) throw Error(errc::missing_claim, operation, "the " + claim_name(name) + " claim is missing");
  return std::move(*v);
}

// A NumericDate claim through detail::numeric_date (range-checked); absent is nullopt.
inline std::optional<time_point> optional_date_claim(const nlohmann::json& claims, const char* name,
                                                     const std::string& operation) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  const auto t = numeric_date(*it);
  if (!t) throw Error(errc::missing_claim, operation, "the " + claim_name(name) + " claim is not a NumericDate in range");
  return t;
}

inline time_point required_date_claim(const nlohmann::json& claims, const char* name, const std::string& operation) {
  const auto t = optional_date_claim(claims, name, operation);
  if (!t) throw Error(errc::missing_claim, operation, "the " + claim_name(name) + " claim is missing");
  return *t;
}

// iss: a string equal to `expected`, byte for byte.
inline std::string checked_issuer(const nlohmann::json& claims, const std::string& expected, const std::string& operation) {
  auto iss = required_string_claim(claims, "iss", operation);
  if (iss != expected)
    throw Error(errc::issuer_mismatch, operation, "iss " + quote_value(iss) + " is not the expected issuer " + quote_value(expected));
  return iss;
}

// sub: a non-empty string of at most 255 bytes (OIDC Core §2).
inline constexpr std::size_t max_subject_bytes = 255;
inline std::string checked_subject(const nlohmann::json& claims, const std::string& operation) {
  auto sub = required_string_claim(claims, "sub", operation);
  if (sub.empty() || sub.size() > max_subject_bytes)
    throw Error(errc::missing_claim, operation, "the \"sub\" claim is empty or longer than 255 bytes");
  return sub;
}

// aud: a string or a non-empty array of strings (RFC 7519 §4.1.3) that contains `expected`.
inline std::vector<std::string> checked_audience(const nlohmann::json& claims, const std::string& expected,
                                                 const std::string& operation) {
  const auto it = claims.find("aud");
  if (it == claims.end()) throw Error(errc::missing_claim, operation, "the \"aud\" claim is missing");
  std::vector<std::string> aud;
  if (it->is_string()) {
    aud.push_back(it->get<std::string>());
  } else if (it->is_array() && !it->empty()) {
    for (const auto& a : *it) {
      if (!a.is_string()) throw Error(errc::missing_claim, operation, "the \"aud\" array holds a non-string");
      aud.push_back(a.get<std::string>());
    }
  } else {
    throw Error(errc::missing_claim, operation, "the \"aud\" claim is neither a string nor a non-empty array of strings");
  }
  for (const auto& a : aud)
    if (a == expected) return aud;
  throw Error(errc::audience_mismatch, operation, "aud does not contain " + quote_value(expected));
}

struct ValidityTimes {
  time_point expires_at, issued_at;
};

// exp and iat required, nbf optional: expired when exp + leeway <= now; not yet valid when iat or
// nbf lies beyond now + leeway.
inline ValidityTimes checked_times(const nlohmann::json& claims, time_point now, std::chrono::seconds leeway,
                                   const std::string& operation) {
  if (now == time_point{}) throw Error(errc::config, operation, "no current time was given for the validation");
  if (leeway < std::chrono::seconds{0} || leeway > std::chrono::hours{24})
    throw Error(errc::config, operation, "the clock leeway must lie within [0 s, 24 h]");
  ValidityTimes t{required_date_claim(claims, "exp", operation), required_date_claim(claims, "iat", operation)};
  if (t.expires_at + leeway <= now)
    throw Error(errc::token_expired, operation, "exp is past (leeway " + std::to_string(leeway.count()) + " s)");
  if (t.issued_at > now + leeway)
    throw Error(errc::token_not_yet_valid, operation, "iat is in the future (leeway " + std::to_string(leeway.count()) + " s)");
  if (const auto nbf = optional_date_claim(claims, "nbf", operation); nbf && *nbf > now + leeway)
    throw Error(errc::token_not_yet_valid, operation, "nbf is in the future (leeway " + std::to_string(leeway.count()) + " s)");
  return t;
}

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_JWT_HPP
