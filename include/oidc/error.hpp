#ifndef OIDC_ERROR_HPP
#define OIDC_ERROR_HPP

#include <cstddef>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "oidc/export.hpp"

namespace oidc {

/// What kind of failure happened: Error::code(), and a std::error_code in error_category().
/// Enumerators are stable; compare against them, not messages.
enum class errc {
  // Transport: the request did not produce an HTTP response.
  transport = 1,       ///< Other network failure.
  dns,                 ///< Host name could not be resolved.
  connect,             ///< Connection refused or host unreachable.
  tls,                 ///< Certificate or handshake failure.
  timeout,             ///< Connect or total deadline passed.
  response_too_large,  ///< Body exceeded the configured cap.
  // The server answered, but not with what we asked for.
  oauth_error,  ///< RFC 6749 §5.2 error body: see Error::oauth().
  http_status,  ///< Non-success status without an OAuth error body.
  parse,        ///< Body is not the JSON (or form) the protocol requires.
  // Client-side decisions.
  config,                ///< Misconfiguration: missing endpoint, empty client_id, ...
  insecure_url,          ///< An http:// URL to a non-loopback host without allow_insecure_http.
  cancelled,             ///< The caller's CancelToken fired.
  deadline_exceeded,     ///< A deadline (device code expiry, caller's wait) passed.
  interaction_required,  ///< No way to renew without the user: log in again.
  // Appended later; values above stay stable.
  protocol,                ///< The server broke HTTP framing (conflicting Content-Length, unasked-for encoding, cut header).
  invalid_request,         ///< The request to send is malformed (CR/LF/NUL in a header, control byte in a URL, no method).
  unsupported_token_type,  ///< A token_type the caller did not allow, such as mac.
  state_mismatch,          ///< An authorization response whose state is absent or not ours (CSRF, mix-up).
  issuer_mismatch,         ///< Another issuer answered: RFC 9207 iss, a discovery document's issuer, an ID token's iss.
  // JOSE and OpenID Connect: one code per validation rule, so callers can tell them apart.
  jwt_malformed,        ///< Not a compact JWS we accept: segments, base64url, JSON, size, crit, duplicate members.
  algorithm_rejected,   ///< The alg is none, unknown, not allowed for this client, or not matching the key's type.
  signature_invalid,    ///< No key of the set verifies the signature.
  key_not_found,        ///< No usable key for the token's kid, even after a refetch of the key set.
  audience_mismatch,    ///< The aud lacks the client id (or resource), or azp is not the client id.
  token_expired,        ///< The exp is past (beyond the leeway).
  token_not_yet_valid,  ///< The nbf or iat is in the future (beyond the leeway).
  nonce_mismatch,       ///< The ID token's nonce is absent or not the one sent.
  hash_mismatch,        ///< The at_hash or c_hash does not match the access token or code.
  auth_time_too_old,    ///< max_age was requested and auth_time is absent or too old.
  subject_mismatch,     ///< The sub changed: a refreshed ID token, or userinfo for another user.
  token_type_mismatch,  ///< The JWT's typ is wrong (RFC 9068 requires at+jwt).
  insufficient_scope,   ///< An access token without a required scope (RFC 9068).
  missing_claim,        ///< A required claim is absent or of the wrong type.
  // Token storage (TokenStore).
  store,           ///< The store failed: I/O, permissions, an unsafe path, a lock not had in time.
  store_mismatch,  ///< A saved token bound to another issuer, client or key, or in an unknown format version.
};

/// The std::error_category of errc; use error_category() for the one instance.
class error_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "oidc"; }  ///< `"oidc"`.
  /// A short fixed description of the errc value \p ev, such as "timed out"; never server text.
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::transport: return "transport failure";
      case errc::dns: return "could not resolve host";
      case errc::connect: return "could not connect";
      case errc::tls: return "TLS failure";
      case errc::timeout: return "timed out";
      case errc::response_too_large: return "response too large";
      case errc::oauth_error: return "authorization server returned an error";
      case errc::http_status: return "unexpected HTTP status";
      case errc::parse: return "malformed response";
      case errc::config: return "invalid configuration";
      case errc::insecure_url: return "insecure URL refused";
      case errc::cancelled: return "cancelled";
      case errc::deadline_exceeded: return "deadline exceeded";
      case errc::interaction_required: return "interactive login required";
      case errc::protocol: return "HTTP protocol violation";
      case errc::invalid_request: return "malformed request refused";
      case errc::unsupported_token_type: return "unsupported token type";
      case errc::state_mismatch: return "authorization response state mismatch";
      case errc::issuer_mismatch: return "issuer mismatch";
      case errc::jwt_malformed: return "malformed JWT";
      case errc::algorithm_rejected: return "JWS algorithm rejected";
      case errc::signature_invalid: return "invalid JWS signature";
      case errc::key_not_found: return "no key for the token";
      case errc::audience_mismatch: return "audience mismatch";
      case errc::token_expired: return "token expired";
      case errc::token_not_yet_valid: return "token not yet valid";
      case errc::nonce_mismatch: return "nonce mismatch";
      case errc::hash_mismatch: return "at_hash or c_hash mismatch";
      case errc::auth_time_too_old: return "authentication too old";
      case errc::subject_mismatch: return "subject mismatch";
      case errc::token_type_mismatch: return "token type mismatch";
      case errc::insufficient_scope: return "insufficient scope";
      case errc::missing_claim: return "missing or malformed claim";
      case errc::store: return "token store failure";
      case errc::store_mismatch: return "saved token does not match";
    }
    return "unknown oidc error";
  }
};

/// The category of errc. Defined in src/error.cpp: std::error_code compares categories by
/// address, so there must be one instance in the process, not one per shared object that
/// includes this header.
OIDC_API const std::error_category& error_category() noexcept;

/// Makes errc usable as a std::error_code (`std::error_code ec = oidc::errc::timeout;`).
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// RFC 6749 §5.2 error response (also RFC 8628 §3.5 codes such as authorization_pending). The
/// members are server text, sanitised (bounded, control characters escaped, sent secrets masked)
/// before the library keeps them.
struct OAuthError {
  std::string error;              ///< The error code, such as `invalid_grant`.
  std::string error_description;  ///< Human-readable text from the server; may be empty.
  std::string error_uri;          ///< A page about the error; empty when absent or not an acceptable https URL.
};

/// The one error type of the library. Every failure of a network call, of a server answer, or of
/// validation is thrown as oidc::Error. Messages never contain secrets or token values.
///
/// what() reads like `token request (grant_type=password): invalid_grant: Invalid user
/// credentials (HTTP 401)`, each part bounded so that it stays one log line (at most 2048 bytes).
class OIDC_API Error : public std::runtime_error {
 public:
  /// Everything an Error carries; what() is formatted from it.
  struct Details {
    errc code = errc::transport;  ///< The kind of failure.
    std::string operation;  ///< What failed, such as "token request (grant_type=password)".
    std::string detail;     ///< Human-readable reason, redacted.
    int http_status = 0;    ///< 0 when no HTTP response was received.
    std::optional<OAuthError> oauth;  ///< Set for `errc::oauth_error`: the server's RFC 6749 §5.2 body.
    std::string body_snippet;  ///< First bytes of an unexpected body, redacted.
  };

  /// An error from all its parts; callers outside the library rarely need more than the other
  /// constructor.
  explicit Error(Details d) : std::runtime_error(format(d)), d_(std::move(d)) {}
  /// An error without HTTP status, OAuth body or body snippet. \p detail must not hold secrets.
  Error(errc code, std::string operation, std::string detail)
      : Error(Details{code, std::move(operation), std::move(detail), 0, std::nullopt, {}}) {}

  [[nodiscard]] errc code() const noexcept { return d_.code; }  ///< The kind of failure.
  /// code() as a std::error_code of error_category().
  [[nodiscard]] std::error_code error_code() const noexcept { return make_error_code(d_.code); }
  /// What failed, such as "token request (grant_type=password)".
  [[nodiscard]] const std::string& operation() const noexcept { return d_.operation; }
  [[nodiscard]] const std::string& detail() const noexcept { return d_.detail; }  ///< Why, redacted.
  /// The HTTP status of the response that failed; 0 when no HTTP response was received.
  [[nodiscard]] int http_status() const noexcept { return d_.http_status; }
  /// The server's RFC 6749 §5.2 error, set for `errc::oauth_error`.
  [[nodiscard]] const std::optional<OAuthError>& oauth() const noexcept { return d_.oauth; }
  /// First bytes of an unexpected body, redacted; may be empty.
  [[nodiscard]] const std::string& body_snippet() const noexcept { return d_.body_snippet; }
  [[nodiscard]] const Details& details() const noexcept { return d_; }  ///< All of the above.

  /// The RFC 6749 error code, or "" when the failure was not an OAuth error response.
  [[nodiscard]] const std::string& oauth_code() const noexcept {
    static const std::string none;  // one per shared object is harmless: only its (empty) value is used
    return d_.oauth ? d_.oauth->error : none;
  }

 private:
  // Bounds of what(): server text is sanitised where it enters (detail/failure.hpp), but Details is
  // public, and a message must stay a log line whatever it was given. The parts' bounds plus the
  // fixed text between them (under 64 bytes) keep what() within max_message_bytes.
  static constexpr std::size_t max_message_bytes = 2048;
  static constexpr std::size_t max_part_bytes = 512;  // description, uri, detail
  static constexpr std::size_t max_operation_bytes = 256, max_code_bytes = 128, max_snippet_bytes = 256;
  static_assert(max_operation_bytes + max_code_bytes + 2 * max_part_bytes + max_snippet_bytes + 64 <= max_message_bytes);

  // At most `max` bytes of `part`, cut at a UTF-8 character boundary, "..." marking a cut.
  static void append_clipped(std::string& s, const std::string& part, std::size_t max = max_part_bytes) {
    if (part.size() <= max) {
      s += part;
      return;
    }
    std::size_t n = max - 3;
    while (n > 0 && (static_cast<unsigned char>(part[n]) & 0xC0) == 0x80) --n;
    s.append(part, 0, n);
    s += "...";
  }

  // "token request (grant_type=password): invalid_grant: Invalid user credentials (HTTP 401)"
  static std::string format(const Details& d) {
    std::string s;
    append_clipped(s, d.operation.empty() ? std::string("oidc") : d.operation, max_operation_bytes);
    s += ": ";
    if (d.oauth) {
      append_clipped(s, d.oauth->error, max_code_bytes);
      if (!d.oauth->error_description.empty()) {
        s += ": ";
        append_clipped(s, d.oauth->error_description);
      }
      if (!d.oauth->error_uri.empty()) {
        s += " (see ";
        append_clipped(s, d.oauth->error_uri);
        s += ")";
      }
    } else {
      s += error_category().message(static_cast<int>(d.code));
      if (!d.detail.empty()) {
        s += ": ";
        append_clipped(s, d.detail);
      }
    }
    if (d.http_status != 0) s += " (HTTP " + std::to_string(d.http_status) + ")";
    if (!d.body_snippet.empty()) {
      s += "; body: ";
      append_clipped(s, d.body_snippet, max_snippet_bytes);
    }
    return s;
  }

  Details d_;
};

/// Prints what().
inline std::ostream& operator<<(std::ostream& os, const Error& e) { return os << e.what(); }

}  // namespace oidc

template <>
struct std::is_error_code_enum<oidc::errc> : std::true_type {};

#endif  // OIDC_ERROR_HPP
