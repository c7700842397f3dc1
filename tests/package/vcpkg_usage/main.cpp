// What a user of the vcpkg port writes first: a Client, one token. Exits non-zero on a mismatch.
#include <oidc/oidc.hpp>

#include "../consumer_check.hpp"

#include <iostream>
#include <string>

int main() {
  using consumer::check;
  consumer::check_version(OIDC_EXPECTED_VERSION, "the package");
  consumer::Seen seen;
  const oidc::ClientConfig config =
      consumer::canned_client_config(R"({"access_token":"tok-vcpkg","token_type":"bearer","expires_in":60})", seen);
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
