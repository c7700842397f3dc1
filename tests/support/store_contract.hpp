// What every TokenStore's tests share (tests/integration/file_token_store_test.cpp,
// redis_token_store_test.cpp): a device login saved into a store, and the lock's contract
// between two stores that stand for two processes.
#ifndef OIDC_TESTS_SUPPORT_STORE_CONTRACT_HPP
#define OIDC_TESTS_SUPPORT_STORE_CONTRACT_HPP

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "local_provider.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/token_store.hpp"

namespace oidc_testing {

// A device login against `provider`, saved to `store` under `subject` as `oidc-token login` saves
// one (a clock at the real time: racer processes use it); the provider's request log starts empty after.
struct SavedLogin {
  oidc::Client client;
  oidc::Token token;
  oidc::TokenKey key;
};
inline SavedLogin save_device_login(LocalProvider& provider, oidc::TokenStore& store, const std::string& subject) {
  oidc::ClientConfig c;
  c.device_authorization_endpoint = provider.device_endpoint();
  c.token_endpoint = provider.token_endpoint();
  c.client_id = LocalProvider::kDeviceClientId;
  c.transport = oidc::make_curl_transport();
  c.clock = std::make_shared<FakeClock>(std::chrono::system_clock::now());
  oidc::Client client(c);
  provider.auto_approve_after_polls(0);
  oidc::Token login = client.poll_device_token(client.device_authorization());
  oidc::TokenKey key = client.token_key();
  key.grant = oidc::grants::DeviceCode::grant_type;
  key.subject = subject;
  store.save(key, login);
  provider.clear_requests();
  return {std::move(client), std::move(login), std::move(key)};
}

// A token restored from a store is the one saved (times to the second, as records keep them).
inline void expect_same(const oidc::Token& a, const oidc::Token& b) {
  EXPECT_EQ(a.access_token.expose(), b.access_token.expose());
  EXPECT_EQ(a.refresh_token.expose(), b.refresh_token.expose());
  EXPECT_EQ(a.token_type, b.token_type);
  EXPECT_EQ(a.scope, b.scope);
  EXPECT_EQ(a.expiry, b.expiry);
  EXPECT_EQ(a.refresh_expiry, b.refresh_expiry);
  EXPECT_EQ(a.received_at, b.received_at);
}

// b waits for a's lock and gets it when a releases it.
inline void expect_waiter_gets_the_lock_on_release(oidc::TokenStore& a, oidc::TokenStore& b, const oidc::TokenKey& key) {
  using namespace std::chrono_literals;
  auto held = a.lock(key, 1s, {});
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto mine = b.lock(key, 30s, {});
    got = mine != nullptr;
  });
  held.reset();
  waiter.join();
  EXPECT_TRUE(got);
}

// b's wait for a's lock ends with errc::cancelled when its CancelToken fires; an already cancelled
// token fails at once, but a free lock is still taken (cancel only ends a wait).
inline void expect_lock_wait_honours_cancel(oidc::TokenStore& a, oidc::TokenStore& b, const oidc::TokenKey& key) {
  using namespace std::chrono_literals;
  auto held = a.lock(key, 1s, {});
  oidc::CancelToken cancel;
  std::optional<oidc::Error> seen;
  const auto started = std::chrono::steady_clock::now();
  std::thread waiter([&] { seen = error_of([&] { (void)b.lock(key, 60s, cancel); }); });
  cancel.cancel();
  waiter.join();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->code(), oidc::errc::cancelled) << seen->what();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  EXPECT_EQ(error_of([&] { (void)b.lock(key, 60s, cancel); }).code(), oidc::errc::cancelled);
  held.reset();
  EXPECT_TRUE(b.lock(key, 60s, cancel));
}

}  // namespace oidc_testing

#endif  // OIDC_TESTS_SUPPORT_STORE_CONTRACT_HPP
