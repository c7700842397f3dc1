// The fixture itself: the provider is up, speaks TLS with the test's CA only, and its discovery
// document names what the rest of the suite relies on.
#include <gtest/gtest.h>

#include "interop_support.hpp"
#include "oidc/error.hpp"

namespace {

using oidc_interop::Provider;

TEST(InteropProvider, DiscoveryNamesEveryEndpointTheSuiteUses) {
  const auto& p = Provider::get();
  EXPECT_EQ(p.metadata().at("issuer"), p.issuer());
  for (const char* name : {"token_endpoint", "device_authorization_endpoint", "authorization_endpoint",
                           "userinfo_endpoint", "revocation_endpoint", "introspection_endpoint", "jwks_uri"})
    EXPECT_EQ(p.endpoint(name).rfind(p.issuer() + "/", 0), 0u) << name;
  EXPECT_EQ(p.metadata().at("authorization_response_iss_parameter_supported"), true);
}

// TLS verification is on: without the test CA, the library refuses the provider's certificate.
TEST(InteropProvider, TheLibraryTrustsTheProviderOnlyThroughTheTestCa) {
  const auto& p = Provider::get();
  auto config = p.config(oidc_interop::kCcBasic);
  config.transport = oidc::make_curl_transport();  // the system's CAs only
  const oidc::Client client(config);
  try {
    (void)client.client_credentials();
    FAIL() << "a certificate of the test CA was accepted without it";
  } catch (const oidc::Error& e) {
    EXPECT_EQ(e.code(), oidc::errc::tls) << e.what();
  }
  EXPECT_FALSE(oidc::Client(p.config(oidc_interop::kCcBasic)).client_credentials().access_token.empty());
}

}  // namespace
