#include "oidc/client.hpp"
#include "oidc/end_session.hpp"

#include <gtest/gtest.h>

#include <string>

#include "error_of.hpp"

using oidc::Client;
using oidc::ClientConfig;
using oidc::EndSessionRequest;
using oidc::errc;
using oidc_testing::error_of;

namespace {

constexpr const char* kLogout = "https://auth.example.com/realms/core/protocol/openid-connect/logout";
constexpr const char* kIdToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";

Client client(std::string endpoint = kLogout) {
  ClientConfig c;
  c.client_id = "web app";
  c.end_session_endpoint = std::move(endpoint);
  return Client(c);
}

}  // namespace

TEST(EndSession, AllParametersEncoded) {
  EndSessionRequest r;
  r.id_token_hint = kIdToken;
  r.post_logout_redirect_uri = "https://app.example.com/bye?x=1&y=2";
  r.state = "st/ate+1";
  r.ui_locales = "fr-CA en";
  r.extra = {{"logout_hint", "alice@example.com"}};
  EXPECT_EQ(client().end_session_url(r),
            std::string(kLogout) + "?id_token_hint=" + kIdToken +
                "&client_id=web+app&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye%3Fx%3D1%26y%3D2"
                "&state=st%2Fate%2B1&ui_locales=fr-CA+en&logout_hint=alice%40example.com");
}

TEST(EndSession, MinimalAndWithoutClientId) {
  EXPECT_EQ(client().end_session_url({}), std::string(kLogout) + "?client_id=web+app");
  EndSessionRequest r;
  r.id_token_hint = kIdToken;
  r.include_client_id = false;
  EXPECT_EQ(client().end_session_url(r), std::string(kLogout) + "?id_token_hint=" + kIdToken);
  r.id_token_hint.clear();
  EXPECT_EQ(client().end_session_url(r), kLogout);
}

TEST(EndSession, ExistingQueryAppendedWithAmpersand) {
  EXPECT_EQ(client("https://login.example.com/oauth2/logout?p=B2C_1_signin").end_session_url({}),
            "https://login.example.com/oauth2/logout?p=B2C_1_signin&client_id=web+app");
  // A query naming a parameter the request sets is a duplicate.
  EXPECT_EQ(error_of([] { (void)client("https://login.example.com/logout?client_id=x").end_session_url({}); }).code(),
            errc::config);
}

TEST(EndSession, EndpointChecked) {
  EXPECT_EQ(error_of([] { (void)client("").end_session_url({}); }).code(), errc::config);
  EXPECT_EQ(error_of([] { (void)client("http://auth.example.com/logout").end_session_url({}); }).code(),
            errc::insecure_url);
  EXPECT_EQ(error_of([] { (void)client("https://auth.example.com/logout#x").end_session_url({}); }).code(),
            errc::config);
  EXPECT_NO_THROW((void)client("http://127.0.0.1:8080/logout").end_session_url({}));
}

TEST(EndSession, RedirectUriChecked) {
  for (const char* bad : {"https://app.example.com/bye#frag", "http://app.example.com/bye", "/bye", "app.example.com",
                          "com.example.app:/logout", "https://app.example.com/b ye", "https://app.example.com/\x01"}) {
    EndSessionRequest r;
    r.post_logout_redirect_uri = bad;
    EXPECT_EQ(error_of([&] { (void)client().end_session_url(r); }).code(), errc::config) << bad;
  }
  EndSessionRequest r;
  r.post_logout_redirect_uri = "http://127.0.0.1:53111/bye";
  EXPECT_NE(client().end_session_url(r).find("post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A53111%2Fbye"),
            std::string::npos);
}

TEST(EndSession, ValuesAndExtraChecked) {
  EndSessionRequest r;
  r.id_token_hint = "not a jwt";
  EXPECT_EQ(error_of([&] { (void)client().end_session_url(r); }).code(), errc::config);
  r = {};
  r.state = "a\nb";
  EXPECT_EQ(error_of([&] { (void)client().end_session_url(r); }).code(), errc::config);
  r = {};
  r.ui_locales = "fr\x1b";
  EXPECT_EQ(error_of([&] { (void)client().end_session_url(r); }).code(), errc::config);
  for (const char* reserved : {"id_token_hint", "post_logout_redirect_uri", "state", "ui_locales", "client_id"}) {
    r = {};
    r.extra = {{reserved, "x"}};
    EXPECT_EQ(error_of([&] { (void)client().end_session_url(r); }).code(), errc::config) << reserved;
  }
  r = {};
  r.extra = {{"logout_hint", "a"}, {"logout_hint", "b"}};
  EXPECT_EQ(error_of([&] { (void)client().end_session_url(r); }).code(), errc::config);
}

TEST(EndSession, FromAValidatedIdToken) {
  const auto key = oidc::SigningKey::generate(oidc::JwsAlgorithm::ES256, "k");
  const oidc::StaticKeySource keys(oidc::JwkSet({key.verification_key()}));
  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}};
  const std::string jwt = oidc::sign_compact_jws(
      key, {{"typ", "JWT"}},
      {{"iss", "https://auth.example.com"}, {"sub", "u-1"}, {"aud", "web app"}, {"iat", 1'700'000'000}, {"exp", 1'700'000'300}});
  oidc::IdTokenChecks checks;
  checks.issuer = "https://auth.example.com";
  checks.client_id = "web app";
  checks.algorithms = {oidc::JwsAlgorithm::ES256};
  checks.now = now;
  const auto id = oidc::validate_id_token(jwt, keys, checks);
  EXPECT_EQ(client().end_session_url(id, "https://app.example.com/bye", "s1"),
            std::string(kLogout) + "?id_token_hint=" + jwt +
                "&client_id=web+app&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye&state=s1");
}
