#include "oidc/http.hpp"

#include <gtest/gtest.h>

#include <string>

#include "error_of.hpp"

using oidc::errc;
using oidc::Headers;
using oidc::HttpRequest;
using oidc::detail::is_valid_header_name;
using oidc::detail::is_valid_header_value;
using oidc::detail::validate_request;
using oidc_testing::error_of;

TEST(Headers, NamesCompareCaseInsensitively) {
  Headers h{{"Content-Type", "application/json"}};
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_TRUE(h.contains("CONTENT-TYPE"));
  EXPECT_FALSE(h.get("Accept"));
}

TEST(Headers, SetReplacesEveryFieldOfThatNameAddKeepsOthers) {
  Headers h;
  h.add("X-A", "1");
  h.add("x-a", "2");
  h.add("X-B", "3");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.get("X-A"), "1");  // first wins on read
  h.set("X-a", "9");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("x-A"), "9");
  h.erase("X-B");
  EXPECT_EQ(h.size(), 1u);
}

TEST(HttpResponse, OkMeansTwoHundreds) {
  oidc::HttpResponse r;
  for (int s : {200, 201, 204, 299}) {
    r.status = s;
    EXPECT_TRUE(r.ok()) << s;
  }
  for (int s : {0, 199, 300, 302, 400, 500}) {
    r.status = s;
    EXPECT_FALSE(r.ok()) << s;
  }
}

// RFC 9110 tchar, written out independently of the implementation.
static bool rfc9110_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string::npos;
}

TEST(HeaderValidation, EveryByteInANameIsJudgedAsRfc9110Tchar) {
  int accepted = 0;
  for (int b = 0; b < 256; ++b) {
    const auto c = static_cast<char>(b);
    const std::string alone(1, c), inside = std::string("X-") + c + "-Y";
    EXPECT_EQ(is_valid_header_name(alone), rfc9110_tchar(static_cast<unsigned char>(b))) << "byte " << b;
    EXPECT_EQ(is_valid_header_name(inside), rfc9110_tchar(static_cast<unsigned char>(b))) << "byte " << b;
    accepted += is_valid_header_name(alone);
  }
  EXPECT_EQ(accepted, 26 * 2 + 10 + 15);
  EXPECT_FALSE(is_valid_header_name(""));
  EXPECT_FALSE(is_valid_header_name("Host:"));
  EXPECT_FALSE(is_valid_header_name(std::string("X\0Y", 3)));
}

TEST(HeaderValidation, EveryByteInAValue) {
  for (int b = 0; b < 256; ++b) {
    const auto c = static_cast<char>(b);
    const bool control = (b < 0x20 && b != '\t') || b == 0x7F;
    for (const std::string& v : {std::string(1, c), "a" + std::string(1, c) + "b", "abc" + std::string(1, c)}) {
      EXPECT_EQ(is_valid_header_value(v), !control) << "byte " << b;
      // The invariant that matters: nothing accepted can end a field or truncate a C string.
      if (is_valid_header_value(v)) {
        EXPECT_EQ(v.find_first_of(std::string("\r\n\0", 3)), std::string::npos);
      }
    }
  }
  EXPECT_TRUE(is_valid_header_value(""));
  EXPECT_TRUE(is_valid_header_value(" padded\t"));
  EXPECT_TRUE(is_valid_header_value("caf\xc3\xa9 \xff"));  // obs-text passes through
}

TEST(HeaderValidation, SetAndAddRefuseWithoutQuotingTheValue) {
  const std::string secret = "Bearer s3cr3t-t0ken";
  for (const std::string& bad :
       {secret + "\r\nX-Injected: 1", secret + "\n", secret + std::string("\0tail", 5), secret + "\x01",
        secret + "\x7f", "\r" + secret}) {
    Headers h;
    auto e = error_of([&] { h.set("Authorization", bad); });
    EXPECT_EQ(e.code(), errc::invalid_request);
    EXPECT_NE(e.detail().find("Authorization"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
    e = error_of([&] { h.add("Authorization", bad); });
    EXPECT_EQ(e.code(), errc::invalid_request);
    EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
    EXPECT_TRUE(h.empty());
  }
  for (const std::string& bad_name : {std::string(), std::string("Bad Name"), std::string("X:Y"),
                                      std::string("X\r\nY"), std::string("X\0Y", 3), std::string("caf\xc3\xa9")}) {
    Headers h;
    const auto e = error_of([&] { h.add(bad_name, "value-that-stays-private"); });
    EXPECT_EQ(e.code(), errc::invalid_request);
    EXPECT_EQ(std::string(e.what()).find("value-that-stays-private"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find_first_of(std::string("\r\n\0", 3)), std::string::npos) << "name escaped";
  }
  EXPECT_EQ(error_of([] { Headers h{{"X-Ok", "1"}, {"X-Bad", "a\nb"}}; }).code(), errc::invalid_request);
}

namespace {
HttpRequest valid_request() {
  HttpRequest r;
  r.method = "POST";
  r.url = "https://auth.example.com/token?x=1#f";
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  r.body = std::string("any\0body\r\n", 10);  // the body is not a header: anything goes
  return r;
}
}  // namespace

TEST(ValidateRequest, AcceptsAWellFormedRequest) {
  EXPECT_NO_THROW(validate_request(valid_request()));
  auto r = valid_request();
  r.method = "PATCH";
  EXPECT_NO_THROW(validate_request(r));
}

TEST(ValidateRequest, MethodHasNoDefaultAndMustBeAToken) {
  EXPECT_EQ(HttpRequest{}.method, "");
  auto r = valid_request();
  r.method.clear();
  auto e = error_of([&] { validate_request(r); });
  EXPECT_EQ(e.code(), errc::invalid_request);
  EXPECT_EQ(e.detail(), "no method");
  for (const std::string& m : {std::string("GET /x HTTP/1.1\r\n"), std::string("PO ST"), std::string("GET\0", 4)}) {
    r.method = m;
    EXPECT_EQ(error_of([&] { validate_request(r); }).code(), errc::invalid_request);
  }
}

TEST(ValidateRequest, UrlHasNoControlSpaceOrNonAsciiByte) {
  for (int b = 0; b < 256; ++b) {
    auto r = valid_request();
    r.url = "https://auth.example.com/t" + std::string(1, static_cast<char>(b)) + "x";
    const bool refused = b <= 0x20 || b >= 0x7F;
    if (refused) {
      const auto e = error_of([&] { validate_request(r); });
      EXPECT_EQ(e.code(), errc::invalid_request) << "byte " << b;
      EXPECT_EQ(std::string(e.what()).find("auth.example.com"), std::string::npos) << "URL not quoted";
    } else {
      EXPECT_NO_THROW(validate_request(r)) << "byte " << b;
    }
  }
  auto r = valid_request();
  r.url = std::string("http://s\0@[::1]/", 16);
  EXPECT_EQ(error_of([&] { validate_request(r); }).code(), errc::invalid_request);
  r.url.clear();
  EXPECT_EQ(error_of([&] { validate_request(r); }).code(), errc::invalid_request);
}
