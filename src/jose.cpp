// Placeholder until the OpenSSL implementation lands (issue 14): every entry point throws.
#include "oidc/jose.hpp"

#include "oidc/error.hpp"

namespace oidc {
namespace {
[[noreturn]] void pending(const char* what) { throw Error(errc::config, what, "not implemented yet"); }
}  // namespace

VerificationKey VerificationKey::from_jwk(const nlohmann::json&, const std::string&, bool) { pending("JWK"); }
VerificationKey VerificationKey::from_pem(std::string_view, std::string) { pending("PEM key"); }
VerificationKey VerificationKey::from_secret(const Secret&, std::string) { pending("HMAC key"); }
bool VerificationKey::accepts(JwsAlgorithm) const noexcept { return false; }
bool VerificationKey::verify(JwsAlgorithm, std::string_view, std::string_view) const noexcept { return false; }
SigningKey SigningKey::from_pem(const Secret&, std::string, std::optional<JwsAlgorithm>) { pending("PEM key"); }
SigningKey SigningKey::from_secret(Secret, JwsAlgorithm, std::string) { pending("HMAC key"); }
SigningKey SigningKey::generate(JwsAlgorithm, std::string) { pending("key generation"); }
std::string SigningKey::sign(std::string_view) const { pending("JWS signature"); }
nlohmann::json SigningKey::public_jwk() const { pending("JWK"); }
VerificationKey SigningKey::verification_key() const { pending("JWK"); }
Secret SigningKey::private_pem() const { pending("PEM key"); }
std::string jws_hash(JwsAlgorithm, std::string_view) { pending("hash"); }
}  // namespace oidc
