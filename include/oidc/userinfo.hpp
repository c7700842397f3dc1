#ifndef OIDC_USERINFO_HPP
#define OIDC_USERINFO_HPP

/// \file
/// The UserInfo endpoint (OIDC Core §5.3): a GET with the access token as Bearer credential,
/// answered with the user's claims as JSON or as a signed JWT (application/jwt, §5.3.2). The
/// response's `sub` must be the ID token's: a userinfo answer for another user is token
/// substitution (§5.3.2), errc::subject_mismatch.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/failure.hpp"
#include "oidc/detail/redact.hpp"
#include "oidc/detail/request.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwt.hpp"
#include "oidc/secret.hpp"
#include "oidc/token.hpp"

namespace oidc {

/// The claims of one UserInfo response (OIDC Core §5.3.2), an immutable value. Values are the
/// server's text as sent (not escaped): pass them through detail::printable before showing them on
/// a terminal. The OIDC Core §5.1 accessors (name() ... zoneinfo()) return "" (email_verified():
/// nullopt) when the claim is absent or not of its type.
class UserInfo {
 public:
  /// Claims from a JSON response or a verified JWT: an object (errc::parse otherwise) whose `sub`
  /// is a non-empty string of at most 255 bytes (detail::checked_subject: errc::missing_claim
  /// otherwise), equal to \p expected_subject when that is not empty (errc::subject_mismatch).
  /// Neither subject is quoted in the message.
  /// \param is_signed whether \p claims come from a verified signed JWT, reported by is_signed().
  static UserInfo from_claims(nlohmann::json claims, std::string_view expected_subject, bool is_signed,
                              const std::string& operation = "userinfo") {
    if (!claims.is_object()) throw Error(errc::parse, operation, "the response is not a JSON object");
    auto sub = detail::checked_subject(claims, operation);
    if (!expected_subject.empty() && sub != expected_subject)
      throw Error(errc::subject_mismatch, operation,
                  "\"sub\" is not the expected subject (the ID token's): the answer is about another user");
    UserInfo out;
    out.subject_ = std::move(sub);
    out.claims_ = std::move(claims);
    out.signed_ = is_signed;
    return out;
  }

  [[nodiscard]] const nlohmann::json& claims() const noexcept { return claims_; }  ///< Every claim, a JSON object.
  /// sub: non-empty, at most 255 bytes.
  [[nodiscard]] const std::string& subject() const noexcept { return subject_; }
  /// True when the response was a signed JWT whose signature was verified.
  [[nodiscard]] bool is_signed() const noexcept { return signed_; }

  /// The claim \p name when it is a string (nullopt when absent or of another type).
  [[nodiscard]] std::optional<std::string> string_claim(std::string_view name) const {
    return detail::string_claim_if(claims_, name);
  }
  /// The claim \p name when it is a boolean (OIDC Core §5.1: email_verified, phone_number_verified).
  [[nodiscard]] std::optional<bool> bool_claim(std::string_view name) const {
    return detail::bool_claim_if(claims_, name);
  }

  // OIDC Core §5.1 standard claims; "" when absent or not a string.
  /// §5.1 `name`.
  [[nodiscard]] std::string name() const { return string_claim("name").value_or(""); }
  /// §5.1 `given_name`.
  [[nodiscard]] std::string given_name() const { return string_claim("given_name").value_or(""); }
  /// §5.1 `family_name`.
  [[nodiscard]] std::string family_name() const { return string_claim("family_name").value_or(""); }
  /// §5.1 `preferred_username`: a display name, neither unique nor stable (identify users by subject()).
  [[nodiscard]] std::string preferred_username() const { return string_claim("preferred_username").value_or(""); }
  /// §5.1 `email`; see email_verified().
  [[nodiscard]] std::string email() const { return string_claim("email").value_or(""); }
  /// §5.1 `email_verified`; nullopt when absent or not a boolean.
  [[nodiscard]] std::optional<bool> email_verified() const { return bool_claim("email_verified"); }
  /// §5.1 `phone_number`.
  [[nodiscard]] std::string phone_number() const { return string_claim("phone_number").value_or(""); }
  /// §5.1 `picture`, a URL.
  [[nodiscard]] std::string picture() const { return string_claim("picture").value_or(""); }
  /// §5.1 `locale` (BCP47).
  [[nodiscard]] std::string locale() const { return string_claim("locale").value_or(""); }
  /// §5.1 `zoneinfo` (tz database name).
  [[nodiscard]] std::string zoneinfo() const { return string_claim("zoneinfo").value_or(""); }

 private:
  nlohmann::json claims_ = nlohmann::json::object();
  std::string subject_;
  bool signed_ = false;
};

/// Checks a signed UserInfo response (application/jwt; OIDC Core §5.3.2: signed by the OP with
/// iss and aud when signed) and returns its verified claims, throwing oidc::Error otherwise. The
/// Client passes the ID token machinery here; without one, a signed response is errc::config.
using UserInfoJwtVerifier = std::function<nlohmann::json(std::string_view jwt, const std::string& operation)>;

/// What a signed UserInfo response is checked against (OIDC Core §5.3.2).
struct SignedUserInfoChecks {
  std::string issuer;     ///< iss, when the response has one, must equal it.
  std::string client_id;  ///< aud, when the response has one, must contain it.
  std::vector<JwsAlgorithm> algorithms{JwsAlgorithm::RS256};  ///< The allow-list for alg.
  std::optional<Secret> client_secret;  ///< Enables HS* (only if also in algorithms).
};

/// Verifies a signed UserInfo response with the OP's keys, as verify_jws does for every JWT (alg
/// allow-list, kid selection, no key confusion), and returns its claims. §5.3.2: "If signed, the
/// UserInfo Response SHOULD contain the Claims iss (Issuer) and aud (Audience)"; they are checked
/// when present (errc::issuer_mismatch, errc::audience_mismatch). exp/iat are not required by the
/// spec and not checked. Parsing and signature failures are those of parse_jws and verify_jws.
inline nlohmann::json verify_userinfo_jwt(std::string_view jwt, const KeySource& keys, const SignedUserInfoChecks& checks,
                                          const std::string& operation) {
  Jws jws = parse_jws(jwt, operation);
  std::optional<VerificationKey> hmac;
  if (is_symmetric(jws.alg) && checks.client_secret && !checks.client_secret->empty())
    hmac = VerificationKey::from_secret(*checks.client_secret);
  verify_jws(jws, keys, checks.algorithms, operation, hmac ? &*hmac : nullptr);
  if (jws.payload.contains("iss")) (void)detail::checked_issuer(jws.payload, checks.issuer, operation);
  if (jws.payload.contains("aud")) (void)detail::checked_audience(jws.payload, checks.client_id, operation);
  return std::move(jws.payload);
}

namespace detail {

// The algorithms a signed UserInfo response may use: the configured list, else what the server
// declares (userinfo_signing_alg_values_supported) among the asymmetric ones, else RS256 (as for
// ID tokens, OIDC Core §3.1.3.7 step 7).
inline std::vector<JwsAlgorithm> userinfo_algorithms(const std::vector<JwsAlgorithm>& configured,
                                                     const std::vector<std::string>& declared) {
  if (!configured.empty()) return configured;
  std::vector<JwsAlgorithm> out;
  for (const auto& name : declared)
    if (const auto alg = parse_jws_algorithm(name); alg && !is_symmetric(*alg)) out.push_back(*alg);
  if (out.empty()) out.push_back(JwsAlgorithm::RS256);
  return out;
}

// The RFC 6750 §3 attributes of a Bearer challenge in a WWW-Authenticate header.
struct BearerChallenge {
  bool found = false;  // a Bearer challenge was there
  std::string error;
  std::string error_description;
  std::string error_uri;
};

// Longest WWW-Authenticate value read; a longer one is not parsed (only excerpted).
inline constexpr std::size_t max_www_authenticate_bytes = 8192;

// Reads the Bearer challenge of a WWW-Authenticate value (RFC 9110 §11.6.1: challenges separated
// by commas, each a scheme then auth-params name=token or name="quoted string" with backslash
// escapes; an unquoted value is read up to the next comma or blank, as servers leave URIs
// unquoted). A bounded, single-pass scan that never fails: junk is skipped, an unterminated
// quoted string ends the value, a repeated attribute keeps its first value. The values are raw
// server text: sanitize them (sanitized_oauth_error) before they go into a message.
inline BearerChallenge parse_bearer_challenge(std::string_view h) {
  BearerChallenge out;
  if (h.size() > max_www_authenticate_bytes) return out;
  const auto is_tchar = [](char c) {
    return is_alpha_digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  std::size_t i = 0;
  const auto skip = [&](std::string_view chars) {
    while (i < h.size() && chars.find(h[i]) != std::string_view::npos) ++i;
  };
  bool in_bearer = false;
  while (i < h.size()) {
    skip(" \t,");
    const auto start = i;
    while (i < h.size() && is_tchar(h[i])) ++i;
    const auto name = h.substr(start, i - start);
    if (name.empty()) {
      if (i < h.size()) ++i;  // a byte no grammar rule starts with
      continue;
    }
    skip(" \t");
    if (i >= h.size() || h[i] != '=') {  // a scheme: a new challenge starts
      in_bearer = iequals(name, "Bearer");
      out.found = out.found || in_bearer;
      continue;
    }
    ++i;
    skip(" \t");
    std::string value;
    if (i < h.size() && h[i] == '"') {
      for (++i; i < h.size() && h[i] != '"'; ++i) {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        value += h[i];
      }
      if (i < h.size()) ++i;  // the closing quote
    } else {
      const auto vstart = i;
      while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') ++i;
      value = std::string(h.substr(vstart, i - vstart));
    }
    if (!in_bearer) continue;
    std::string* field = iequals(name, "error")               ? &out.error
                         : iequals(name, "error_description") ? &out.error_description
                         : iequals(name, "error_uri")         ? &out.error_uri
                                                              : nullptr;
    if (field && field->empty()) *field = std::move(value);
  }
  return out;
}

// A protected resource refused the access token (RFC 6750 §3): errc::oauth_error when its Bearer
// challenge names an error (invalid_token, insufficient_scope, ...), else the OAuth error body if
// there is one, else errc::http_status; the header is excerpted masked and escaped.
[[noreturn]] inline void throw_resource_refusal(const HttpResponse& r, const std::string& operation,
                                               const std::vector<std::string_view>& secrets) {
  const auto www = r.headers.get("WWW-Authenticate");
  if (www) {
    const auto challenge = parse_bearer_challenge(*www);
    if (!challenge.error.empty()) {
      Error::Details d;
      d.code = errc::oauth_error;
      d.operation = operation;
      d.http_status = r.status;
      d.oauth = sanitized_oauth_error(challenge.error, challenge.error_description, challenge.error_uri, secrets);
      throw Error(std::move(d));
    }
  }
  const auto body = body_as_object(r);
  if (body.object && body.object->contains("error") && (*body.object)["error"].is_string())
    throw_oauth_error(*body.object, r.status, operation, secrets);
  std::string detail;
  if (r.status == 401 || r.status == 403) detail = "the access token was refused";
  if (www) detail += std::string(detail.empty() ? "" : "; ") + "WWW-Authenticate: " + redacted_text(*www, secrets, 256);
  throw_malformed(errc::http_status, r, operation, std::move(detail), secrets);
}

// A UserInfo response: JSON (through parse_oauth_response: depth limit, duplicate members, error
// bodies) or, as application/jwt, a signed JWT handed to `verify`.
inline UserInfo parse_userinfo_response(const HttpResponse& r, std::string_view expected_subject,
                                        const UserInfoJwtVerifier& verify, const std::string& operation,
                                        const std::vector<std::string_view>& secrets) {
  if (!r.ok()) throw_resource_refusal(r, operation, secrets);
  if (content_type_is(r, "application/jwt")) {
    std::string_view jwt = trim_left(r.body);
    while (!jwt.empty() && (jwt.back() == '\n' || jwt.back() == '\r' || jwt.back() == ' ')) jwt.remove_suffix(1);
    if (!is_compact_jose(jwt) || jwt.empty())
      throw_malformed(errc::jwt_malformed, r, operation, "the application/jwt body is not a compact JWS", secrets);
    if (!verify)
      throw Error(errc::config, operation,
                  "the userinfo endpoint answered with a signed JWT (application/jwt) and this client has no verifier "
                  "for it");
    return UserInfo::from_claims(verify(jwt, operation), expected_subject, true, operation);
  }
  return UserInfo::from_claims(parse_oauth_response(r, operation, secrets), expected_subject, false, operation);
}

// GET `url` with `token` as Bearer credential (RFC 6750 §2.1) through the one request path, and
// parse the answer. Only Bearer tokens: a DPoP or MAC token needs a proof this request cannot
// carry (errc::config).
inline UserInfo request_userinfo(const RequestContext& ctx, const std::string& url, const Token& token,
                                 std::string_view expected_subject, const UserInfoJwtVerifier& verify) {
  const std::string operation = "userinfo request";
  if (url.empty()) throw Error(errc::config, operation, "no userinfo_endpoint configured");
  if (token.access_token.empty()) throw Error(errc::config, operation, "the token has no access_token");
  if (token.type() != "Bearer")
    throw Error(errc::config, operation, "only Bearer tokens can be sent to the userinfo endpoint (RFC 6750)");
  HttpRequest request = make_request(ctx, "GET", url, operation);
  if (verify) request.headers.set("Accept", "application/json, application/jwt");
  request.headers.set("Authorization", token.authorization_header());
  const auto response = send(*ctx.transport, request, operation);
  return parse_userinfo_response(response, expected_subject, verify, operation, {token.access_token.expose()});
}

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_USERINFO_HPP
