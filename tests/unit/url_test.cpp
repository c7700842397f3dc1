#include "oidc/detail/url.hpp"

#include <gtest/gtest.h>

#include <string>

#include "error_of.hpp"

using oidc::errc;
using oidc::Error;
using oidc::detail::is_loopback_host;
using oidc::detail::require_secure_url;
using oidc::detail::url_host;
using oidc_testing::error_of;

TEST(UrlHost, ExtractsHostWithoutPortUserOrPath) {
  EXPECT_EQ(url_host("https://login.vyopta.com/auth/realms/vyopta"), "login.vyopta.com");
  EXPECT_EQ(url_host("http://127.0.0.1:8080/x?y#z"), "127.0.0.1");
  EXPECT_EQ(url_host("http://u:p@host:1/"), "host");
  EXPECT_EQ(url_host("http://[::1]:9000/token"), "[::1]");
  EXPECT_EQ(url_host("HTTPS://Auth.Example.COM"), "Auth.Example.COM");
  EXPECT_EQ(url_host("https://host?q=1"), "host");
  EXPECT_EQ(url_host("https://evil.com#@127.0.0.1/"), "evil.com");
  EXPECT_EQ(url_host("http://127.0.0.1:80@evil.com/"), "evil.com");
  EXPECT_EQ(url_host("https://[2001:db8::1]/"), "[2001:db8::1]");
  EXPECT_EQ(url_host("https://example.com./"), "example.com.");
  EXPECT_EQ(url_host("not a url"), "");
}

TEST(UrlHost, RefusesWhatLibcurlWouldReadDifferently) {
  for (const std::string& url : {
           std::string("http://s\0@[::1]/", 16),  // libcurl, given c_str(), goes to host "s"
           std::string("http://127.0.0.1\0.evil.com/", 27),
           std::string("http://a@b@host/"),           // which '@' ends the userinfo?
           std::string("http:/host/"),                // libcurl accepts one slash
           std::string("http:///host/"),
           std::string("http://host\\@127.0.0.1/"),    // WHATWG reads '\' as '/'
           std::string("http://[::1%25lo]/"),          // zone id
           std::string("http://[fe80::1%eth0]/"),
           std::string("http://[0:0::1]/"),            // libcurl rewrites it to [::1]
           std::string("http://[::ffff:127.0.0.1]/"),  // IPv4-mapped
           std::string("http://[::1]x/"),
           std::string("http://%6c%6f%63alhost/"),  // libcurl decodes it to localhost
           std::string("http://exa%2Emple.com/"),
           std::string("http://0x7f.0.0.1/"),  // libcurl: 127.0.0.1
           std::string("http://2130706433/"),  // libcurl: 127.0.0.1
           std::string("http://0177.0.0.1/"),  // octal
           std::string("http://127.1/"),
           std::string("http://127.0.0.1./"),
           std::string("http://256.0.0.1/"),
           std::string("http://foo.0x10/"),
           std::string("http:///"),
           std::string("http://:80/"),
           std::string("http://host:/"),
           std::string("http://host:0/"),
           std::string("http://host:65536/"),
           std::string("http://host:8O/"),
           std::string("http://a..b/"),
           std::string("http://.a/"),
           std::string("http://ho st/"),
           std::string("http://h\xc3\xa9st/"),
           std::string("http://host/\x01"),
           std::string("http://host/ a"),
       }) {
    EXPECT_EQ(url_host(url), "") << oidc::detail::printable(url);
    EXPECT_EQ(error_of([&] { require_secure_url(url, true, "op"); }).code(), errc::config)
        << oidc::detail::printable(url);
  }
}

TEST(LoopbackHost, OnlyCanonicalSpellings) {
  for (const char* h : {"localhost", "LocalHost", "127.0.0.1", "127.255.255.254", "127.10.0.3", "[::1]"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"localhost.", "127.0.0.1.", "127.1", "127.0.0.01", "127.0.0.256", "127.0.0.1.evil.com",
                        "127..0.1", "[0::1]", "[::ffff:127.0.0.1]", "localhost.evil.com", "128.0.0.1", ""})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(RequireSecureUrl, AcceptsHttpsAndLoopbackHttp) {
  EXPECT_NO_THROW(require_secure_url("https://auth.example.com/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("http://127.0.0.1:1234/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("http://127.10.0.3/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("http://localhost/token", false, "op"));
  EXPECT_NO_THROW(require_secure_url("HTTP://LOCALHOST/token", false, "op"));
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
  EXPECT_EQ(error_of([] { require_secure_url("http://127.0.0.1.evil.com/t", false, "op"); }).code(),
            errc::insecure_url);
  EXPECT_EQ(error_of([] { require_secure_url("http://localhost.evil.com/t", false, "op"); }).code(),
            errc::insecure_url);
  EXPECT_EQ(error_of([] { require_secure_url("http://localhost./t", false, "op"); }).code(), errc::insecure_url);
  EXPECT_EQ(error_of([] { require_secure_url("http://127.0.0.1:80@evil.com/t", false, "op"); }).code(),
            errc::insecure_url);
  // Loopback-looking hosts libcurl would read otherwise are not even URLs to us.
  EXPECT_EQ(error_of([] { require_secure_url(std::string("http://s\0@[::1]/", 16), false, "op"); }).code(),
            errc::config);
  EXPECT_EQ(error_of([] { require_secure_url("http://a@b@127.0.0.1/", false, "op"); }).code(), errc::config);
  EXPECT_NO_THROW(require_secure_url("http://auth.example.com/token", true, "op"));
}

TEST(RequireSecureUrl, RefusesOtherSchemesAndRelativeUrlsWithoutQuotingThem) {
  auto e = error_of([] { require_secure_url("ftp://example.com/", true, "op"); });
  EXPECT_EQ(e.code(), errc::config);
  EXPECT_NE(e.detail().find("unsupported URL scheme: ftp"), std::string::npos) << e.detail();
  EXPECT_THROW(require_secure_url("/token", true, "op"), Error);
  e = error_of([] { require_secure_url("https://user:pa55word@host:99999/", true, "op"); });
  EXPECT_EQ(std::string(e.what()).find("pa55word"), std::string::npos) << e.what();
}
