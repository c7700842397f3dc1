// Consumer of an installed oidc: a Client with the application's own transport (canned token
// response), then the installed libcurl transport against a closed loopback port. Exits non-zero
// on any mismatch, so running it is a test.
#include <oidc/oidc.hpp>

#include "../consumer_check.hpp"
#include "error_probe.hpp"

#include <iostream>
#include <string>
#include <system_error>
#include <utility>

int main() {
  using consumer::check;
  consumer::check_version(OIDC_EXPECTED_VERSION, "the package");

  consumer::Seen seen;
  const oidc::ClientConfig config =
      consumer::canned_client_config(R"({"access_token":"tok-123","token_type":"bearer","expires_in":3600})", seen);

  try {
    const oidc::Client client(config);
    const oidc::Token token = client.client_credentials();
    // client_secret_basic: Base64("app:s3cret").
    check(seen.authorization == "Basic YXBwOnMzY3JldA==", "request Authorization header was " + seen.authorization);
    check(seen.body == "grant_type=client_credentials", "request body was " + seen.body);
    check(token.authorization_header() == "Bearer tok-123", "token Authorization header was " + token.authorization_header());
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  // The installed static library must bring libcurl along (a $<LINK_ONLY> dependency found by
  // find_dependency). Nothing listens on port 1, so this is a connect error, not a hang.
  consumer::check_closed_port_is_connect_error();

  // An oidc::Error thrown inside the library (src/file_token_store.cpp: /dev/null is no
  // directory) is caught here by its type, and std::error_code compares categories by address: the
  // code made here, the one made in error_probe's hidden copies of oidc's inline functions and
  // errc::store must all agree, however liboidc is linked.
  try {
    oidc::FileTokenStoreOptions options;
    options.directory = "/dev/null";
    const oidc::FileTokenStore store(std::move(options));
    check(false, "FileTokenStore accepted /dev/null as its directory");
  } catch (const oidc::Error& e) {
    check(e.code() == oidc::errc::store, std::string("expected errc::store, got: ") + e.what());
    check(e.error_code() == oidc::errc::store, "Error::error_code() is not errc::store");
  }
  const std::error_code probed = error_probe::store_refusal("/dev/null");
  check(probed == oidc::errc::store, "error_probe's code (" + probed.message() + ", category " +
                                         (probed ? probed.category().name() : "none") +
                                         ") is not errc::store: two oidc::error_category() objects");
  check(!probed || &probed.category() == &oidc::error_category(), "error_probe has its own error category");

  if (consumer::failures != 0) return 1;
  std::cout << "find_package consumer: OK (oidc " << OIDC_VERSION << ")\n";
  return 0;
}
