#ifndef OIDC_ID_TOKEN_HPP
#define OIDC_ID_TOKEN_HPP

/// \file
/// ID token validation (OpenID Connect Core 1.0 §3.1.3.7, §3.2.2.11, §3.3.2.12, §12.2): the
/// signature with a key of the provider's set (or, for HS*, the client secret), then every claim
/// rule, each failure with its own errc.

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/base64.hpp"
#include "oidc/error.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwt.hpp"
#include "oidc/secret.hpp"

namespace oidc {

class IdToken;

/// What validate_id_token() requires of an ID token (OIDC Core §3.1.3.7). \ref issuer,
/// \ref client_id and \ref now must be set (`errc::config` otherwise).
struct IdTokenChecks {
  std::string issuer;     ///< `iss` must equal it byte for byte (no trailing-slash games).
  /// Must be in `aud`; `azp` must equal it when present, and is required when `aud` has several values.
  std::string client_id;
  std::vector<JwsAlgorithm> algorithms{JwsAlgorithm::RS256};  ///< The `alg` allow-list; `none` is never accepted.
  /// Enables HS* (only if also in \ref algorithms): the key is the secret's octets (OIDC Core §10.1).
  std::optional<Secret> client_secret;
  std::chrono::system_clock::time_point now;  ///< Required: the caller's Clock's time.
  std::chrono::seconds leeway{30};  ///< Tolerated clock difference for exp, iat, nbf, auth_time; within [0 s, 24 h].
  std::string nonce;  ///< Non-empty: the `nonce` claim must be present and equal (compared in constant time).
  /// When set, `auth_time` is required and auth_time + max_age + leeway must not be before now.
  std::optional<std::chrono::seconds> max_age;
  std::string access_token;      ///< Non-empty: `at_hash` is checked when present (OIDC Core §3.1.3.6).
  bool require_at_hash = false;  ///< `at_hash` must be present; the implicit "id_token token" response requires it.
  std::string code;              ///< Non-empty: `c_hash` is checked when present (hybrid flow, §3.3.2.11).
  bool require_c_hash = false;   ///< `c_hash` must be present.
  /// The ID token this one replaces (§12.2): a refreshed ID token has the same iss, sub and aud as
  /// it, the same auth_time when both have one, and no nonce or the same one. Not owned; null: no
  /// such check.
  const IdToken* previous = nullptr;
};

/// A validated ID token; an immutable value, made only by validate_id_token().
class IdToken {
 public:
  using time_point = std::chrono::system_clock::time_point;  ///< The Clock's time point.

  /// The compact JWT, as sent for id_token_hint. A credential: never printed by operator<<.
  [[nodiscard]] const std::string& raw() const noexcept { return raw_; }
  [[nodiscard]] const nlohmann::json& header() const noexcept { return header_; }  ///< The JOSE header.
  [[nodiscard]] const nlohmann::json& claims() const noexcept { return claims_; }  ///< Every claim of the payload.
  [[nodiscard]] const std::string& issuer() const noexcept { return issuer_; }     ///< `iss`, the expected issuer.
  [[nodiscard]] const std::string& subject() const noexcept { return subject_; }   ///< `sub`: 1 to 255 bytes.
  /// `aud` as a list (a single string becomes one element); holds the client id.
  [[nodiscard]] const std::vector<std::string>& audience() const noexcept { return audience_; }
  [[nodiscard]] time_point expires_at() const noexcept { return expires_at_; }  ///< `exp`.
  [[nodiscard]] time_point issued_at() const noexcept { return issued_at_; }    ///< `iat`.
  /// `auth_time`, when the token has one (always when IdTokenChecks::max_age was set).
  [[nodiscard]] std::optional<time_point> auth_time() const noexcept { return auth_time_; }
  [[nodiscard]] std::optional<std::string> nonce() const { return string_claim("nonce"); }  ///< `nonce`.
  /// `azp`; when present it is the client id.
  [[nodiscard]] std::optional<std::string> authorized_party() const { return string_claim("azp"); }

  /// A claim as a string; nullopt when absent or not a string.
  [[nodiscard]] std::optional<std::string> string_claim(std::string_view name) const {
    return detail::string_claim_if(claims_, name);
  }
  /// A claim as a bool; nullopt when absent or not a bool.
  [[nodiscard]] std::optional<bool> bool_claim(std::string_view name) const {
    return detail::bool_claim_if(claims_, name);
  }

  /// \name Standard claims
  /// OIDC Core §5.1 and §2; nullopt when absent or of another JSON type.
  ///@{
  [[nodiscard]] std::optional<std::string> email() const { return string_claim("email"); }  ///< `email`.
  /// `email_verified`.
  [[nodiscard]] std::optional<bool> email_verified() const { return bool_claim("email_verified"); }
  [[nodiscard]] std::optional<std::string> name() const { return string_claim("name"); }  ///< `name`.
  /// `preferred_username`; not unique and not stable, so never a key for the user (use subject()).
  [[nodiscard]] std::optional<std::string> preferred_username() const { return string_claim("preferred_username"); }
  [[nodiscard]] std::optional<std::string> acr() const { return string_claim("acr"); }  ///< `acr`.
  /// `amr`'s string members; empty when absent or not an array.
  [[nodiscard]] std::vector<std::string> amr() const {
    std::vector<std::string> out;
    const auto it = claims_.find("amr");
    if (it != claims_.end() && it->is_array())
      for (const auto& v : *it)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
  }
  ///@}

 private:
  IdToken() = default;
  friend IdToken validate_id_token(std::string_view jwt, const KeySource& keys, const IdTokenChecks& checks);

  std::string raw_;
  nlohmann::json header_, claims_;
  std::string issuer_, subject_;
  std::vector<std::string> audience_;
  time_point expires_at_, issued_at_;
  std::optional<time_point> auth_time_;
};

/// Prints `IdToken(iss="...", sub="...")`: the issuer and subject, never the token.
inline std::ostream& operator<<(std::ostream& os, const IdToken& t) {
  return os << "IdToken(iss=" << detail::quote_value(t.issuer()) << ", sub=" << detail::quote_value(t.subject()) << ")";
}

namespace detail {

// at_hash / c_hash (OIDC Core §3.1.3.6): base64url of the left half of the hash of the value by
// the hash function of the token's alg, compared in constant time. A required claim that is
// absent is errc::missing_claim.
inline void check_half_hash(const nlohmann::json& claims, const char* name, JwsAlgorithm alg, std::string_view value,
                            bool required, const std::string& operation) {
  const auto claim = optional_string_claim(claims, name, operation);
  if (!claim) {
    if (required) throw Error(errc::missing_claim, operation, "the " + claim_name(name) + " claim is missing");
    return;
  }
  const auto digest = jws_hash(alg, value);
  const auto expected = base64url_encode(std::string_view(digest).substr(0, digest.size() / 2));
  if (!constant_time_equal(expected, *claim))
    throw Error(errc::hash_mismatch, operation, "the " + claim_name(name) + " claim does not match");
}

inline bool same_audience(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return a == b;
}

}  // namespace detail

/// Validates an ID token (OIDC Core §3.1.3.7): its JWS form, typ not "at+jwt", the signature with
/// a key of \p keys (HS* only with IdTokenChecks::client_secret), then iss, sub, aud/azp,
/// exp/iat/nbf, nonce, auth_time/max_age, at_hash/c_hash and the §12.2 refresh rules, in that order.
///
/// \throws oidc::Error with the failed rule's errc: `config` for checks missing issuer, client_id
///         or now; `jwt_malformed`, `algorithm_rejected`, `key_not_found`, `signature_invalid`;
///         `token_type_mismatch`; `issuer_mismatch`, `missing_claim`, `audience_mismatch`,
///         `token_expired`, `token_not_yet_valid`, `nonce_mismatch`, `auth_time_too_old`,
///         `hash_mismatch`, `subject_mismatch`; and what \p keys throws (a JwksCache that
///         has no key set yet: its fetch's error). Messages quote only short, printable claim values (iss,
///         aud), never the token.
inline IdToken validate_id_token(std::string_view jwt, const KeySource& keys, const IdTokenChecks& checks) {
  const std::string op = "ID token validation";
  if (checks.issuer.empty() || checks.client_id.empty())
    throw Error(errc::config, op, "the expected issuer and client_id must be set");
  if ((checks.require_at_hash && checks.access_token.empty()) || (checks.require_c_hash && checks.code.empty()))
    throw Error(errc::config, op, "at_hash or c_hash is required but no access token or code was given");
  Jws jws = parse_jws(jwt, op);
  // An access token of the same provider is signed by the same keys: its typ tells it apart.
  if (detail::is_access_token_typ(jws.typ))
    throw Error(errc::token_type_mismatch, op, "the token is a JWT access token (typ at+jwt), not an ID token");
  std::optional<VerificationKey> hmac;
  if (is_symmetric(jws.alg) && checks.client_secret && !checks.client_secret->empty())
    hmac = VerificationKey::from_secret(*checks.client_secret);
  verify_jws(jws, keys, checks.algorithms, op, hmac ? &*hmac : nullptr);

  const auto& c = jws.payload;
  IdToken t;
  t.issuer_ = detail::checked_issuer(c, checks.issuer, op);
  t.subject_ = detail::checked_subject(c, op);
  t.audience_ = detail::checked_audience(c, checks.client_id, op);
  const auto azp = detail::optional_string_claim(c, "azp", op);
  if (azp && *azp != checks.client_id)
    throw Error(errc::audience_mismatch, op, "azp " + detail::quote_value(*azp) + " is not the client id");
  if (!azp && t.audience_.size() > 1)
    throw Error(errc::audience_mismatch, op, "aud has several values and there is no azp (OIDC Core §3.1.3.7)");
  const auto times = detail::checked_times(c, checks.now, checks.leeway, op);
  t.expires_at_ = times.expires_at;
  t.issued_at_ = times.issued_at;

  const auto nonce = detail::optional_string_claim(c, "nonce", op);
  if (!checks.nonce.empty() && (!nonce || !detail::constant_time_equal(*nonce, checks.nonce)))
    throw Error(errc::nonce_mismatch, op, nonce ? "the nonce is not the one sent" : "the nonce claim is missing");

  t.auth_time_ = detail::optional_date_claim(c, "auth_time", op);
  if (checks.max_age) {
    if (!t.auth_time_) throw Error(errc::auth_time_too_old, op, "max_age was requested and auth_time is missing");
    if (*t.auth_time_ + *checks.max_age + checks.leeway < checks.now)
      throw Error(errc::auth_time_too_old, op,
                  "the authentication is older than max_age " + std::to_string(checks.max_age->count()) + " s");
  }
  if (!checks.access_token.empty())
    detail::check_half_hash(c, "at_hash", jws.alg, checks.access_token, checks.require_at_hash, op);
  if (!checks.code.empty()) detail::check_half_hash(c, "c_hash", jws.alg, checks.code, checks.require_c_hash, op);

  if (const IdToken* p = checks.previous) {
    if (t.issuer_ != p->issuer_) throw Error(errc::issuer_mismatch, op, "iss differs from the original ID token's (OIDC Core §12.2)");
    if (t.subject_ != p->subject_)
      throw Error(errc::subject_mismatch, op, "sub differs from the original ID token's (OIDC Core §12.2)");
    if (!detail::same_audience(t.audience_, p->audience_))
      throw Error(errc::audience_mismatch, op, "aud differs from the original ID token's (OIDC Core §12.2)");
    if (t.auth_time_ && p->auth_time_ && *t.auth_time_ != *p->auth_time_)
      throw Error(errc::auth_time_too_old, op, "auth_time differs from the original ID token's (OIDC Core §12.2)");
    const auto before = p->nonce();
    if (nonce && (!before || !detail::constant_time_equal(*nonce, *before)))
      throw Error(errc::nonce_mismatch, op, "the nonce differs from the original ID token's (OIDC Core §12.2)");
  }
  t.raw_ = std::string(jwt);
  t.header_ = std::move(jws.header);
  t.claims_ = std::move(jws.payload);
  return t;
}

}  // namespace oidc

#endif  // OIDC_ID_TOKEN_HPP
