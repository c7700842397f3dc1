#include "oidc/token.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace std::chrono_literals;
using oidc::Token;

namespace {
const Token::time_point t0{std::chrono::seconds{1'700'000'000}};
}

TEST(Token, TypeNormalisation) {
  Token t;
  t.access_token = "abc";
  for (const char* raw : {"bearer", "BEARER", "Bearer", ""}) {
    t.token_type = raw;
    EXPECT_EQ(t.type(), "Bearer") << raw;
    EXPECT_EQ(t.authorization_header(), "Bearer abc") << raw;
  }
  t.token_type = "dpop";
  EXPECT_EQ(t.type(), "DPoP");
  t.token_type = "N_A";
  EXPECT_EQ(t.type(), "N_A");
}

TEST(Token, ExpiryWithSkew) {
  Token t;
  t.expiry = t0 + 300s;
  EXPECT_FALSE(t.expired(t0));
  EXPECT_FALSE(t.expired(t0 + 269s, 30s));
  EXPECT_TRUE(t.expired(t0 + 270s, 30s));
  EXPECT_TRUE(t.expired(t0 + 300s));
}

TEST(Token, RefreshTokenUsability) {
  Token t;
  EXPECT_FALSE(t.refresh_token_usable(t0));
  t.refresh_token = "r";
  EXPECT_TRUE(t.refresh_token_usable(t0));
  t.refresh_expiry = t0 + 1800s;
  EXPECT_TRUE(t.refresh_token_usable(t0 + 1799s));
  EXPECT_FALSE(t.refresh_token_usable(t0 + 1800s));
}

TEST(Token, PrintingRedactsEveryTokenValue) {
  Token t;
  t.access_token = "ACCESS-VALUE";
  t.refresh_token = "REFRESH-VALUE";
  t.id_token = "ID-VALUE";
  t.token_type = "bearer";
  t.scope = "openid";
  t.expiry = t0;
  std::ostringstream os;
  os << t;
  const auto s = os.str();
  EXPECT_EQ(s.find("ACCESS-VALUE"), std::string::npos);
  EXPECT_EQ(s.find("REFRESH-VALUE"), std::string::npos);
  EXPECT_EQ(s.find("ID-VALUE"), std::string::npos);
  EXPECT_EQ(s,
            "Token{type=Bearer, access_token=[redacted], expiry=2023-11-14T22:13:20Z, refresh_token=[redacted], "
            "id_token=[redacted], scope=\"openid\"}");
}

TEST(Token, HandBuiltTypeCannotBreakTheHeader) {
  Token t;
  t.access_token = "abc";
  for (const std::string& raw : {std::string("X\r\nInjected: 1"), std::string("A\0B", 3), std::string("a b\n")}) {
    t.token_type = raw;
    const auto h = t.authorization_header();
    EXPECT_EQ(h.find_first_of(std::string("\r\n\0", 3)), std::string::npos) << oidc::detail::printable(h);
    EXPECT_EQ(t.type().find_first_of(std::string("\r\n\0", 3)), std::string::npos);
  }
  t.token_type = "X\r\nY";
  EXPECT_EQ(t.type(), "X\\x0d\\x0aY");
}

TEST(Token, TokenProblemNamesTheMemberNotTheValue) {
  Token t;
  t.access_token = "secret value";
  const auto problem = oidc::detail::token_problem(t);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("access_token"), std::string::npos);
  EXPECT_EQ(problem->find("secret"), std::string::npos);
  t.token_type = "N_A";  // not Bearer: VSCHAR is enough
  EXPECT_FALSE(oidc::detail::token_problem(t));
}
