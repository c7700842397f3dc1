// Seed 000 (Keycloak, realm "core"): device authorization grant (RFC 8628) with the public client
// `device-client`, then refresh, replayed through the real libcurl transport against the
// LocalProvider. Polling intervals pass on a FakeClock while every request is real HTTP.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fake_clock.hpp"
#include "error_of.hpp"
#include "local_provider.hpp"
#include "provider_fixture.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/form.hpp"
#include "seed_documents.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientConfig;
using oidc::DeviceAuthorization;
using oidc::DevicePollOptions;
using oidc::DevicePollProgress;
using oidc::errc;
using oidc::Error;
using oidc::Params;
using oidc::Token;
using oidc_testing::FakeClock;
using oidc_testing::LocalProvider;
using oidc_testing::RecordedRequest;
using oidc_testing::error_of;
using oidc_testing::str;
namespace seeds = oidc_testing::seeds;

namespace {

constexpr const char* kDeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code";


Params sorted(Params p) {
  std::sort(p.begin(), p.end());
  return p;
}

std::vector<std::string> names(const Params& p) {
  std::vector<std::string> out;
  for (const auto& field : p) out.push_back(field.first);
  std::sort(out.begin(), out.end());
  return out;
}

bool is_keycloak_user_code(const std::string& code) {
  if (code.size() != 9 || code[4] != '-') return false;
  for (std::size_t i = 0; i < code.size(); ++i)
    if (i != 4 && (code[i] < 'A' || code[i] > 'Z')) return false;
  return true;
}

class Seed000DeviceFlow : public oidc_testing::ProviderFixture {
 protected:
  // `legacy`: the document's pre-Keycloak-17 "/auth/realms/..." layout.
  ClientConfig config(bool legacy = false) const {
    ClientConfig c;
    c.device_authorization_endpoint = legacy ? provider.legacy_device_endpoint() : provider.device_endpoint();
    c.token_endpoint = legacy ? provider.legacy_token_endpoint() : provider.token_endpoint();
    c.client_id = str(seeds::kSeed000ClientId);  // public client: no secret
    c.transport = oidc::make_curl_transport();
    c.clock = clock;
    return c;
  }

  void expect_public_form_post(const RecordedRequest& r) const {
    // Seed 000's first token curl has `--header "Content-Type=..."` (a typo curl drops); the RFC
    // (6749 §4.1.3 / Appendix B, 8628 §3.1) form POST is sent with a real Content-Type header.
    oidc_testing::expect_library_form_post(r);
    EXPECT_EQ(r.header("Host"), "127.0.0.1:" + std::to_string(provider.port()));
    EXPECT_FALSE(r.has_header("Authorization"));
    EXPECT_FALSE(r.form_value("client_secret").has_value());
  }

  static Params device_poll_form(const DeviceAuthorization& a) {
    return {{"grant_type", kDeviceGrantType}, {"device_code", a.device_code.expose()}, {"client_id", "device-client"}};
  }

};

}  // namespace

TEST_F(Seed000DeviceFlow, DeviceAuthorizationRequestIsExactlyClientId) {
  const Client client(config());
  const auto start = clock->now();
  const auto a = client.device_authorization();

  const auto requests = provider.requests(LocalProvider::device_path());
  ASSERT_EQ(requests.size(), 1u);
  expect_public_form_post(requests[0]);
  EXPECT_EQ(requests[0].body, seeds::kSeed000DeviceAuthorizationRequestBody);  // "client_id=device-client"
  EXPECT_EQ(requests[0].form, (Params{{"client_id", "device-client"}}));

  EXPECT_EQ(a.device_code.expose().size(), seeds::kSeed000DeviceCode.size());
  EXPECT_TRUE(is_keycloak_user_code(a.user_code)) << a.user_code;
  EXPECT_EQ(a.verification_uri, provider.base_url() + "/realms/core/device");
  EXPECT_EQ(a.verification_uri_complete, a.verification_uri + "?user_code=" + a.user_code);
  EXPECT_EQ(a.expires_in, 600s);
  EXPECT_EQ(a.interval, 5s);
  EXPECT_EQ(a.expires_at, start + 600s);
  EXPECT_TRUE(a.extra.empty());
  EXPECT_EQ(provider.pending_user_codes(), std::vector<std::string>{a.user_code});
}

TEST_F(Seed000DeviceFlow, DeviceAuthorizationWithScope) {
  const Client client(config());
  (void)client.device_authorization({"openid offline_access"});

  const auto requests = provider.requests(LocalProvider::device_path());
  ASSERT_EQ(requests.size(), 1u);
  expect_public_form_post(requests[0]);
  EXPECT_EQ(requests[0].body, "scope=openid+offline_access&client_id=device-client");
  EXPECT_EQ(requests[0].form, (Params{{"scope", "openid offline_access"}, {"client_id", "device-client"}}));
}

TEST_F(Seed000DeviceFlow, PendingThenApprovedYieldsSeedShapedToken) {
  const Client client(config());
  const auto a = client.device_authorization();

  std::vector<DevicePollProgress> progress;
  DevicePollOptions options;
  options.on_pending = [&](const DevicePollProgress& p) {
    progress.push_back(p);
    EXPECT_TRUE(provider.approve(a.user_code));  // the user finishes in the browser meanwhile
  };
  const auto token = client.poll_device_token(a, options);

  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].polls, 1u);
  EXPECT_EQ(progress[0].interval, 5s);
  EXPECT_FALSE(progress[0].slow_down);
  EXPECT_EQ(clock->sleeps(), (std::vector<FakeClock::duration>{5s, 5s}));

  const auto polls = provider.requests(LocalProvider::token_path());
  ASSERT_EQ(polls.size(), 2u);
  for (const auto& r : polls) {
    expect_public_form_post(r);
    EXPECT_EQ(r.form, device_poll_form(a));
  }
  // Same fields as the document's device token request (which lists client_id first).
  const auto seed_form = oidc::detail::form_decode(seeds::kSeed000DeviceTokenRequestBody);
  ASSERT_EQ(seed_form.size(), 3u);
  for (const auto& [name, value] : seed_form) {
    EXPECT_TRUE(polls[1].form_value(name).has_value()) << name;
    if (name != "device_code") {
      EXPECT_EQ(polls[1].form_value(name), value) << name;
    }
  }

  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(*token.expiry, clock->now() + 86375s);
  ASSERT_TRUE(token.has_refresh_token());
  ASSERT_TRUE(token.refresh_expiry.has_value());
  EXPECT_EQ(*token.refresh_expiry, clock->now() + 1775s);  // first token of the session
  EXPECT_EQ(token.scope, "");
  EXPECT_TRUE(token.id_token.empty());
  EXPECT_EQ(token.extra.at("not-before-policy"), 0);
  EXPECT_EQ(token.extra.at("session_state").get<std::string>().size(), seeds::kSeed000SessionState.size());
  EXPECT_EQ(token.extra.at("scope"), "");
  EXPECT_EQ(token.extra.at("refresh_expires_in"), 1775);
}

TEST_F(Seed000DeviceFlow, LegacyAuthPathsAsInTheDocument) {
  provider.auto_approve_after_polls(0);
  const Client client(config(/*legacy=*/true));
  const auto a = client.device_authorization();
  EXPECT_EQ(a.verification_uri, provider.base_url() + "/auth/realms/core/device");
  const auto token = client.poll_device_token(a);

  const auto device_requests = provider.requests(LocalProvider::legacy_device_path());
  ASSERT_EQ(device_requests.size(), 1u);
  expect_public_form_post(device_requests[0]);
  EXPECT_EQ(device_requests[0].body, "client_id=device-client");
  const auto polls = provider.requests(LocalProvider::legacy_token_path());
  ASSERT_EQ(polls.size(), 1u);
  expect_public_form_post(polls[0]);
  EXPECT_EQ(polls[0].form, device_poll_form(a));
  EXPECT_EQ(provider.request_count(LocalProvider::token_path()), 0u);
  EXPECT_EQ(*token.refresh_expiry, clock->now() + 1775s);
}

TEST_F(Seed000DeviceFlow, SlowDownFromTheProviderRaisesTheInterval) {
  // The provider's clock is frozen, so the second poll looks immediate to it: it answers
  // slow_down (RFC 8628 §3.5) and raises its interval to 10 s; the test then moves it on by 10 s.
  const auto frozen = provider.now();
  provider.set_clock([frozen] { return frozen; });
  provider.enforce_slow_down(true);
  const Client client(config());
  const auto a = client.device_authorization();

  std::vector<DevicePollProgress> progress;
  DevicePollOptions options;
  options.on_pending = [&](const DevicePollProgress& p) {
    progress.push_back(p);
    if (p.slow_down) {
      EXPECT_TRUE(provider.approve(a.user_code));
      provider.advance_clock(10s);
    }
  };
  const auto token = client.poll_device_token(a, options);

  ASSERT_EQ(progress.size(), 2u);
  EXPECT_FALSE(progress[0].slow_down);  // authorization_pending
  EXPECT_EQ(progress[0].interval, 5s);
  EXPECT_TRUE(progress[1].slow_down);
  EXPECT_EQ(progress[1].interval, 10s);  // RFC 8628 §3.5: +5 s for this and all later polls
  EXPECT_EQ(clock->sleeps(), (std::vector<FakeClock::duration>{5s, 5s, 10s}));
  const auto polls = provider.requests(LocalProvider::token_path());
  ASSERT_EQ(polls.size(), 3u);
  for (const auto& r : polls) EXPECT_EQ(r.form, device_poll_form(a));
  EXPECT_FALSE(token.access_token.empty());
}

TEST_F(Seed000DeviceFlow, DeniedLoginIsAccessDenied) {
  const Client client(config());
  const auto a = client.device_authorization();
  ASSERT_TRUE(provider.deny(a.user_code));

  const auto e = error_of([&] { (void)client.poll_device_token(a); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "access_denied");
  EXPECT_EQ(e.http_status(), 400);
  ASSERT_TRUE(e.oauth().has_value());
  EXPECT_EQ(e.oauth()->error_description, "The end user denied the authorization request");
  EXPECT_EQ(provider.request_count(LocalProvider::token_path()), 1u);
}

TEST_F(Seed000DeviceFlow, CodeExpiredOnTheProviderIsExpiredToken) {
  const Client client(config());
  const auto a = client.device_authorization();
  provider.advance_clock(600s);  // the provider's code expired; the client's deadline has not passed

  const auto e = error_of([&] { (void)client.poll_device_token(a); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "expired_token");
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_EQ(provider.request_count(LocalProvider::token_path()), 1u);
}

TEST_F(Seed000DeviceFlow, CodeExpiringWhilePendingIsDeadlineExceeded) {
  provider.set_device_code_expires_in(20);
  const Client client(config());
  const auto a = client.device_authorization();
  EXPECT_EQ(a.expires_in, 20s);

  std::size_t pending = 0;
  DevicePollOptions options;
  options.on_pending = [&](const DevicePollProgress&) { ++pending; };
  const auto e = error_of([&] { (void)client.poll_device_token(a, options); });

  EXPECT_EQ(e.code(), errc::deadline_exceeded);
  EXPECT_EQ(e.http_status(), 0);
  EXPECT_EQ(pending, 3u);
  EXPECT_EQ(provider.request_count(LocalProvider::token_path()), 3u);  // at +5, +10, +15 s
  EXPECT_EQ(clock->sleeps(), (std::vector<FakeClock::duration>{5s, 5s, 5s, 5s}));
  EXPECT_EQ(clock->now(), a.expires_at);
}

TEST_F(Seed000DeviceFlow, RefreshRotatesTheRefreshToken) {
  provider.auto_approve_after_polls(0);
  const Client client(config());
  const auto first = client.poll_device_token(client.device_authorization());
  provider.clear_requests();
  clock->advance(60s);

  const auto second = client.refresh(first);
  auto requests = provider.requests(LocalProvider::token_path());
  ASSERT_EQ(requests.size(), 1u);
  expect_public_form_post(requests[0]);
  const Params expected{{"grant_type", "refresh_token"},
                        {"refresh_token", first.refresh_token.expose()},
                        {"client_id", "device-client"}};
  EXPECT_EQ(requests[0].form, expected);
  // The document's refresh body has the same three fields (client_id first).
  EXPECT_EQ(names(requests[0].form), names(oidc::detail::form_decode(seeds::kSeed000RefreshRequestBody)));

  EXPECT_FALSE(second.access_token.equals(first.access_token.expose()));
  EXPECT_FALSE(second.refresh_token.equals(first.refresh_token.expose()));
  EXPECT_EQ(*second.refresh_expiry, clock->now() + 1800s);  // back to the full idle timeout
  EXPECT_EQ(*second.expiry, clock->now() + 86375s);
  EXPECT_EQ(second.extra.at("session_state"), first.extra.at("session_state"));
  EXPECT_EQ(second.scope, "");

  // Rotation: the old refresh token is single-use.
  const auto e = error_of([&] { (void)client.refresh(first); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_grant");
  EXPECT_EQ(e.http_status(), 400);
  // The rotated one still works.
  const auto third = client.refresh(second);
  EXPECT_FALSE(third.refresh_token.equals(second.refresh_token.expose()));
  requests = provider.requests(LocalProvider::token_path());
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].form_value("refresh_token"), second.refresh_token.expose());
}

TEST_F(Seed000DeviceFlow, ReplaysTheDocumentedExchangeVerbatim) {
  // The document's access token placeholder "<actual-access-token>" is not an RFC 6750 b64token
  // ('<', '>'), so the verbatim token bodies are refused; the replay below differs from them only
  // in that placeholder, written "actual-access-token".
  for (const auto body : {seeds::kSeed000DeviceTokenResponse, seeds::kSeed000RefreshResponse}) {
    oidc::HttpResponse verbatim;
    verbatim.status = 200;
    verbatim.body = str(body);
    const auto e = error_of([&] { (void)oidc::parse_token_response(verbatim, clock->now()); });
    EXPECT_EQ(e.code(), errc::parse);
    EXPECT_NE(e.detail().find("access_token is not an RFC 6750 b64token"), std::string::npos) << e.detail();
  }
  auto header_safe = [](std::string_view body) {
    std::string s = str(body);
    s.replace(s.find("<actual-access-token>"), 21, "actual-access-token");
    return s;
  };
  const auto device_path = LocalProvider::legacy_device_path();
  const auto token_path = LocalProvider::legacy_token_path();
  provider.enqueue(device_path, LocalProvider::Response::json(200, str(seeds::kSeed000DeviceAuthorizationResponse)));
  provider.enqueue(token_path, LocalProvider::Response::json(200, header_safe(seeds::kSeed000DeviceTokenResponse)));
  provider.enqueue(token_path, LocalProvider::Response::json(200, header_safe(seeds::kSeed000RefreshResponse)));
  const Client client(config(/*legacy=*/true));

  const auto start = clock->now();
  const auto a = client.device_authorization();
  const auto device_requests = provider.requests(device_path);
  ASSERT_EQ(device_requests.size(), 1u);
  expect_public_form_post(device_requests[0]);
  EXPECT_EQ(device_requests[0].body, seeds::kSeed000DeviceAuthorizationRequestBody);
  EXPECT_TRUE(a.device_code.equals(seeds::kSeed000DeviceCode));
  EXPECT_EQ(a.user_code, seeds::kSeed000UserCode);
  EXPECT_EQ(a.verification_uri, seeds::kSeed000VerificationUri);
  EXPECT_EQ(a.verification_uri_complete, seeds::kSeed000VerificationUriComplete);
  EXPECT_EQ(a.expires_in, 600s);
  EXPECT_EQ(a.interval, 5s);
  EXPECT_EQ(a.expires_at, start + 600s);

  const auto token = client.poll_device_token(a);
  EXPECT_EQ(clock->sleeps(), (std::vector<FakeClock::duration>{5s}));
  auto token_requests = provider.requests(token_path);
  ASSERT_EQ(token_requests.size(), 1u);
  expect_public_form_post(token_requests[0]);
  EXPECT_EQ(token_requests[0].form, (Params{{"grant_type", kDeviceGrantType},
                                            {"device_code", str(seeds::kSeed000DeviceCode)},
                                            {"client_id", "device-client"}}));
  // Exactly the document's fields and values; only the (insignificant) order differs.
  EXPECT_EQ(sorted(token_requests[0].form), sorted(oidc::detail::form_decode(seeds::kSeed000DeviceTokenRequestBody)));

  const auto polled_at = start + 5s;
  EXPECT_EQ(token.access_token.expose(), "actual-access-token");
  EXPECT_EQ(token.refresh_token.expose(), "<actual-refresh-token>");
  EXPECT_EQ(token.token_type, "Bearer");
  EXPECT_EQ(*token.expiry, polled_at + 86375s);
  EXPECT_EQ(*token.refresh_expiry, polled_at + 1775s);
  EXPECT_EQ(token.scope, "");
  EXPECT_EQ(token.extra.at("not-before-policy"), 0);
  EXPECT_EQ(token.extra.at("session_state"), seeds::kSeed000SessionState);

  clock->advance(630s);
  const auto refreshed = client.refresh(token);
  token_requests = provider.requests(token_path);
  ASSERT_EQ(token_requests.size(), 2u);
  // The refresh prose names ".../openid-connect/auth/token"; the curls and RFC 6749 §6 use the token
  // endpoint ".../openid-connect/token", which is where the refresh goes.
  EXPECT_EQ(token_requests[1].path, token_path);
  EXPECT_EQ(provider.request_count("/auth/realms/core/protocol/openid-connect/auth/token"), 0u);
  expect_public_form_post(token_requests[1]);
  EXPECT_EQ(token_requests[1].form, (Params{{"grant_type", "refresh_token"},
                                            {"refresh_token", "<actual-refresh-token>"},
                                            {"client_id", "device-client"}}));
  EXPECT_EQ(sorted(token_requests[1].form), sorted(oidc::detail::form_decode(seeds::kSeed000RefreshRequestBody)));
  // The document's curl --data sends '<' and '>' raw; RFC 6749 Appendix B percent-encodes them.
  EXPECT_NE(token_requests[1].body.find("refresh_token=%3Cactual-refresh-token%3E"), std::string::npos)
      << token_requests[1].body;

  const auto refreshed_at = polled_at + 630s;
  EXPECT_EQ(refreshed.access_token.expose(), "actual-access-token");
  EXPECT_EQ(*refreshed.expiry, refreshed_at + 85745s);
  EXPECT_EQ(*refreshed.refresh_expiry, refreshed_at + 1800s);
  EXPECT_EQ(refreshed.extra.at("session_state"), seeds::kSeed000SessionState);
  EXPECT_EQ(refreshed.scope, "");
}

TEST_F(Seed000DeviceFlow, RealisticSeedTokensUseExpiresInOverTheJwtExpClaim) {
  provider.enqueue(LocalProvider::token_path(),
                   LocalProvider::Response::json(200, str(seeds::kSeed000DeviceTokenResponseRealistic)));
  const Client client(config());
  DeviceAuthorization a;
  a.device_code = str(seeds::kSeed000DeviceCode);
  a.user_code = str(seeds::kSeed000UserCode);
  a.verification_uri = str(seeds::kSeed000VerificationUri);
  a.expires_in = 600s;
  a.expires_at = clock->now() + 600s;
  const auto token = client.poll_device_token(a);

  EXPECT_TRUE(token.access_token.equals(seeds::kSeed000RealisticAccessToken));
  EXPECT_TRUE(token.refresh_token.equals(seeds::kSeed000RealisticRefreshToken));
  EXPECT_EQ(*token.expiry, clock->now() + 86375s);
  EXPECT_EQ(*token.refresh_expiry, clock->now() + 1775s);
}
