// Refreshes refused the way glewlwyd refuses them: a bare 403 with an empty body, no OAuth error.
// The embedded provider replays exactly that (scripted response), over real HTTP with libcurl.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "error_of.hpp"
#include "local_provider.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "provider_fixture.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Token;
using oidc_testing::error_of;
using oidc_testing::LocalProvider;
using oidc_testing::ScriptedResponse;
using oidc_testing::str;

namespace {

class RefreshRefusal : public oidc_testing::ProviderFixture {
 protected:
  static ScriptedResponse empty_403() {
    ScriptedResponse r;
    r.status = 403;
    r.content_type.clear();  // no Content-Type, no body
    return r;
  }
};

}  // namespace

TEST_F(RefreshRefusal, InteractiveSourceNeedsLoginAfterAnEmpty403) {
  const Client client(device_client_config());
  provider.auto_approve_after_polls(0);
  const Token login = client.poll_device_token(client.device_authorization());
  ASSERT_TRUE(login.has_refresh_token());
  provider.clear_requests();

  provider.enqueue(LocalProvider::token_path(), empty_403());
  const auto source = client.token_source(login);
  source->invalidate();
  const auto e = error_of([&] { (void)source->token(); });
  EXPECT_EQ(e.code(), errc::interaction_required) << e.what();

  const auto requests = provider.requests(LocalProvider::token_path());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].form_value("grant_type"), std::string("refresh_token"));
}

TEST_F(RefreshRefusal, PasswordSourceLogsInAgainAfterAnEmpty403) {
  ClientConfig cfg = device_client_config();
  cfg.token_endpoint = provider.sid_token_endpoint();
  cfg.client_id = str(LocalProvider::kSidUserDeviceClientId);
  cfg.client_secret = str(LocalProvider::kSidUserDeviceClientSecret);
  cfg.auth_method = ClientAuthMethod::client_secret_post;
  const Client client(cfg);
  const auto source = client.token_source(oidc::grants::Password{
      str(LocalProvider::kAdministratorUsername), str(LocalProvider::kAdministratorPassword), "openid profile"});
  const auto first = source->token();
  ASSERT_TRUE(first->has_refresh_token());

  provider.enqueue(LocalProvider::sid_token_path(), empty_403());
  clock->advance(1801s);
  const auto second = source->token();
  EXPECT_FALSE(second->access_token.equals(first->access_token.expose()));

  const auto requests = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].form_value("grant_type"), std::string("password"));
  EXPECT_EQ(requests[1].form_value("grant_type"), std::string("refresh_token"));
  EXPECT_EQ(requests[2].form_value("grant_type"), std::string("password"));
}
