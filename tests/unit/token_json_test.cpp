#include "oidc/token_json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

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

TEST(TokenJson, InstantsOutsideATimePointAreParseErrors) {
  for (const char* member : {"expires_at", "refresh_expires_at", "received_at"}) {
    for (const nlohmann::json& bad : {nlohmann::json(-1), nlohmann::json(100'000'000'000LL),  // year 5138
                                     nlohmann::json(9'223'372'037LL),  // just past 2262 in nanoseconds
                                     nlohmann::json(std::numeric_limits<std::int64_t>::max()),
                                     nlohmann::json(std::numeric_limits<std::uint64_t>::max()),
                                     nlohmann::json(1.7e9)}) {
      const auto e = error_of([&] { (void)oidc::token_from_json({{"access_token", "secret-at"}, {member, bad}}); });
      EXPECT_EQ(e.code(), oidc::errc::parse) << member << " " << bad;
      EXPECT_NE(e.detail().find(member), std::string::npos) << e.detail();
      EXPECT_EQ(std::string(e.what()).find("secret-at"), std::string::npos);
    }
  }
  const Token ok = oidc::token_from_json({{"access_token", "at"}, {"expires_at", 0}, {"received_at", 4'000'000'000LL}});
  EXPECT_EQ(ok.expiry, Token::time_point{});
  EXPECT_EQ(ok.received_at, Token::time_point{std::chrono::seconds{4'000'000'000LL}});
}

TEST(TokenJson, SavedStringsMeetTheResponseRules) {
  for (const auto& [member, value] : std::vector<std::pair<const char*, const char*>>{
           {"access_token", "at\r\nX-Evil: 1"},
           {"token_type", "Bearer\r\n"},
           {"refresh_token", "rt\n"},
           {"id_token", "a b"},
           {"scope", "a\"b"}}) {
    nlohmann::json j = {{"access_token", "at"}};
    j[member] = value;
    const auto e = error_of([&] { (void)oidc::token_from_json(j); });
    EXPECT_EQ(e.code(), oidc::errc::parse) << member;
    EXPECT_NE(e.detail().find(member), std::string::npos) << e.detail();
  }
}

TEST(TokenJson, SavedTextIsParsedWithTheDepthLimit) {
  Token t;
  t.access_token = "at";
  t.expiry = t0;
  EXPECT_EQ(oidc::token_from_json_text(oidc::token_to_json(t).dump()).expiry, t0);
  const std::string deep = R"({"access_token":"at","extra":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  const auto e = error_of([&] { (void)oidc::token_from_json_text(deep); });
  EXPECT_EQ(e.code(), oidc::errc::parse);
  EXPECT_NE(e.detail().find("nested deeper"), std::string::npos) << e.detail();
}

TEST(TokenJson, SavedTextWithADuplicateMemberDoesNotQuoteItsName) {
  // Saved text is the application's own: a stray name in it may be another writer's secret.
  const auto e = error_of([] { (void)oidc::token_from_json_text(R"({"access_token":"at","s3cr3t":1,"s3cr3t":2})"); });
  EXPECT_EQ(e.code(), oidc::errc::parse);
  EXPECT_EQ(e.detail(), "saved text: an object names a member twice");
}
