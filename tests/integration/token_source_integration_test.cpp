// CachingTokenSource over real HTTP: the libcurl transport against the LocalProvider, with token
// lifetimes on a FakeClock so expiry is instant.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_clock.hpp"
#include "error_of.hpp"
#include "local_provider.hpp"
#include "provider_fixture.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Error;
using oidc::Params;
using oidc::Token;
using oidc_testing::FakeClock;
using oidc_testing::LocalProvider;
using oidc_testing::error_of;
using oidc_testing::str;

namespace {


class TokenSourceIntegration : public oidc_testing::ProviderFixture {
 protected:
  ClientConfig svc_config() const {
    ClientConfig c;
    c.token_endpoint = provider.token_endpoint();
    c.client_id = str(LocalProvider::kServiceClientId);
    c.client_secret = str(LocalProvider::kServiceClientSecret);
    c.auth_method = ClientAuthMethod::client_secret_post;
    c.transport = oidc::make_curl_transport();
    c.clock = clock;
    return c;
  }

  // A completed device login (the provider approves on the first poll).
  Token device_login(const Client& client) {
    provider.auto_approve_after_polls(0);
    auto token = client.poll_device_token(client.device_authorization());
    provider.clear_requests();
    return token;
  }

  std::size_t token_requests() const { return provider.request_count(LocalProvider::token_path()); }

};

}  // namespace

TEST_F(TokenSourceIntegration, ClientCredentialsTokenIsFetchedOnceAndCached) {
  const Client client(svc_config());
  const auto source = client.token_source(oidc::grants::ClientCredentials{"profile"});

  const auto first = source->token();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(source->token(), first);
    EXPECT_EQ(source->authorization_header(), "Bearer " + first->access_token.expose());
  }
  clock->advance(200s);  // still before the renewal window (300 s - 30 s skew - 30 s ahead)
  EXPECT_EQ(source->token(), first);

  EXPECT_EQ(token_requests(), 1u);
  EXPECT_EQ(source->renewals(), 1u);
  const auto requests = provider.requests(LocalProvider::token_path());
  const Params expected{{"grant_type", "client_credentials"},
                        {"scope", "profile"},
                        {"client_id", "svc"},
                        {"client_secret", "svc-secret"}};
  EXPECT_EQ(requests[0].form, expected);
}

TEST_F(TokenSourceIntegration, ExpiredClientCredentialsTokenIsRenewedWithExactlyOneRequest) {
  const Client client(svc_config());
  const auto source = client.token_source(oidc::grants::ClientCredentials{});
  const auto first = source->token();
  ASSERT_EQ(token_requests(), 1u);

  clock->advance(301s);
  const auto second = source->token();
  EXPECT_NE(second, first);
  EXPECT_FALSE(second->access_token.equals(first->access_token.expose()));
  EXPECT_FALSE(second->expired(clock->now()));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(source->token(), second);

  EXPECT_EQ(token_requests(), 2u);
  const auto requests = provider.requests(LocalProvider::token_path());
  EXPECT_EQ(requests[1].form, requests[0].form);  // client_credentials again: there is no refresh token
}

TEST_F(TokenSourceIntegration, SixteenThreadsOnAnExpiredTokenCauseOneRequest) {
  const Client client(svc_config());
  const auto source = client.token_source(oidc::grants::ClientCredentials{});
  const auto first = source->token();
  clock->advance(301s);

  constexpr int kThreads = 16;
  std::mutex mutex;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  std::vector<std::shared_ptr<const Token>> seen(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      {
        std::unique_lock<std::mutex> lock(mutex);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      try {
        seen[t] = source->token();
      } catch (...) {
        ++failures;
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return ready == kThreads; });
    go = true;
  }
  cv.notify_all();
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(token_requests(), 2u);  // the first token plus exactly one renewal
  EXPECT_EQ(source->renewals(), 2u);
  std::set<const Token*> distinct;
  for (const auto& token : seen) distinct.insert(token.get());
  ASSERT_EQ(distinct.size(), 1u);
  ASSERT_NE(*distinct.begin(), nullptr);
  EXPECT_NE(*distinct.begin(), first.get());
}

TEST_F(TokenSourceIntegration, SixteenThreadsWaitForOneSlowRenewal) {
  const Client client(svc_config());
  const auto source = client.token_source(oidc::grants::ClientCredentials{});
  const auto first = source->token();
  clock->advance(301s);
  // The renewal's answer takes 150 ms, so every thread certainly arrives while it is in flight.
  auto slow = LocalProvider::Response::json(200, R"({"access_token":"renewed","token_type":"Bearer","expires_in":300})");
  slow.delay = 150ms;
  provider.enqueue(LocalProvider::token_path(), slow);

  constexpr int kThreads = 16;
  std::atomic<int> renewed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      try {
        renewed += source->token()->access_token.equals("renewed");
      } catch (const Error& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(renewed.load(), kThreads);
  EXPECT_EQ(token_requests(), 2u);
  EXPECT_EQ(source->renewals(), 2u);
}

TEST_F(TokenSourceIntegration, DeviceTokenSourceRefreshesThroughTheProvider) {
  const Client client(device_client_config());
  const auto login = device_login(client);
  std::vector<std::string> persisted;  // on_token: where an app would store the rotated refresh token
  oidc::TokenSourceOptions options;
  options.on_token = [&](const Token& t) { persisted.push_back(t.refresh_token.expose()); };
  const auto source = client.token_source(login, options);

  const auto initial = source->token();  // the seeded token, served without a request
  EXPECT_TRUE(initial->access_token.equals(login.access_token.expose()));
  EXPECT_EQ(token_requests(), 0u);

  source->invalidate();  // e.g. the resource server answered 401
  const auto refreshed = source->token();
  EXPECT_FALSE(refreshed->access_token.equals(login.access_token.expose()));
  EXPECT_FALSE(refreshed->refresh_token.equals(login.refresh_token.expose()));
  EXPECT_EQ(*refreshed->refresh_expiry, clock->now() + 1800s);

  source->invalidate();
  const auto again = source->token();
  EXPECT_FALSE(again->access_token.equals(refreshed->access_token.expose()));

  const auto requests = provider.requests(LocalProvider::token_path());
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_FALSE(r.has_header("Authorization"));
  }
  // Each refresh uses the refresh token the previous answer rotated in.
  EXPECT_EQ(requests[0].form, (Params{{"grant_type", "refresh_token"},
                                      {"refresh_token", login.refresh_token.expose()},
                                      {"client_id", "device-client"}}));
  EXPECT_EQ(requests[1].form, (Params{{"grant_type", "refresh_token"},
                                      {"refresh_token", refreshed->refresh_token.expose()},
                                      {"client_id", "device-client"}}));
  EXPECT_EQ(persisted, (std::vector<std::string>{refreshed->refresh_token.expose(), again->refresh_token.expose()}));
}

TEST_F(TokenSourceIntegration, DeviceTokenSourceNeedsInteractionOnceTheRefreshTokenExpired) {
  const Client client(device_client_config());
  const auto source = client.token_source(device_login(client));
  clock->advance(86400s);  // access token (86375 s) and refresh token (1775 s) both expired

  const auto e = error_of([&] { (void)source->token(); });
  EXPECT_EQ(e.code(), errc::interaction_required);
  EXPECT_EQ(token_requests(), 0u);  // an expired refresh token is not even sent
}

TEST_F(TokenSourceIntegration, DeviceTokenSourceNeedsInteractionWhenTheRefreshIsRefused) {
  const Client client(device_client_config());
  const auto login = device_login(client);
  (void)client.refresh(login);  // rotated elsewhere: the server now refuses login's refresh token
  const auto source = client.token_source(login);
  source->invalidate();

  const auto e = error_of([&] { (void)source->token(); });
  EXPECT_EQ(e.code(), errc::interaction_required);
  EXPECT_EQ(token_requests(), 2u);
}

TEST_F(TokenSourceIntegration, PasswordTokenSourceUsesTheRefreshTokenWhileItIsUsable) {
  ClientConfig cfg = svc_config();
  cfg.token_endpoint = provider.sid_token_endpoint();
  cfg.client_id = str(LocalProvider::kSidUserDeviceClientId);
  cfg.client_secret = str(LocalProvider::kSidUserDeviceClientSecret);
  const Client client(cfg);
  const auto source = client.token_source(oidc::grants::Password{
      str(LocalProvider::kAdministratorUsername), str(LocalProvider::kAdministratorPassword), "openid profile"});

  const auto first = source->token();
  EXPECT_FALSE(first->id_token.empty());
  clock->advance(1801s);
  const auto second = source->token();
  EXPECT_FALSE(second->access_token.equals(first->access_token.expose()));

  const auto requests = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].form_value("grant_type"), std::string("password"));
  EXPECT_EQ(requests[1].form, (Params{{"grant_type", "refresh_token"},
                                      {"refresh_token", first->refresh_token.expose()},
                                      {"scope", "openid profile"},
                                      {"client_id", "userDevice"},
                                      {"client_secret", "password"}}));
}
