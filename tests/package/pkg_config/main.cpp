// Consumer of an installed oidc built from `pkg-config --cflags --libs oidc` alone: a Client with
// a canned transport, the libcurl transport against a closed port and, when the library has it, the
// loopback listener, so each private module in Requires.private is actually linked. Exits non-zero
// on any mismatch, so running it is a test.
#include <oidc/oidc.hpp>
#include <oidc/loopback.hpp>

#include "../consumer_check.hpp"

#include <iostream>
#include <string>

int main() {
  using consumer::check;
  consumer::check_version(OIDC_EXPECTED_VERSION, "oidc.pc");

  consumer::Seen seen;
  const oidc::ClientConfig config =
      consumer::canned_client_config(R"({"access_token":"tok-pc","token_type":"bearer","expires_in":3600})", seen);
  try {
    const oidc::Client client(config);
    const oidc::Token token = client.client_credentials();
    check(seen.body == "grant_type=client_credentials", "request body was " + seen.body);
    check(token.authorization_header() == "Bearer tok-pc", "token Authorization header was " + token.authorization_header());
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  consumer::check_closed_port_is_connect_error();

  if (oidc::loopback_available()) {
    try {
      const oidc::LoopbackListener listener;
      const std::string prefix = "http://127.0.0.1:";
      check(listener.redirect_uri().compare(0, prefix.size(), prefix) == 0,
            "loopback redirect_uri was " + listener.redirect_uri());
    } catch (const std::exception& e) {
      check(false, std::string("LoopbackListener threw: ") + e.what());
    }
  }

  if (consumer::failures != 0) return 1;
  std::cout << "pkg-config consumer: OK (oidc " << OIDC_VERSION << ")\n";
  return 0;
}
