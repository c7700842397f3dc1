#ifndef OIDC_JWT_ACCESS_TOKEN_HPP
#define OIDC_JWT_ACCESS_TOKEN_HPP

/// \file
/// JWT access tokens (RFC 9068), for resource servers: the same parse_jws / verify_jws and
/// registered-claim checks as ID tokens, plus typ "at+jwt", client_id, jti and the required scopes.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwt.hpp"

namespace oidc {

/// What validate_access_token checks a JWT access token against (RFC 9068 §4). issuer, audience
/// and now have no default: leaving issuer or audience empty is errc::config, and so is leaving now
/// unset.
struct AccessTokenChecks {
  std::string issuer;    ///< The authorization server's issuer identifier; iss must equal it exactly.
  std::string audience;  ///< This resource server's identifier; must be in aud.
  std::vector<std::string> required_scopes;  ///< Each must be in the "scope" claim, else errc::insufficient_scope.
  /// Asymmetric only: RFC 9068 §4 tokens are signed by the authorization server for any number of
  /// resource servers, so a shared secret would let every one of them mint tokens. HS* here is
  /// errc::config.
  std::vector<JwsAlgorithm> algorithms{JwsAlgorithm::RS256};
  /// Required (the caller's Clock); Client::validate_access_token fills it.
  std::chrono::system_clock::time_point now;
  std::chrono::seconds leeway{30};  ///< Tolerated clock difference for exp, iat and nbf; at most 24 h.
};

/// A validated JWT access token; an immutable value. Holds no copy of the compact token. Made only
/// by validate_access_token.
class JwtAccessToken {
 public:
  using time_point = std::chrono::system_clock::time_point;  ///< Wall-clock instant.

  [[nodiscard]] const nlohmann::json& header() const noexcept { return header_; }  ///< The JOSE header.
  [[nodiscard]] const nlohmann::json& claims() const noexcept { return claims_; }  ///< Every claim, checked or not.
  /// iss, equal to AccessTokenChecks::issuer.
  [[nodiscard]] const std::string& issuer() const noexcept { return issuer_; }
  [[nodiscard]] const std::string& subject() const noexcept { return subject_; }   ///< sub: 1 to 255 bytes.
  /// The client the token was issued to (RFC 9068 §2.2).
  [[nodiscard]] const std::string& client_id() const noexcept { return client_id_; }
  [[nodiscard]] const std::string& jwt_id() const noexcept { return jwt_id_; }     ///< jti, for replay detection.
  [[nodiscard]] const std::vector<std::string>& audience() const noexcept { return audience_; }  ///< aud, as a list.
  /// The space-separated "scope" claim split into its tokens (empty when absent).
  [[nodiscard]] const std::vector<std::string>& scopes() const noexcept { return scopes_; }
  /// Whether \p s is one of scopes(), compared exactly.
  [[nodiscard]] bool has_scope(std::string_view s) const noexcept {
    for (const auto& x : scopes_)
      if (x == s) return true;
    return false;
  }
  [[nodiscard]] time_point expires_at() const noexcept { return expires_at_; }  ///< exp.
  [[nodiscard]] time_point issued_at() const noexcept { return issued_at_; }    ///< iat.

 private:
  JwtAccessToken() = default;
  friend JwtAccessToken validate_access_token(std::string_view jwt, const KeySource& keys, const AccessTokenChecks& checks);

  nlohmann::json header_, claims_;
  std::string issuer_, subject_, client_id_, jwt_id_;
  std::vector<std::string> audience_, scopes_;
  time_point expires_at_, issued_at_;
};

/// Validates a JWT access token (RFC 9068 §4): typ "at+jwt" or "application/at+jwt" (any case)
/// else errc::token_type_mismatch; the signature (asymmetric algorithms of checks.algorithms only);
/// iss (issuer_mismatch), aud containing checks.audience (audience_mismatch), exp (token_expired),
/// iat and nbf (token_not_yet_valid); sub, client_id and jti present (missing_claim); "scope" a
/// valid scope string holding every required scope (insufficient_scope). Parsing and signature
/// failures are those of parse_jws and verify_jws. Every failure is an oidc::Error.
inline JwtAccessToken validate_access_token(std::string_view jwt, const KeySource& keys, const AccessTokenChecks& checks) {
  const std::string op = "JWT access token validation";
  if (checks.issuer.empty() || checks.audience.empty())
    throw Error(errc::config, op, "the expected issuer and audience must be set");
  for (const auto a : checks.algorithms)
    if (is_symmetric(a)) throw Error(errc::config, op, "HS* algorithms are not allowed for JWT access tokens");
  Jws jws = parse_jws(jwt, op);
  if (!detail::is_access_token_typ(jws.typ))
    throw Error(errc::token_type_mismatch, op,
                jws.typ.empty() ? std::string("the JWS header has no typ; RFC 9068 requires \"at+jwt\"")
                                : "typ " + detail::quote_value(jws.typ) + " is not \"at+jwt\" (RFC 9068 §4)");
  verify_jws(jws, keys, checks.algorithms, op);

  const auto& c = jws.payload;
  JwtAccessToken t;
  t.issuer_ = detail::checked_issuer(c, checks.issuer, op);
  t.audience_ = detail::checked_audience(c, checks.audience, op);
  const auto times = detail::checked_times(c, checks.now, checks.leeway, op);
  t.expires_at_ = times.expires_at;
  t.issued_at_ = times.issued_at;
  t.subject_ = detail::checked_subject(c, op);
  t.client_id_ = detail::required_string_claim(c, "client_id", op);
  t.jwt_id_ = detail::required_string_claim(c, "jti", op);
  const auto scope = detail::optional_string_claim(c, "scope", op);
  if (scope && !detail::is_scope(*scope)) throw Error(errc::missing_claim, op, "the \"scope\" claim is not a scope string");
  for (std::string_view rest = scope ? std::string_view(*scope) : std::string_view(); !rest.empty();) {
    const auto sp = rest.find(' ');
    if (sp != 0) t.scopes_.emplace_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  for (const auto& s : checks.required_scopes)
    if (!t.has_scope(s)) throw Error(errc::insufficient_scope, op, "the token lacks the scope " + detail::quote_value(s));
  t.header_ = std::move(jws.header);
  t.claims_ = std::move(jws.payload);
  return t;
}

}  // namespace oidc

#endif  // OIDC_JWT_ACCESS_TOKEN_HPP
