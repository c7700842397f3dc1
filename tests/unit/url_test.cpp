#include "oidc/detail/url.hpp"

#include <gtest/gtest.h>

using oidc::errc;
using oidc::Error;
using oidc::detail::require_secure_url;
using oidc::detail::url_host;

TEST(UrlHost, ExtractsHostWithoutPortUserOrPath) {
  EXPECT_EQ(url_host("https://login.vyopta.com/auth/realms/vyopta"), "login.vyopta.com");
  EXPECT_EQ(url_host("http://127.0.0.1:8080/x?y#z"), "127.0.0.1");
  EXPECT_EQ(url_host("http://u:p@host:1/"), "host");
  EXPECT_EQ(url_host("http://[::1]:9000/token"), "[::1]");
  EXPECT_EQ(url_host("not a url"), "");
}

TEST(RequireSecureUrl, AcceptsHttpsAndLoopbackHttp) {
  EXPECT_NO_THROW(require_secure_url("https://auth.example.com/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("http://127.0.0.1:1234/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("http://127.10.0.3/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("http://localhost/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("http://[::1]:80/token", false, "op"));
}

TEST(RequireSecureUrl, RefusesPlainHttpElsewhereUnlessAllowed) {
  try {
    require_secure_url("http://auth.example.com/token", false, "token request");
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::insecure_url);
  }
  // A host merely starting with "127." or "localhost" is not loopback.
  EXPECT_THROW(require_secure_url("http://127.0.0.1.evil.com/t", false, "op"), Error);
  EXPECT_THROW(require_secure_url("http://localhost.evil.com/t", false, "op"), Error);
  EXPECT_NO_THROW(require_secure_url("http://auth.example.com/token", true, "op"));
}

TEST(RequireSecureUrl, RefusesOtherSchemesAndRelativeUrls) {
  EXPECT_THROW(require_secure_url("ftp://example.com/", true, "op"), Error);
  EXPECT_THROW(require_secure_url("/token", true, "op"), Error);
}
