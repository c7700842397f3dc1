#include "oidc/detail/validate.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "oidc/detail/base64.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/detail/jwt.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
namespace d = oidc::detail;
using time_point = std::chrono::system_clock::time_point;

namespace {

const time_point t0{std::chrono::seconds{1'700'000'000}};
constexpr std::int64_t ten_years = 10LL * 365 * 24 * 3600;

// A number as nlohmann parses it from the wire (2^64 becomes a double, for instance).
json wire(const std::string& text) {
  auto r = d::parse_json(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.problem;
  return r.value;
}

std::string jwt_with_payload(const std::string& payload) {
  return "eyJhbGciOiJSUzI1NiJ9." + d::base64url_encode(payload) + ".sig";
}

}  // namespace

TEST(ValidateChars, B64TokenFollowsRfc6750) {
  for (const char* ok : {"abc", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "a-._~+/Z9", "abc==", "a="})
    EXPECT_TRUE(d::is_b64token(ok)) << ok;
  for (const std::string& bad : {std::string(""), std::string("=abc"), std::string("a b"), std::string("a,b"),
                                std::string("a\r\nb"), std::string("a\0b", 3), std::string("a=b"), std::string("<x>"),
                                std::string("a\tb"), std::string("a\"b")})
    EXPECT_FALSE(d::is_b64token(bad)) << bad;
}

TEST(ValidateChars, VscharScopeJoseAndTypes) {
  EXPECT_TRUE(d::is_vschar_string("ey J...-H5oAwI8"));  // seed 003's refresh token: space is VSCHAR
  EXPECT_FALSE(d::is_vschar_string(""));
  EXPECT_FALSE(d::is_vschar_string("a\nb"));
  EXPECT_FALSE(d::is_vschar_string("caf\xc3\xa9"));

  EXPECT_TRUE(d::is_scope(""));
  EXPECT_TRUE(d::is_scope("openid profile email"));
  EXPECT_TRUE(d::is_scope("urn:x:y https://api.example.com/read"));
  EXPECT_FALSE(d::is_scope("open\"id"));
  EXPECT_FALSE(d::is_scope("a\\b"));
  EXPECT_FALSE(d::is_scope("a\r\nb"));
  EXPECT_FALSE(d::is_scope_token("a b"));

  EXPECT_TRUE(d::is_compact_jose("eyJ.eyJ.sig-_"));
  EXPECT_FALSE(d::is_compact_jose("eyJ.eyJ.sig="));
  EXPECT_FALSE(d::is_compact_jose("eyJ eyJ"));

  for (const char* ok : {"Bearer", "bearer", "DPoP", "N_A", "mac", "urn:ietf:params:oauth:token-type:jwt"})
    EXPECT_TRUE(d::is_token_type(ok)) << ok;
  for (const std::string& bad : {std::string(""), std::string("Bearer x"), std::string("Bearer\r\nX-Evil: 1"),
                                std::string("B\0", 2), std::string(200, 'a'), std::string("\"q\"")})
    EXPECT_FALSE(d::is_token_type(bad)) << bad;

  EXPECT_TRUE(d::is_http_token("Bearer"));
  EXPECT_FALSE(d::is_http_token("a:b"));
}

TEST(ValidateChars, PrintableTextRefusesControlsAndInvalidUtf8) {
  EXPECT_TRUE(d::is_printable_text("XCMX-RRUL", 64));
  EXPECT_TRUE(d::is_printable_text("\xc3\xa9t\xc3\xa9 \\ 7096", 64));  // UTF-8 and a backslash
  for (const std::string& bad : {std::string("\x1b[2J"), std::string("AB\r\nCD"), std::string("A\0B", 3),
                                std::string("\xc2\x9b" "31m"), std::string("\xff"), std::string("\x7f"),
                                std::string(""), std::string(65, 'A')})
    EXPECT_FALSE(d::is_printable_text(bad, 64)) << d::printable(bad);
}

TEST(ValidateLifetime, EveryAwkwardValueHasADefinedResult) {
  using opt = std::optional<std::chrono::seconds>;
  const opt cap = std::chrono::seconds{ten_years};
  EXPECT_EQ(d::lifetime(wire("3600")), opt(3600s));
  EXPECT_EQ(d::lifetime(wire("\"3600\"")), opt(3600s));  // numeric string, as some providers send
  EXPECT_EQ(d::lifetime(wire("3600.7")), opt(3600s));    // floored
  EXPECT_EQ(d::lifetime(wire("18446744073709551616")), cap);  // 2^64 (a double on the wire)
  EXPECT_EQ(d::lifetime(wire("18446744073709551615")), cap);  // UINT64_MAX
  EXPECT_EQ(d::lifetime(wire("9223372036854775807")), cap);
  EXPECT_EQ(d::lifetime(wire("1e20")), cap);
  EXPECT_EQ(d::lifetime(wire("\"99999999999999999999999999\"")), cap);
  EXPECT_EQ(d::lifetime(wire(std::to_string(ten_years + 1))), cap);
  EXPECT_EQ(d::lifetime(wire(std::to_string(ten_years))), cap);
  for (const char* unknown : {"0", "-1", "-1e300", "0.5", "\"abc\"", "\"\"", "\"-5\"", "\"1e3\"", "\"36 00\"", "true",
                              "null", "[]", "{}"})
    EXPECT_EQ(d::lifetime(wire(unknown)), std::nullopt) << unknown;
  // Not produced by parsing (nlohmann refuses 1e309), but a document built in code can hold them.
  EXPECT_EQ(d::lifetime(json(std::numeric_limits<double>::infinity())), std::nullopt);
  EXPECT_EQ(d::lifetime(json(-std::numeric_limits<double>::infinity())), std::nullopt);
  EXPECT_EQ(d::lifetime(json(std::numeric_limits<double>::quiet_NaN())), std::nullopt);
}

TEST(ValidateLifetime, DeviceIntervalIsClampedToOneMinuteAndTheCodesLifetime) {
  auto interval = [](const char* text, std::chrono::seconds expires_in = 600s) {
    const json v = wire(text);
    return d::device_interval(&v, expires_in);
  };
  EXPECT_EQ(d::device_interval(nullptr, 600s), 5s);
  EXPECT_EQ(interval("5"), 5s);
  EXPECT_EQ(interval("86400"), 60s);
  EXPECT_EQ(interval("1e300"), 60s);
  EXPECT_EQ(interval("0"), 1s);
  EXPECT_EQ(interval("-7"), 1s);
  EXPECT_EQ(interval("2.9"), 2s);
  EXPECT_EQ(interval("\"soon\""), 5s);
  EXPECT_EQ(interval("30", 10s), 10s);
  EXPECT_EQ(d::device_interval(nullptr, 3s), 3s);
}

TEST(ValidateInstant, NumericDateIsRangeCheckedBeforeConversion) {
  EXPECT_EQ(d::numeric_date(wire("1700000000")), t0);
  EXPECT_EQ(d::numeric_date(wire("1700000000.9")), t0);
  EXPECT_EQ(d::numeric_date(wire("0")), time_point{});
  for (const char* bad : {"-1", "-0.5", "1e300", "1e10", "9223372036854775807", "18446744073709551615",
                          "18446744073709551616", "\"1700000000\"", "true", "null"})
    EXPECT_EQ(d::numeric_date(wire(bad)), std::nullopt) << bad;  // 1e10 s is year 2286, past 2262
  EXPECT_EQ(d::numeric_date(json(std::numeric_limits<double>::infinity())), std::nullopt);
  EXPECT_EQ(d::unix_instant(-1), std::nullopt);
  EXPECT_EQ(d::unix_instant(d::max_unix_seconds + 1), std::nullopt);
  ASSERT_TRUE(d::unix_instant(d::max_unix_seconds));
  // The margin leaves room for adding a lifetime to the latest instant.
  const auto latest = *d::unix_instant(d::max_unix_seconds) + d::max_lifetime;
  EXPECT_GT(latest, *d::unix_instant(d::max_unix_seconds));
}

TEST(ValidateInstant, JwtExpIsAHintOnlyWithinTenYearsAhead) {
  auto exp = [](const std::string& claim) { return d::unverified_jwt_exp(jwt_with_payload(R"({"exp":)" + claim + "}"), t0); };
  EXPECT_EQ(exp("1700000500"), t0 + 500s);
  EXPECT_EQ(exp("1700000500.75"), t0 + 500s);  // float: floored
  EXPECT_EQ(exp(std::to_string(1'700'000'000 + ten_years)), t0 + std::chrono::seconds{ten_years});
  for (const std::string& bad :
       {std::string("10000000000"),  // year 2286: past what a time_point holds
        std::string("9.3e18"), std::string("1e309"), std::string("-1"), std::string("1600000000"),  // in the past
        std::string("1700000000"),                                                                     // exactly now
        std::to_string(1'700'000'001 + ten_years), std::string("\"1700000500\""), std::string("null")})
    EXPECT_EQ(exp(bad), std::nullopt) << bad;
  EXPECT_EQ(d::unverified_jwt_exp(jwt_with_payload(R"({"exp":1700000500,"exp":1700000600})"), t0), std::nullopt);
  EXPECT_EQ(d::unverified_jwt_exp("opaque-token", t0), std::nullopt);
  EXPECT_EQ(d::unverified_jwt_exp(jwt_with_payload(std::string(100'000, '[')), t0), std::nullopt);
}

TEST(ValidateUri, AcceptsHttpsAndLoopbackHttp) {
  for (const char* ok : {"https://example.com/device", "HTTPS://example.com", "https://example.com:8443/d?user_code=AB-CD",
                         "http://127.0.0.1:8080/device", "http://localhost/x", "http://[::1]:9000/"})
    EXPECT_EQ(d::check_server_uri(ok, false), std::nullopt) << ok;
  EXPECT_EQ(d::check_server_uri("http://idp.internal/device", true), std::nullopt);
}

TEST(ValidateUri, RefusesEverythingElseWithoutQuotingIt) {
  const std::string long_uri = "https://example.com/" + std::string(2980, 'a');  // 3000 bytes
  for (const std::string& bad :
       {std::string("javascript:alert(1)"), std::string("http://example.com/device"), std::string("ftp://example.com/"),
        std::string("data:text/html,<script>"), std::string("https://"), std::string("//example.com/x"),
        std::string("/device"), std::string(""), std::string("https://exa mple.com/"),
        std::string("https://example.com/\x1b]8;;evil\x07"), std::string("https://example.com/\r\nX: y"),
        std::string("https://example.com/\0", 21), std::string("https://ex\xc3\xa4mple.com/"), long_uri}) {
    const auto problem = d::check_server_uri(bad, false);
    ASSERT_TRUE(problem) << d::printable(bad, 80);
    if (bad.size() > 3) {
      EXPECT_EQ(problem->find(bad), std::string::npos) << *problem;
    }
  }
  EXPECT_EQ(*d::check_server_uri("http://example.com/", false), "is http:// to a non-loopback host");
  EXPECT_EQ(*d::check_server_uri(long_uri, true), "is longer than 2048 bytes");
  EXPECT_TRUE(d::check_server_uri("javascript:alert(1)", true));  // allow_insecure_http only concerns http
}
