#ifndef OIDC_CRYPTO_HPP
#define OIDC_CRYPTO_HPP

/// \file
/// The randomness and hashing the protocol needs: state, nonce, PKCE verifiers and JWT ids from a
/// CSPRNG, SHA-256 for PKCE S256. Defined in src/ with OpenSSL 3 (RAND_bytes, EVP), which never
/// reaches a public header. A library built with OIDC_WITH_OPENSSL=OFF has no CSPRNG of its own:
/// these throw errc::config, and callers must pass their own state, nonce and PKCE verifier and
/// challenge (see AuthorizationOptions) or the flows that need them refuse to start.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "oidc/export.hpp"

namespace oidc {

/// Whether the library was built with OpenSSL, so the functions below work.
OIDC_API bool crypto_available() noexcept;

/// \p n bytes from OpenSSL's CSPRNG. Throws errc::config without OpenSSL, and also when the CSPRNG
/// fails: no retry by the caller would fix either.
OIDC_API std::string random_bytes(std::size_t n);

/// SHA-256 of \p data (raw digest). Throws errc::config without OpenSSL.
OIDC_API std::array<unsigned char, 32> sha256(std::string_view data);

}  // namespace oidc

#endif  // OIDC_CRYPTO_HPP
