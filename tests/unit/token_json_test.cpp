#include "oidc/token_json.hpp"

#include <gtest/gtest.h>

#include "error_of.hpp"

using namespace std::chrono_literals;
using oidc::Token;
using oidc_testing::error_of;

namespace {
const Token::time_point t0{std::chrono::seconds{1'700'000'000}};
}

TEST(TokenJson, RoundTripsEveryMember) {
  Token t;
  t.access_token = "at";
  t.token_type = "bearer";
  t.scope = "openid";
  t.refresh_token = "rt";
  t.id_token = "it";
  t.received_at = t0;
  t.expiry = t0 + 300s;
  t.refresh_expiry = t0 + 1800s;
  t.extra = {{"session_state", "s"}, {"not-before-policy", 0}};
  const auto j = oidc::token_to_json(t);
  EXPECT_EQ(j.at("expires_at"), 1'700'000'300);
  const Token back = oidc::token_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.access_token.expose(), "at");
  EXPECT_EQ(back.type(), "Bearer");
  EXPECT_EQ(back.scope, "openid");
  EXPECT_EQ(back.refresh_token.expose(), "rt");
  EXPECT_EQ(back.id_token.expose(), "it");
  EXPECT_EQ(back.received_at, t0);
  EXPECT_EQ(back.expiry, t0 + 300s);
  EXPECT_EQ(back.refresh_expiry, t0 + 1800s);
  EXPECT_EQ(back.extra, t.extra);
}

TEST(TokenJson, AbsentOptionalsStayAbsent) {
  Token t;
  t.access_token = "at";
  const Token back = oidc::token_from_json(oidc::token_to_json(t));
  EXPECT_FALSE(back.expiry);
  EXPECT_FALSE(back.refresh_expiry);
  EXPECT_FALSE(back.has_refresh_token());
  EXPECT_FALSE(oidc::token_to_json(t).contains("refresh_token"));
}

TEST(TokenJson, MalformedInputIsAParseErrorWithoutValues) {
  EXPECT_EQ(error_of([] { (void)oidc::token_from_json(nlohmann::json::array()); }).code(), oidc::errc::parse);
  EXPECT_EQ(error_of([] { (void)oidc::token_from_json({{"token_type", "Bearer"}}); }).code(), oidc::errc::parse);
  const auto e = error_of([] { (void)oidc::token_from_json({{"access_token", "secret-at"}, {"expires_at", "soon"}}); });
  EXPECT_EQ(e.code(), oidc::errc::parse);
  EXPECT_EQ(std::string(e.what()).find("secret-at"), std::string::npos);
}
