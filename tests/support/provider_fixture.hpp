#ifndef OIDC_TESTS_PROVIDER_FIXTURE_HPP
#define OIDC_TESTS_PROVIDER_FIXTURE_HPP

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "fake_clock.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "local_provider.hpp"

namespace oidc_testing {

// The seed constants are string_views; configs want strings.
inline std::string str(std::string_view s) { return std::string(s); }

// Integration tests against the embedded provider. The provider is the first member so that it
// outlives every Client and curl transport a test creates (its destructor waits for their idle
// keep-alive connections). A test that provokes malformed requests on purpose clears
// expect_no_rejections; every other test fails if the provider rejected anything.
class ProviderFixture : public ::testing::Test {
 protected:
  LocalProvider provider;
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  bool expect_no_rejections = true;

  // The provider's public device client over the real libcurl transport and the fake clock.
  oidc::ClientConfig device_client_config() const {
    oidc::ClientConfig c;
    c.device_authorization_endpoint = provider.device_endpoint();
    c.token_endpoint = provider.token_endpoint();
    c.client_id = str(LocalProvider::kDeviceClientId);
    c.transport = oidc::make_curl_transport();
    c.clock = clock;
    return c;
  }

  void TearDown() override {
    if (!expect_no_rejections) return;
    for (const auto& r : provider.rejections()) ADD_FAILURE() << "provider rejected " << r.path << ": " << r.reason;
  }
};

// What every form POST of the library carries, whatever the endpoint: one Content-Type of
// application/x-www-form-urlencoded (RFC 6749 Appendix B) and a request for JSON back.
inline void expect_library_form_post(const RecordedRequest& r) {
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.headers.count("Content-Type"), 1u);
  EXPECT_EQ(r.header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.headers.count("Accept"), 1u);
  EXPECT_EQ(r.header("Accept"), "application/json");
}

}  // namespace oidc_testing

#endif  // OIDC_TESTS_PROVIDER_FIXTURE_HPP
