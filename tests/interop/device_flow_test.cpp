// The device authorization grant (RFC 8628) end to end against oidc-provider: the library polls
// over the real libcurl transport on the real system clock (the provider measures real time),
// while Browser plays the user at the verification URI. Plus authorize(), the helper the
// authorization code tests build on, proved on its own with a code redeemed by hand.
#include <gtest/gtest.h>

#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "browser.hpp"
#include "error_of.hpp"
#include "interop_support.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"

namespace {

using namespace std::chrono_literals;
using oidc_interop::Browser;
using oidc_interop::BrowserError;
using oidc_interop::DenyAt;
using oidc_interop::Provider;
using oidc_testing::error_of;
using oidc_testing::is_clean;
using steady = std::chrono::steady_clock;

const std::string kScope = "openid offline_access api:read";
// Dev interactions take any login as the account id and ignore the password.
const std::string kLogin{oidc_interop::kAlice};
const std::string kPassword = "any-password-will-do";
// Polling ends here at the latest, so that a flow gone wrong fails in seconds rather than after
// the device code's 10 minutes (or CTest's timeout).
constexpr auto kGiveUp = 20s;

std::set<std::string> scopes_of(const std::string& scope) {
  std::set<std::string> out;
  std::istringstream in(scope);
  for (std::string s; in >> s;) out.insert(s);
  return out;
}

// A login through the device flow, the user approving before the first poll: one poll, 5 s.
oidc::Token device_login(const oidc::Client& client, const std::string& scope) {
  const auto authorization = client.device_authorization({scope});
  Browser(Provider::get().ca_file())
      .approve_device(authorization.verification_uri_complete, authorization.user_code, kLogin, kPassword);
  oidc::DevicePollOptions options;
  options.deadline = std::chrono::system_clock::now() + kGiveUp;
  return client.poll_device_token(authorization, options);
}

// The system clock, except that the first `hurried` sleeps return at once: the client then polls
// sooner than the interval, as a misbehaving one would. Records every sleep it was asked for.
class HurriedClock final : public oidc::Clock {
 public:
  explicit HurriedClock(int hurried) : hurried_(hurried) {}
  time_point now() const override { return oidc::system_clock()->now(); }
  bool sleep_for(duration d, const oidc::CancelToken& cancel) const override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requested_.push_back(d);
    }
    if (hurried_.fetch_sub(1) > 0) return !cancel.cancelled();
    return oidc::system_clock()->sleep_for(d, cancel);
  }
  std::vector<duration> requested() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requested_;
  }

 private:
  mutable std::atomic<int> hurried_;
  mutable std::mutex mutex_;
  mutable std::vector<duration> requested_;
};

// oidc-provider sends no `interval`, so RFC 8628's 5 s applies: the library must use it (the
// fixture answers slow_down to anything faster), and the user approving while the client polls
// ends in a token with everything the scope asked for.
TEST(InteropDeviceFlow, ApprovalWhilePollingYieldsTheTokensAtTheDefaultInterval) {
  const auto& p = Provider::get();
  // The provider's own answer, outside the library: no interval member.
  const auto raw = oidc_interop::raw_request(p.endpoint("device_authorization_endpoint"), p.ca_file(),
                                             "client_id=device&scope=openid");
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_FALSE(nlohmann::json::parse(raw.body).contains("interval")) << raw.body;

  const oidc::Client client(p.config(oidc_interop::kDevice));
  const auto authorization = client.device_authorization({kScope});
  EXPECT_EQ(authorization.interval, 5s);
  EXPECT_EQ(authorization.expires_in, 600s);
  EXPECT_EQ(authorization.verification_uri, p.issuer() + "/device");
  EXPECT_EQ(authorization.verification_uri_complete.rfind(authorization.verification_uri + "?user_code=", 0), 0u)
      << authorization.verification_uri_complete;

  Browser browser(p.ca_file());
  std::vector<oidc::DevicePollProgress> pending;
  oidc::DevicePollOptions options;
  options.deadline = std::chrono::system_clock::now() + kGiveUp;
  options.on_pending = [&](const oidc::DevicePollProgress& progress) {
    pending.push_back(progress);
    // The user acts only once the provider has said authorization_pending.
    if (pending.size() == 1)
      browser.approve_device(authorization.verification_uri_complete, authorization.user_code, kLogin, kPassword);
  };
  const auto start_wall = std::chrono::system_clock::now();
  const auto start = steady::now();
  const oidc::Token token = client.poll_device_token(authorization, options);
  const auto elapsed = steady::now() - start;

  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].polls, 1u);
  EXPECT_EQ(pending[0].interval, 5s);
  EXPECT_FALSE(pending[0].slow_down) << "the fixture saw a poll sooner than 5 s";
  // Counted to the deadline in force, ours (kGiveUp) rather than the code's 600 s.
  EXPECT_GT(pending[0].remaining, kGiveUp - 5s - 3s);
  EXPECT_LE(pending[0].remaining, kGiveUp - 5s);
  // Two polls, each a full interval after the previous step, and not much more.
  EXPECT_GE(elapsed, 10s);
  EXPECT_LT(elapsed, 14s);

  EXPECT_FALSE(token.access_token.empty());
  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_FALSE(token.refresh_token.empty()) << "offline_access was granted without a refresh token";
  EXPECT_FALSE(token.id_token.empty());
  EXPECT_EQ(scopes_of(token.scope), scopes_of(kScope)) << token.scope;
  ASSERT_TRUE(token.expiry.has_value());
  EXPECT_GE(*token.expiry, start_wall + 590s);
  EXPECT_LE(*token.expiry, std::chrono::system_clock::now() + 601s);

  // The provider's own view: an active token for the account that approved, issued to "device".
  const auto info = p.introspect(token.access_token.expose());
  EXPECT_EQ(info.value("active", false), true) << info.dump();
  EXPECT_EQ(info.value("client_id", ""), "device");
  EXPECT_EQ(info.value("sub", ""), kLogin);
}

// Two polls in a row, too fast: the provider's slow_down (RFC 8628 §3.5) makes the library add
// 5 s to the interval for every later poll, and the grown interval is what gets the token.
TEST(InteropDeviceFlow, SlowDownAddsFiveSecondsToTheInterval) {
  const auto& p = Provider::get();
  auto config = p.config(oidc_interop::kDevice);
  const auto clock = std::make_shared<HurriedClock>(2);  // polls 1 and 2 at once
  config.clock = clock;
  const oidc::Client client(config);
  const auto authorization = client.device_authorization({kScope});

  Browser browser(p.ca_file());
  std::vector<oidc::DevicePollProgress> pending;
  oidc::DevicePollOptions options;
  options.deadline = std::chrono::system_clock::now() + kGiveUp;
  options.on_pending = [&](const oidc::DevicePollProgress& progress) {
    pending.push_back(progress);
    if (progress.slow_down)
      browser.approve_device(authorization.verification_uri_complete, authorization.user_code, kLogin, kPassword);
  };
  const auto start = steady::now();
  const oidc::Token token = client.poll_device_token(authorization, options);
  const auto elapsed = steady::now() - start;

  // Poll 1: the code's first, so pending; poll 2 at once after it: slow_down.
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_FALSE(pending[0].slow_down);
  EXPECT_EQ(pending[0].interval, 5s);
  EXPECT_TRUE(pending[1].slow_down);
  EXPECT_EQ(pending[1].polls, 2u);
  EXPECT_EQ(pending[1].interval, 10s);
  // The waits asked for: the two skipped intervals of 5 s, then the grown one, really slept.
  const std::vector<oidc::Clock::duration> expected{5s, 5s, 10s};
  EXPECT_EQ(clock->requested(), expected);
  EXPECT_GE(elapsed, 10s);
  EXPECT_LT(elapsed, 14s);
  EXPECT_FALSE(token.access_token.empty());
  EXPECT_FALSE(token.refresh_token.empty());
}

// The user refuses at the confirmation page ([ Abort ]): the next poll is answered access_denied,
// which ends polling with a typed OAuth error.
TEST(InteropDeviceFlow, AbortAtTheConfirmationPageIsAccessDenied) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kDevice));
  const auto authorization = client.device_authorization({kScope});
  Browser(p.ca_file()).deny_device(authorization.verification_uri_complete, authorization.user_code,
                                   DenyAt::confirmation);

  int pending = 0;
  oidc::DevicePollOptions options;
  options.on_pending = [&](const oidc::DevicePollProgress&) { ++pending; };
  const auto e = error_of([&] { (void)client.poll_device_token(authorization, options); });
  EXPECT_EQ(e.code(), oidc::errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "access_denied") << e.what();
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_EQ(pending, 0);
  EXPECT_TRUE(is_clean(e, {authorization.device_code.expose(), authorization.user_code}));
}

// The same refusal from the login page ([ Cancel ], the interaction's abort), reached by typing the
// user code at the plain verification_uri this time.
TEST(InteropDeviceFlow, CancelAtTheLoginPageIsAccessDenied) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kDevice));
  const auto authorization = client.device_authorization({kScope});
  Browser(p.ca_file()).deny_device(authorization.verification_uri, authorization.user_code, DenyAt::login);

  const auto e = error_of([&] { (void)client.poll_device_token(authorization); });
  EXPECT_EQ(e.code(), oidc::errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "access_denied") << e.what();
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_TRUE(is_clean(e, {authorization.device_code.expose(), authorization.user_code}));
}

// device-short's codes live kShortTtl seconds: afterwards the provider answers expired_token, and
// the user cannot approve the code any more.
TEST(InteropDeviceFlow, AnExpiredDeviceCodeIsExpiredToken) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kDeviceShort));
  const auto authorization = client.device_authorization({"openid api:read"});
  EXPECT_EQ(authorization.expires_in, std::chrono::seconds(oidc_interop::kShortTtl));
  oidc_interop::wait_for_provider_clock(std::chrono::seconds(oidc_interop::kShortTtl) + 1s);

  const auto e = error_of(
      [&] { (void)client.request_token(oidc::grants::DeviceCode{authorization.device_code, {}}.form()); });
  EXPECT_EQ(e.code(), oidc::errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "expired_token") << e.what();
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_TRUE(is_clean(e, {authorization.device_code.expose(), authorization.user_code}));

  // The verification page refuses it too: the browser reports where it got stuck.
  Browser browser(p.ca_file());
  try {
    browser.approve_device(authorization.verification_uri_complete, authorization.user_code, kLogin, kPassword);
    ADD_FAILURE() << "an expired user code was approved";
  } catch (const BrowserError& b) {
    EXPECT_NE(std::string(b.what()).find("The code you entered is incorrect"), std::string::npos) << b.what();
  }
}

// A code that lives no longer than its (default, clamped) interval: 4 s here. The library once slept
// through the whole life of such a code without a single poll; now it polls once shortly before
// expiry and gets the token the user approved.
TEST(InteropDeviceFlow, ACodeShorterThanTheIntervalIsStillPolledOnce) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kDeviceShort));
  const auto authorization = client.device_authorization({"openid api:read"});
  ASSERT_EQ(authorization.interval, std::chrono::seconds(oidc_interop::kShortTtl));  // 5 s clamped to the code's 4 s
  Browser(p.ca_file()).approve_device(authorization.verification_uri_complete, authorization.user_code, kLogin, kPassword);
  const auto start = steady::now();
  int pending = 0;  // the one poll is the successful one (the counters are shared with the expiry test)
  oidc::DevicePollOptions options;
  options.on_pending = [&](const oidc::DevicePollProgress&) { ++pending; };
  const auto token = client.poll_device_token(authorization, options);
  EXPECT_LT(steady::now() - start, std::chrono::seconds(oidc_interop::kShortTtl));
  EXPECT_EQ(pending, 0);
  EXPECT_EQ(p.introspect(token.access_token.expose()).value("sub", ""), kLogin);
}

// A deadline of the caller's, shorter than the code's life: one pending poll at 5 s, then
// deadline_exceeded at the deadline (not at the next interval), the user never having acted.
TEST(InteropDeviceFlow, ThePollingDeadlinePassesWithoutTheUser) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kDevice));
  const auto authorization = client.device_authorization({"openid api:read"});

  std::size_t polls = 0;
  oidc::DevicePollOptions options;
  options.deadline = std::chrono::system_clock::now() + 7s;
  options.on_pending = [&](const oidc::DevicePollProgress& progress) { polls = progress.polls; };
  const auto start = steady::now();
  const auto e = error_of([&] { (void)client.poll_device_token(authorization, options); });
  const auto elapsed = steady::now() - start;

  EXPECT_EQ(e.code(), oidc::errc::deadline_exceeded) << e.what();
  EXPECT_EQ(e.oauth_code(), "");
  EXPECT_NE(e.detail().find("polling deadline"), std::string::npos) << e.what();
  EXPECT_EQ(polls, 1u);
  EXPECT_GE(elapsed, 6900ms);
  EXPECT_LT(elapsed, 9s);
  EXPECT_TRUE(is_clean(e, {authorization.device_code.expose(), authorization.user_code}));
}

// The device flow's refresh token rotates (provider.mjs: rotateRefreshToken) through
// Client::refresh and through a token source; a rotated-out refresh token is refused with
// invalid_grant, and oidc-provider then revokes the whole grant (reuse detection), which the
// source reports as interaction_required.
TEST(InteropDeviceFlow, RefreshTokensRotateAndTheOldOneIsRefused) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kDevice));
  const oidc::Token first = device_login(client, kScope);
  ASSERT_FALSE(first.refresh_token.empty());

  const oidc::Token second = client.refresh(first);
  EXPECT_FALSE(second.refresh_token.equals(first.refresh_token.expose())) << "the refresh token did not rotate";
  EXPECT_FALSE(second.access_token.equals(first.access_token.expose()));
  EXPECT_EQ(scopes_of(second.scope), scopes_of(kScope)) << second.scope;

  const auto source = client.token_source(second);
  EXPECT_TRUE(source->token()->access_token.equals(second.access_token.expose())) << "the source renewed too soon";
  source->invalidate();
  const auto third = source->token();
  EXPECT_FALSE(third->refresh_token.equals(second.refresh_token.expose()));
  EXPECT_FALSE(third->access_token.equals(second.access_token.expose()));
  source->invalidate();
  const auto fourth = source->token();
  EXPECT_FALSE(fourth->refresh_token.equals(third->refresh_token.expose()));
  EXPECT_EQ(p.introspect(fourth->access_token.expose()).value("active", false), true);

  std::vector<std::string> secrets;
  for (const oidc::Token* t : {&first, &second, third.get(), fourth.get()})
    for (const oidc::Secret* s : {&t->access_token, &t->refresh_token, &t->id_token}) secrets.push_back(s->expose());

  // The first refresh token, long rotated out.
  const auto refused = error_of([&] { (void)client.refresh(first); });
  EXPECT_EQ(refused.code(), oidc::errc::oauth_error) << refused.what();
  EXPECT_EQ(refused.oauth_code(), "invalid_grant") << refused.what();
  EXPECT_EQ(refused.http_status(), 400);
  EXPECT_TRUE(is_clean(refused, secrets));

  // Reuse revoked the grant: the newest tokens are dead as well.
  EXPECT_EQ(p.introspect(fourth->access_token.expose()).value("active", true), false);
  source->invalidate();
  const auto renewal = error_of([&] { (void)source->token(); });
  EXPECT_EQ(renewal.code(), oidc::errc::interaction_required) << renewal.what();
  EXPECT_NE(std::string(renewal.what()).find("invalid_grant"), std::string::npos) << renewal.what();
  EXPECT_TRUE(is_clean(renewal, secrets));
}

// ---- authorize(), for the authorization code tests ----

std::string base64url(const unsigned char* data, std::size_t n) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  for (std::size_t i = 0; i < n; i += 3) {
    const unsigned v = (data[i] << 16) | (i + 1 < n ? data[i + 1] << 8 : 0) | (i + 2 < n ? data[i + 2] : 0);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (i + 1 < n) out += alphabet[(v >> 6) & 63];
    if (i + 2 < n) out += alphabet[v & 63];
  }
  return out;
}

std::string random_url_safe(std::size_t bytes) {
  std::random_device rd;
  std::vector<unsigned char> b(bytes);
  for (auto& c : b) c = static_cast<unsigned char>(rd());
  return base64url(b.data(), b.size());
}

// RFC 7636 §4.2 S256.
std::string s256(const std::string& verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return base64url(digest, sizeof digest);
}

// The browser logs in and consents from an authorization request built by hand, and comes back
// with a redirect to the redirect URI carrying a code the provider really redeems (once).
TEST(InteropBrowser, AuthorizeReturnsARedeemableCode) {
  const auto& p = Provider::get();
  const std::string redirect_uri{oidc_interop::kRedirectUri};
  const std::string verifier = random_url_safe(32), state = random_url_safe(16);
  const std::string url = p.endpoint("authorization_endpoint") + "?" +
                          oidc_interop::form_urlencode({{"response_type", "code"},
                                                        {"client_id", oidc_interop::kNative.id},
                                                        {"redirect_uri", redirect_uri},
                                                        {"scope", "openid"},
                                                        {"state", state},
                                                        {"code_challenge", s256(verifier)},
                                                        {"code_challenge_method", "S256"}});

  Browser browser(p.ca_file());
  const std::string redirect = browser.authorize(url, redirect_uri, kLogin, kPassword);
  ASSERT_EQ(redirect.rfind(redirect_uri + "?", 0), 0u) << redirect;
  const auto params = oidc_interop::url_parameters(redirect);
  const auto code = oidc_interop::field(params, "code");
  ASSERT_TRUE(code && !code->empty()) << redirect;
  EXPECT_EQ(oidc_interop::field(params, "state"), state);
  EXPECT_EQ(oidc_interop::field(params, "iss"), p.issuer());  // RFC 9207
  EXPECT_FALSE(oidc_interop::field(params, "error")) << redirect;

  const std::string redeem = oidc_interop::form_urlencode({{"grant_type", "authorization_code"},
                                                           {"code", *code},
                                                           {"redirect_uri", redirect_uri},
                                                           {"client_id", oidc_interop::kNative.id},
                                                           {"code_verifier", verifier}});
  const auto token = oidc_interop::raw_request(p.endpoint("token_endpoint"), p.ca_file(), redeem);
  ASSERT_EQ(token.status, 200) << token.body;
  const auto body = nlohmann::json::parse(token.body);
  EXPECT_FALSE(body.value("access_token", "").empty()) << token.body;
  EXPECT_FALSE(body.value("id_token", "").empty()) << token.body;
  EXPECT_EQ(p.introspect(body.value("access_token", "")).value("sub", ""), kLogin);

  // Codes are single-use (RFC 6749 §4.1.2).
  const auto again = oidc_interop::raw_request(p.endpoint("token_endpoint"), p.ca_file(), redeem);
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(nlohmann::json::parse(again.body).value("error", ""), "invalid_grant") << again.body;
}

}  // namespace
