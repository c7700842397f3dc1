#ifndef OIDC_CLIENT_AUTH_HPP
#define OIDC_CLIENT_AUTH_HPP

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
};

namespace detail {

// Adds client authentication to a token/device/revocation request. A client without a secret is a
// public client whatever the method says: it identifies itself with client_id in the body. A
// credential built here that is not in `form` (the Basic one) is added to `sent_secrets`, so error
// messages mask it (and its Base64) when a server echoes the header back.
inline void apply_client_auth(ClientAuthMethod method, const std::string& client_id, const Secret& secret,
                              Params& form, Headers& headers, std::vector<Secret>* sent_secrets = nullptr) {
  if (secret.empty() || method == ClientAuthMethod::none) {
    form.emplace_back("client_id", client_id);
  } else if (method == ClientAuthMethod::client_secret_post) {
    form.emplace_back("client_id", client_id);
    form.emplace_back("client_secret", secret.expose());
  } else {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64 (servers decode both).
    Secret credentials = form_encode_component(client_id) + ":" + form_encode_component(secret.expose());
    headers.set("Authorization", "Basic " + base64_encode(credentials.expose()));
    if (sent_secrets) sent_secrets->push_back(std::move(credentials));
  }
}

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_CLIENT_AUTH_HPP
