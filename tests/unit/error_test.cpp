#include "oidc/error.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <system_error>

using oidc::errc;
using oidc::Error;

TEST(Error, IsAnErrorCodeEnumInItsOwnCategory) {
  const std::error_code ec = errc::timeout;
  EXPECT_EQ(ec.category().name(), std::string("oidc"));
  EXPECT_EQ(ec.message(), "timed out");
  EXPECT_EQ(ec, oidc::make_error_code(errc::timeout));
  EXPECT_NE(ec, oidc::make_error_code(errc::connect));
}

TEST(Error, EveryCodeHasAMessage) {
  for (int i = static_cast<int>(errc::transport); i <= static_cast<int>(errc::store_mismatch); ++i)
    EXPECT_NE(oidc::error_category().message(i), "unknown oidc error") << i;
}

TEST(Error, FormatsTransportFailures) {
  const Error e(errc::connect, "token request (grant_type=client_credentials)", "Connection refused");
  EXPECT_STREQ(e.what(), "token request (grant_type=client_credentials): could not connect: Connection refused");
  EXPECT_EQ(e.http_status(), 0);
  EXPECT_FALSE(e.oauth());
  EXPECT_EQ(e.oauth_code(), "");
  EXPECT_EQ(e.error_code(), oidc::make_error_code(errc::connect));
}

TEST(Error, FormatsHttpFailuresWithSnippet) {
  Error::Details d;
  d.code = errc::http_status;
  d.operation = "token request";
  d.http_status = 502;
  d.body_snippet = "<html>Bad Gateway</html>";
  const Error e(d);
  EXPECT_STREQ(e.what(), "token request: unexpected HTTP status (HTTP 502); body: <html>Bad Gateway</html>");
  std::ostringstream os;
  os << e;
  EXPECT_EQ(os.str(), e.what());
}

TEST(Error, CatchableAsStdException) {
  try {
    throw Error(errc::config, "client configuration", "client_id is empty");
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "client configuration: invalid configuration: client_id is empty");
  }
}

TEST(Error, MessageIsBoundedWhateverThePartsAre) {
  Error::Details d;
  d.code = errc::oauth_error;
  d.operation = std::string(100000, 'o');
  d.http_status = 400;
  // U+00E9 is two bytes: a cut must not split one.
  std::string accented;
  for (int i = 0; i < 50000; ++i) accented += "\xc3\xa9";
  d.oauth = oidc::OAuthError{std::string(100000, 'e'), accented, "https://e.example/" + std::string(100000, 'u')};
  d.body_snippet = std::string(100000, 'b');
  const Error e(d);
  const std::string what = e.what();
  EXPECT_LE(what.size(), 2048u);
  EXPECT_NE(what.find(" (HTTP 400); body: bbb"), std::string::npos) << what;
  EXPECT_NE(what.find("\xc3\xa9..."), std::string::npos);  // cut between characters, marked
  EXPECT_EQ(e.oauth()->error_description, accented);      // the fields themselves are kept as given

  Error::Details t;
  t.code = errc::transport;
  t.operation = "token request";
  t.detail = std::string(1 << 20, 'd');
  EXPECT_LE(std::string(Error(t).what()).size(), 2048u);
  EXPECT_EQ(std::string(Error(t).what()).substr(0, 33), "token request: transport failure:");
}
