// What a user of the vcpkg port writes first: a Client, one token. Exits non-zero on a mismatch.
#include <oidc/oidc.hpp>

#include "../consumer_check.hpp"

#include <iostream>
#include <string>

int main() {
  using consumer::check;
  check(std::string(OIDC_VERSION) == OIDC_EXPECTED_VERSION,
        std::string("oidc/version.hpp says ") + OIDC_VERSION + ", the package says " + OIDC_EXPECTED_VERSION);
  consumer::Seen seen;
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.transport =
      consumer::canned_token_transport(R"({"access_token":"tok-vcpkg","token_type":"bearer","expires_in":60})", seen);
  try {
    const oidc::Client client(config);
    check(client.client_credentials().authorization_header() == "Bearer tok-vcpkg", "unexpected token");
    check(seen.calls == 1, "expected one token request, saw " + std::to_string(seen.calls));
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }
  if (consumer::failures != 0) return 1;
  std::cout << "vcpkg usage consumer: OK (oidc " << OIDC_VERSION << ")\n";
  return 0;
}
