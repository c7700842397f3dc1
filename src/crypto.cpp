#include "oidc/crypto.hpp"

#include "oidc/error.hpp"

#ifdef OIDC_WITH_OPENSSL
#include <openssl/evp.h>
#include <openssl/rand.h>
#endif

#include <climits>

namespace oidc {

#ifdef OIDC_WITH_OPENSSL

bool crypto_available() noexcept { return true; }

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > static_cast<std::size_t>(INT_MAX)) throw Error(errc::config, "random bytes", "too many bytes asked for");
  if (n != 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw Error(errc::config, "random bytes", "OpenSSL's CSPRNG failed");
  return out;
}

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
    throw Error(errc::config, "sha256", "OpenSSL's SHA-256 failed");
  return out;
}

#else

namespace {
[[noreturn]] void no_openssl(const char* what) {
  throw Error(errc::config, what,
              "the library was built without OpenSSL (OIDC_WITH_OPENSSL=OFF); pass your own state, nonce and "
              "PKCE values");
}
}  // namespace

bool crypto_available() noexcept { return false; }
std::string random_bytes(std::size_t) { no_openssl("random bytes"); }
std::array<unsigned char, 32> sha256(std::string_view) { no_openssl("sha256"); }

#endif

}  // namespace oidc
