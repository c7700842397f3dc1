#ifndef OIDC_CLIENT_AUTH_HPP
#define OIDC_CLIENT_AUTH_HPP

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/detail/base64.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/http.hpp"
#include "oidc/secret.hpp"

namespace oidc {

// How the client authenticates to the token endpoint (RFC 6749 §2.3; names as in RFC 8414's
// token_endpoint_auth_methods_supported).
enum class ClientAuthMethod {
  client_secret_basic,  // HTTP Basic; the one every server must support (RFC 6749 §2.3.1)
  client_secret_post,   // client_id and client_secret in the form body (all four seed documents)
  none,                 // public client: client_id in the body, no secret
  // Opt-in (golang.org/x/oauth2's AuthStyleAutoDetect): try client_secret_basic; if the server
  // answers invalid_client or 401, retry once with client_secret_post. The method that got a
  // success is remembered per endpoint URL for the Client's lifetime; other failures decide nothing.
  auto_detect,
};

namespace detail {

// The Basic credential encoding: RFC 6749 §2.3.1 says application/x-www-form-urlencoded
// (Appendix B) before Base64; like Go's url.QueryEscape (what most servers were tested against),
// the RFC 3986 unreserved characters A-Z a-z 0-9 - . _ ~ pass unencoded, space becomes '+', and
// every other byte is %XX. Servers that compare the raw value without decoding then still match
// ids and secrets made of unreserved characters.
inline std::string basic_credential_encode(std::string_view in) {
  return plus_percent_encode(
      in, [](unsigned char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; });
}

// True when a token endpoint refused the client's authentication itself (RFC 6749 §5.2
// invalid_client, or a bare 401), as opposed to the grant: what makes auto_detect switch method.
inline bool is_client_auth_failure(int status, std::string_view oauth_error) {
  return status == 401 || oauth_error == "invalid_client";
}

// One client's credentials, prepared once per Client: the Basic header value is encoded at
// construction instead of on every request, and auto_detect's outcome is remembered per endpoint.
// Safe for concurrent use.
class ClientAuthentication {
 public:
  ClientAuthentication(ClientAuthMethod method, std::string client_id, Secret secret)
      : method_(method), client_id_(std::move(client_id)), secret_(std::move(secret)) {
    // A client without a secret is a public client whatever the method says.
    if (secret_.empty()) method_ = ClientAuthMethod::none;
    if (method_ == ClientAuthMethod::client_secret_basic || method_ == ClientAuthMethod::auto_detect) {
      basic_plain_ = basic_credential_encode(client_id_) + ":" + basic_credential_encode(secret_.expose());
      basic_credential_ = base64_encode(basic_plain_.expose());
      basic_header_ = "Basic " + basic_credential_.expose();
    }
  }

  ClientAuthentication(const ClientAuthentication&) = delete;
  ClientAuthentication& operator=(const ClientAuthentication&) = delete;

  [[nodiscard]] ClientAuthMethod configured_method() const noexcept { return method_; }
  [[nodiscard]] const std::string& client_id() const noexcept { return client_id_; }

  // The method to use at `endpoint`: the configured one, or for auto_detect the one that worked
  // there before; nullopt while auto_detect has not decided (then probe, see is_client_auth_failure).
  [[nodiscard]] std::optional<ClientAuthMethod> method_for(std::string_view endpoint) const {
    if (method_ != ClientAuthMethod::auto_detect) return method_;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = learned_.find(endpoint);
    if (it == learned_.end()) return std::nullopt;
    return it->second;
  }

  // auto_detect: `method` got a success at `endpoint`; later requests there use it without probing.
  void remember(std::string_view endpoint, ClientAuthMethod method) const {
    if (method_ != ClientAuthMethod::auto_detect) return;
    std::lock_guard<std::mutex> lock(mutex_);
    learned_.emplace(std::string(endpoint), method);
  }

  // Adds authentication by `method` (a concrete one, not auto_detect): the form parameters go to
  // `form`, the Authorization header to `headers`, and every value sent that reveals the secret to
  // `sent`, so that error excerpts can mask it (a server may echo the header back).
  void apply(ClientAuthMethod method, Params& form, Headers& headers, std::vector<Secret>& sent) const {
    if (secret_.empty() || method == ClientAuthMethod::none) {
      form.emplace_back("client_id", client_id_);
      return;
    }
    sent.push_back(secret_);
    if (method == ClientAuthMethod::client_secret_post) {
      form.emplace_back("client_id", client_id_);
      form.emplace_back("client_secret", secret_.expose());
    } else {
      headers.set("Authorization", basic_header_.expose());
      // Both: the redactor derives every Base64 form of "id:secret" (either alphabet, padded or
      // not, inside a longer run) from the plain one.
      sent.push_back(basic_plain_);
      sent.push_back(basic_credential_);
    }
  }

 private:
  ClientAuthMethod method_;
  std::string client_id_;
  Secret secret_;
  Secret basic_plain_;       // id:secret, each encoded
  Secret basic_credential_;  // base64(id:secret), precomputed
  Secret basic_header_;      // "Basic " + basic_credential_
  mutable std::mutex mutex_;
  mutable std::map<std::string, ClientAuthMethod, std::less<>> learned_;  // auto_detect, by endpoint
};

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_CLIENT_AUTH_HPP
