// Refresh against oidc-provider with rotating refresh tokens (rotateRefreshToken: true), for the
// password client ropc and alice's grants. The provider is strict in the way that matters here:
// a refresh token presented after it was rotated is refused, and the whole grant is revoked
// (reuse detection). So "the grant is still alive at the end" proves the library never sent a
// consumed refresh token, and revoking a grant is how the tests make renewal impossible.
//
// Each test starts its own grant, so revoking one never touches another test's. Request counts
// for ropc are only compared as "at least": every test here runs ropc grants, and ctest -j2 runs
// tests at once; the recording transport gives the exact sequence instead.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "browser.hpp"
#include "interop_support.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"

namespace {

using oidc::errc;
using oidc_interop::kAlice;
using oidc_interop::kAlicePassword;
using oidc_interop::kRopc;
using oidc_interop::Provider;
using oidc_testing::error_of;
using oidc_testing::is_clean;

constexpr const char* kScope = "openid offline_access";

using oidc_interop::RecordingTransport;

// One form field of a request body, decoded by the test rather than by the library.
std::optional<std::string> form_value(std::string_view body, std::string_view name) {
  return oidc_interop::field(oidc_interop::form_fields(body), name);
}

std::pair<std::shared_ptr<RecordingTransport>, oidc::Client> recorded_client() {
  auto config = Provider::get().config(kRopc);
  auto recorder = std::make_shared<RecordingTransport>(config.transport);
  config.transport = recorder;
  return {recorder, oidc::Client(config)};
}

oidc::grants::Password alice() {
  return {std::string(kAlice), oidc::Secret(std::string(kAlicePassword)), kScope, {}};
}

bool active(const oidc::Secret& token) { return Provider::get().introspect(token.expose()).at("active") == true; }

// The refresh requests of `sent` after the first exchange (the grant): each must present the
// refresh token of the response just before it, and no two the same. Returns the number checked.
std::size_t expect_each_refresh_sends_the_previous_responses_token(const std::vector<RecordingTransport::Exchange>& sent) {
  std::vector<std::string> presented;
  for (std::size_t i = 1; i < sent.size(); ++i) {
    EXPECT_EQ(form_value(sent[i].request.body, "grant_type"), "refresh_token") << "exchange " << i;
    const auto previous = nlohmann::json::parse(sent[i - 1].response.body);
    const auto rt = form_value(sent[i].request.body, "refresh_token");
    EXPECT_TRUE(rt.has_value()) << "exchange " << i;
    EXPECT_EQ(rt.value_or(""), previous.value("refresh_token", "(none in the previous response)")) << "exchange " << i;
    for (const auto& earlier : presented) EXPECT_NE(rt.value_or(""), earlier) << "exchange " << i << " reused one";
    presented.push_back(rt.value_or(""));
  }
  return presented.size();
}

// Client::refresh rotates: every refresh gives a new refresh token and consumes the old one. The
// old one presented again is invalid_grant (HTTP 400, "grant request is invalid"), and the
// provider then revokes the grant: the newest tokens die with it. That part comes last.
TEST(InteropRefresh, EveryRefreshRotatesAndTheOldTokenIsRefusedThenTheGrantIsRevoked) {
  const oidc::Client client(Provider::get().config(kRopc));
  const auto t0 = client.password(alice());
  const auto t1 = client.refresh(t0);
  const auto t2 = client.refresh(t1);

  for (const auto* t : {&t0, &t1, &t2}) {
    ASSERT_TRUE(t->has_refresh_token());
    EXPECT_EQ(t->scope, kScope);
  }
  EXPECT_NE(t0.refresh_token.expose(), t1.refresh_token.expose());
  EXPECT_NE(t1.refresh_token.expose(), t2.refresh_token.expose());
  EXPECT_NE(t0.refresh_token.expose(), t2.refresh_token.expose());
  EXPECT_NE(t1.access_token.expose(), t2.access_token.expose());
  EXPECT_FALSE(t2.id_token.empty()) << "the refresh answers an id_token for scope openid";

  // The provider's view: only the newest refresh token is live.
  EXPECT_FALSE(active(t0.refresh_token));
  EXPECT_FALSE(active(t1.refresh_token));
  const auto view = Provider::get().introspect(t2.refresh_token.expose());
  EXPECT_EQ(view.at("active"), true) << view;
  EXPECT_EQ(view.at("sub"), kAlice) << view;
  EXPECT_TRUE(active(t2.access_token));

  const auto e = error_of([&] { (void)client.refresh(t0); });
  EXPECT_EQ(e.code(), errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "invalid_grant") << e.what();
  EXPECT_EQ(e.http_status(), 400) << e.what();
  EXPECT_TRUE(is_clean(e, {t0.refresh_token.expose(), kRopc.secret}));

  // Reuse detected: the grant is gone, the newest refresh and access tokens with it.
  EXPECT_FALSE(active(t2.refresh_token));
  EXPECT_FALSE(active(t2.access_token));
  EXPECT_EQ(error_of([&] { (void)client.refresh(t2); }).oauth_code(), "invalid_grant");
}

// A source made from a Token (as an interactive login gives one) renews by refresh only; each
// renewal, forced with invalidate(), sends the refresh token the previous response rotated to.
TEST(InteropRefresh, AnInteractiveSourceAlwaysSendsTheNewestRefreshToken) {
  auto [recorder, client] = recorded_client();
  const auto initial = client.password(alice());
  const auto source = client.token_source(initial);

  auto current = source->token();
  EXPECT_TRUE(current->access_token.equals(initial.access_token.expose()));
  for (int i = 0; i < 2; ++i) {
    source->invalidate(*current);
    const auto renewed = source->token();
    EXPECT_FALSE(renewed->access_token.equals(current->access_token.expose())) << "renewal " << i;
    current = renewed;
  }
  EXPECT_EQ(source->renewals(), 2u);

  const auto sent = recorder->exchanges();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(form_value(sent[0].request.body, "grant_type"), "password");
  EXPECT_EQ(expect_each_refresh_sends_the_previous_responses_token(sent), 2u);
  // The token served is the last response's, and the grant is alive: no consumed token was sent.
  EXPECT_EQ(current->refresh_token.expose(), nlohmann::json::parse(sent[2].response.body).at("refresh_token"));
  EXPECT_TRUE(active(current->refresh_token));
  EXPECT_TRUE(active(current->access_token));
}

// The same for a password grant's source: it refreshes while it can, always with the newest
// refresh token.
TEST(InteropRefresh, APasswordSourceAlwaysSendsTheNewestRefreshToken) {
  auto [recorder, client] = recorded_client();
  const auto source = client.token_source(alice());

  auto current = source->token();
  for (int i = 0; i < 2; ++i) {
    source->invalidate(*current);
    const auto renewed = source->token();
    EXPECT_FALSE(renewed->access_token.equals(current->access_token.expose())) << "renewal " << i;
    current = renewed;
  }
  EXPECT_EQ(source->renewals(), 3u);  // the grant, then two refreshes

  const auto sent = recorder->exchanges();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(form_value(sent[0].request.body, "grant_type"), "password");
  EXPECT_EQ(expect_each_refresh_sends_the_previous_responses_token(sent), 2u);
  for (std::size_t i = 1; i < sent.size(); ++i)
    EXPECT_EQ(form_value(sent[i].request.body, "password"), std::nullopt) << "a refresh has no password";
  EXPECT_EQ(current->refresh_token.expose(), nlohmann::json::parse(sent[2].response.body).at("refresh_token"));
  EXPECT_TRUE(active(current->refresh_token));
}

// Once the provider has revoked the grant (here: the consumed refresh token presented again,
// outside the library), an interactive source cannot renew: errc::interaction_required, after
// one refresh attempt with the newest refresh token, refused with invalid_grant.
TEST(InteropRefresh, AnInteractiveSourceReportsInteractionRequiredOnceTheGrantIsRevoked) {
  const auto& p = Provider::get();
  auto [recorder, client] = recorded_client();
  const auto t0 = client.password(alice());
  const auto t1 = client.refresh(t0);
  const auto source = client.token_source(t1);

  const auto reuse = oidc_interop::raw_request(
      p.endpoint("token_endpoint"), p.ca_file(),
      oidc_interop::form_urlencode({{"grant_type", "refresh_token"}, {"refresh_token", t0.refresh_token.expose()}}),
      kRopc.id, kRopc.secret);
  EXPECT_EQ(reuse.status, 400) << reuse.body;
  EXPECT_EQ(nlohmann::json::parse(reuse.body).value("error", ""), "invalid_grant") << reuse.body;
  EXPECT_FALSE(active(t1.refresh_token)) << "presenting a consumed refresh token revokes the grant";

  source->invalidate(*source->token());
  const auto e = error_of([&] { (void)source->token(); });
  EXPECT_EQ(e.code(), errc::interaction_required) << e.what();
  EXPECT_EQ(e.operation(), "token renewal") << e.what();
  EXPECT_NE(std::string(e.what()).find("invalid_grant"), std::string::npos) << e.what();
  EXPECT_TRUE(is_clean(e, {t0.refresh_token.expose(), t1.refresh_token.expose(), t0.access_token.expose(),
                           t1.access_token.expose(), kRopc.secret, std::string(kAlicePassword)}));

  const auto sent = recorder->exchanges();
  ASSERT_EQ(sent.size(), 3u);  // password, refresh, the source's one refused refresh
  EXPECT_EQ(form_value(sent[2].request.body, "refresh_token"), t1.refresh_token.expose());
  EXPECT_EQ(sent[2].response.status, 400);
  EXPECT_EQ(nlohmann::json::parse(sent[2].response.body).value("error", ""), "invalid_grant");
}

// A password source whose grant was revoked (RFC 7009, by the client, outside the library) does
// not give up: the refused refresh makes it run the password grant again, and the new token is
// live at the provider while the old one is not.
TEST(InteropRefresh, APasswordSourceRerunsTheGrantOnceTheGrantIsRevoked) {
  const auto& p = Provider::get();
  auto [recorder, client] = recorded_client();
  const auto source = client.token_source(alice());
  const auto old = source->token();

  p.revoke(old->refresh_token.expose(), kRopc);
  EXPECT_FALSE(active(old->refresh_token));
  EXPECT_FALSE(active(old->access_token)) << "revoking the refresh token revokes its grant";

  const int passwords_before = p.token_requests(kRopc, "password");
  const int refreshes_before = p.token_requests(kRopc, "refresh_token");
  source->invalidate(*old);
  const auto fresh = source->token();
  // At least: other tests of this file run ropc grants at the same time.
  EXPECT_GE(p.token_requests(kRopc, "refresh_token") - refreshes_before, 1);
  EXPECT_GE(p.token_requests(kRopc, "password") - passwords_before, 1);

  const auto sent = recorder->exchanges();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(form_value(sent[0].request.body, "grant_type"), "password");
  EXPECT_EQ(form_value(sent[1].request.body, "grant_type"), "refresh_token");
  EXPECT_EQ(form_value(sent[1].request.body, "refresh_token"), old->refresh_token.expose());
  EXPECT_EQ(sent[1].response.status, 400);
  EXPECT_EQ(nlohmann::json::parse(sent[1].response.body).value("error", ""), "invalid_grant");
  EXPECT_EQ(form_value(sent[2].request.body, "grant_type"), "password");
  EXPECT_EQ(form_value(sent[2].request.body, "username"), std::string(kAlice));
  EXPECT_EQ(sent[2].response.status, 200);

  EXPECT_FALSE(fresh->access_token.equals(old->access_token.expose()));
  const auto view = p.introspect(fresh->access_token.expose());
  EXPECT_EQ(view.at("active"), true) << view;
  EXPECT_EQ(view.at("sub"), kAlice) << view;
  EXPECT_EQ(view.at("scope"), kScope) << view;
  ASSERT_TRUE(fresh->has_refresh_token());
  EXPECT_TRUE(active(fresh->refresh_token));
}

}  // namespace
