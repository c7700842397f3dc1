#ifndef OIDC_PKCE_HPP
#define OIDC_PKCE_HPP

/// \file
/// Proof Key for Code Exchange (RFC 7636). The verifier stays with the client; the challenge goes in
/// the authorization request, the verifier in the code exchange.
#include <cstddef>
#include <string>
#include <string_view>

#include "oidc/crypto.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/error.hpp"
#include "oidc/secret.hpp"

namespace oidc {

/// The `code_challenge_method` (RFC 7636 §4.2).
enum class PkceMethod {
  S256,   ///< The default: challenge = BASE64URL(SHA256(verifier)).
  plain,  ///< challenge = verifier; only for servers that cannot do S256 (RFC 7636 §4.2), on request.
};

/// The method's RFC 7636 name, `"S256"` or `"plain"`, as sent in `code_challenge_method`.
inline const char* to_string(PkceMethod m) noexcept { return m == PkceMethod::S256 ? "S256" : "plain"; }

/// A PKCE pair (RFC 7636 §4.1–4.2): made by make_pkce() or pkce_from_verifier().
struct Pkce {
  Secret verifier;        ///< `code_verifier`, sent only to the token endpoint; redacted when printed.
  std::string challenge;  ///< `code_challenge`, sent in the authorization request.
  PkceMethod method = PkceMethod::S256;  ///< `code_challenge_method` used to derive \ref challenge.
};

namespace detail {
// RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
inline bool is_pkce_verifier(std::string_view v) noexcept {
  if (v.size() < 43 || v.size() > 128) return false;
  for (const unsigned char c : v)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == '~'))
      return false;
  return true;
}
}  // namespace detail

/// The challenge for a verifier the caller made (RFC 7636 §4.2).
/// \throws oidc::Error `errc::config` when \p verifier is not 43 to 128 characters of
///         `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1); the message does not contain the verifier.
inline Pkce pkce_from_verifier(std::string verifier, PkceMethod method = PkceMethod::S256) {
  if (!detail::is_pkce_verifier(verifier))
    throw Error(errc::config, "PKCE", "a code_verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)");
  Pkce p;
  if (method == PkceMethod::S256) {
    const auto digest = sha256(verifier);
    p.challenge = detail::base64url_encode(
        std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  } else {
    p.challenge = verifier;
  }
  p.verifier = Secret(std::move(verifier));
  p.method = method;
  return p;
}

/// A fresh verifier of 32 CSPRNG bytes (43 characters, 256 bits: RFC 7636 §7.1) and its challenge.
/// The random bytes are wiped once encoded; the verifier lives only in the returned Secret.
inline Pkce make_pkce(PkceMethod method = PkceMethod::S256) {
  auto bytes = random_bytes(32);
  auto verifier = detail::base64url_encode(bytes);
  detail::secure_wipe(bytes);
  return pkce_from_verifier(std::move(verifier), method);
}

}  // namespace oidc

#endif  // OIDC_PKCE_HPP
