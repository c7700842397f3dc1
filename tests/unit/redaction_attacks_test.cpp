// Servers that echo what they were sent, in every shape, and bodies that are not JSON: nothing
// secret may come out of an error, and nothing that drives a terminal.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/failure.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/redact.hpp"
#include "oidc/token_response.hpp"

using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Error;
using oidc::HttpResponse;
using oidc::detail::base64_encode;
using oidc::detail::form_encode_component;
using oidc::detail::masked;
using oidc::detail::redacted_snippet;
using oidc_testing::error_of;
using oidc_testing::json_response;

namespace {

constexpr std::string_view kSecret = "Tr0ub4dor&3";  // form-encoded: Tr0ub4dor%263

HttpResponse text_response(int status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Error token_error(const HttpResponse& r, const std::vector<std::string_view>& secrets = {}) {
  return error_of([&] {
    (void)oidc::parse_token_response(r, oidc::Token::time_point{}, "token request (grant_type=password)", secrets);
  });
}

// Everything an Error shows.
std::string shown(const Error& e) {
  std::string s = std::string(e.what()) + " | " + e.body_snippet() + " | " + e.detail();
  if (e.oauth()) s += " | " + e.oauth()->error + " | " + e.oauth()->error_description + " | " + e.oauth()->error_uri;
  return s;
}

// The secret, or any 6-byte piece of it, in `out` (a secret shown almost whole is shown).
::testing::AssertionResult no_piece_of(std::string_view secret, std::string_view out, std::size_t piece = 6) {
  if (secret.size() < piece) piece = secret.size();
  for (std::size_t i = 0; i + piece <= secret.size(); ++i)
    if (out.find(secret.substr(i, piece)) != std::string_view::npos)
      return ::testing::AssertionFailure() << "'" << secret.substr(i, piece) << "' of the secret in: " << out;
  return ::testing::AssertionSuccess();
}

// Nothing a terminal would act on: no C0, DEL or C1 control, no invalid UTF-8, i.e. nothing that
// printable() would escape (it also doubles backslashes, which are harmless).
::testing::AssertionResult terminal_safe(std::string_view s) {
  std::string doubled;
  for (char c : s) doubled += c == '\\' ? std::string("\\\\") : std::string(1, c);
  if (oidc::detail::printable(s) != doubled)
    return ::testing::AssertionFailure() << "bytes to escape in: " << oidc::detail::printable(s);
  return ::testing::AssertionSuccess();
}

std::string percent_encode_all(std::string_view in, bool lower) {
  const char* hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 0x0F];
  }
  return out;
}

std::string json_escaped(std::string_view s, bool ensure_ascii = false) {
  const auto quoted = nlohmann::json(std::string(s)).dump(-1, ' ', ensure_ascii);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

// ---- the Basic credential ----------------------------------------------------------------------

struct BasicEcho : ::testing::Test {
  // Short enough that its Base64 (16 characters) is no token run: only the reported credential masks it.
  static constexpr std::string_view secret = "pw&1";
  std::shared_ptr<oidc_testing::FakeTransport> transport = std::make_shared<oidc_testing::FakeTransport>();
  Client client() {
    ClientConfig c;
    c.token_endpoint = "https://auth.example.com/token";
    c.client_id = "svc";
    c.client_secret = std::string(secret);
    c.auth_method = ClientAuthMethod::client_secret_basic;
    c.transport = transport;
    c.clock = std::make_shared<oidc_testing::FakeClock>();
    return Client(c);
  }
  const std::string credential = "svc:" + form_encode_component(secret);  // what RFC 6749 §2.3.1 Base64s
  const std::string header = base64_encode(credential);
};

TEST_F(BasicEcho, HeaderEchoedInErrorDescriptionIsMasked) {
  ASSERT_EQ(header, "c3ZjOnB3JTI2MQ==");
  transport->push_json(401, R"({"error":"invalid_client","error_description":"bad header Authorization: Basic )" +
                                header + " (url: " + oidc::detail::base64url_encode(credential) + ", decoded " +
                                credential + ")\"}");
  const auto e = error_of([&] { (void)client().client_credentials(); });
  ASSERT_TRUE(e.oauth());
  EXPECT_EQ(e.oauth()->error, "invalid_client");
  EXPECT_TRUE(no_piece_of(header.substr(0, header.size() - 1), shown(e)));
  EXPECT_TRUE(no_piece_of(credential, shown(e)));
  EXPECT_TRUE(no_piece_of(secret, shown(e)));
  EXPECT_NE(e.oauth()->error_description.find("bad header Authorization: Basic [redacted]"), std::string::npos)
      << e.oauth()->error_description;
}

TEST_F(BasicEcho, HeaderEchoedInPlainTextBodyIsMasked) {
  transport->push(text_response(502, "text/plain",
                                "upstream refused: Authorization: Basic " + header + "\nuser " + credential + "\n"));
  const auto e = error_of([&] { (void)client().client_credentials(); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_TRUE(no_piece_of(header.substr(0, header.size() - 1), shown(e)));
  EXPECT_TRUE(no_piece_of(credential, shown(e)));
  EXPECT_NE(e.body_snippet().find("upstream refused: Authorization: Basic [redacted]"), std::string::npos)
      << e.body_snippet();
}

// ---- encoded echoes ----------------------------------------------------------------------------

TEST(EncodedEcho, EveryEncodingOfASentSecretIsMasked) {
  const std::string secret = "p@ss w/rd+\"x\"&3";
  const std::vector<std::string> echoes{
      secret,
      form_encode_component(secret),                      // p%40ss+w%2Frd%2B%22x%22%263
      "p%40ss%20w%2Frd%2B%22x%22%263",                    // percent, %20 for space
      "p%40ss%20w%2frd%2b%22x%22%263",                    // lowercase hex
      percent_encode_all(secret, true),                   // every byte, lowercase
      json_escaped(secret),                               // p@ss w/rd+\"x\"&3
      "p@ss w\\/rd+\\\"x\\\"&3",                          // \/ as PHP writes it
      "\\u0070@ss\\u0020w\\/rd\\u002b\\u0022x\\\"&3",     // \uXXXX forms mixed in
      json_escaped(form_encode_component(secret)),        // form-encoded inside a JSON string
      base64_encode(secret),
      oidc::detail::base64url_encode(secret),
  };
  for (const auto& echo : echoes) {
    SCOPED_TRACE(echo);
    const std::string body = "<p>rejected [" + echo + "] for client</p>";
    const auto snippet = redacted_snippet(body, {secret});
    EXPECT_EQ(snippet, "<p>rejected [[redacted]] for client</p>");
    EXPECT_EQ(masked(echo, {secret}), "[redacted]");
  }
}

TEST(EncodedEcho, ThroughTheOAuthErrorDescription) {
  // The description is JSON-decoded once by the parser; what it then holds is the echo.
  for (const std::string& echo : {std::string("Tr0ub4dor%263"), std::string("Tr0ub4d%6fr%26%33"),
                                  std::string("Tr0ub4dor\\u00263"), std::string("Tr0ub4dor\\\\u00263")}) {
    SCOPED_TRACE(echo);
    const auto e = token_error(
        json_response(400, R"({"error":"invalid_grant","error_description":"password )" + echo + R"( refused"})"),
        {kSecret});
    ASSERT_TRUE(e.oauth());
    EXPECT_EQ(e.oauth()->error_description, "password [redacted] refused");
    EXPECT_TRUE(no_piece_of(kSecret, shown(e)));
  }
}

// ---- bodies that do not parse ------------------------------------------------------------------

TEST(UnparseableBody, ShortCredentialValuesAreFoundByScanning) {
  const std::string token = "k9Qz7WpX";  // 8 characters: no token-run rule would catch it
  const std::vector<std::pair<std::string, HttpResponse>> cases{
      {"truncated", json_response(200, R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":3)")},
      {"cut in the value", json_response(200, R"({"token_type":"Bearer","access_token":")" + token)},
      {"comments", json_response(200, R"({/* debug */ "access_token" : ")" + token + R"(", // x
                                         "token_type":"Bearer"})")},
      {"trailing garbage", json_response(200, R"({"access_token":")" + token + R"(","token_type":"Bearer"} }x)")},
      {"invalid UTF-8", json_response(200, "{\"access_token\":\"" + token + "\",\"note\":\"\xff\xfe\"}")},
      {"form body", text_response(200, "text/html", "access_token=" + token + "&token_type=bearer&expires_in=60")},
      {"refresh_token, single quotes", json_response(500, "{'refresh_token': '" + token + "', 'error': ")},
      {"id_token in a query", text_response(500, "text/html", "<a href=\"/cb?state=1&id_token=" + token + "\">")},
      {"device_code as a number", json_response(200, R"({"device_code": )" + token + "")},
      {"escaped JSON in JSON", json_response(500, R"({"msg":"upstream said {\"access_token\":\")" + token + R"(\"}")")},
  };
  for (const auto& [name, response] : cases) {
    SCOPED_TRACE(name);
    const auto e = token_error(response);
    EXPECT_NE(e.code(), errc::oauth_error) << e.what();
    EXPECT_TRUE(no_piece_of(token, shown(e), 4));
    EXPECT_NE(e.body_snippet().find("[redacted]"), std::string::npos) << e.body_snippet();
  }
}

TEST(UnparseableBody, BinaryBodyIsShownEscaped) {
  std::string body;
  for (int c = 0; c < 256; ++c) body += static_cast<char>(c);
  const auto e = token_error(text_response(500, "application/octet-stream", body));
  const std::string snippet = e.body_snippet();
  for (char c : snippet) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << int(static_cast<unsigned char>(c));
  EXPECT_NE(snippet.find("\\x1b"), std::string::npos) << snippet;
  EXPECT_LE(snippet.size(), 203u);
  EXPECT_TRUE(terminal_safe(e.what()));
}

TEST(UnparseableBody, SecretStraddlingTheCutIsMasked) {
  const std::string secret = "pass word!&3 x";  // not a token run
  for (std::size_t at = 180; at <= 200; ++at) {
    SCOPED_TRACE(at);
    std::string body(at, 'w');
    for (std::size_t i = 5; i < at; i += 6) body[i] = ' ';
    body += secret + " and more text after it";
    const auto snippet = redacted_snippet(body, {secret});
    EXPECT_TRUE(no_piece_of(secret, snippet, 4));
    EXPECT_LE(snippet.size(), 203u);
  }
  // Leading whitespace collapses to nothing, so the excerpt starts far into the body.
  for (std::size_t at : {1590u, 1595u, 1600u, 1605u}) {
    SCOPED_TRACE(at);
    const auto snippet = redacted_snippet(std::string(at, ' ') + secret + " tail", {secret});
    EXPECT_EQ(snippet, "[redacted] tail");
  }
}

// ---- error fields ------------------------------------------------------------------------------

TEST(OAuthErrorText, TerminalControlsAreEscapedEverywhere) {
  const auto e = token_error(json_response(
      400, R"({"error":"invalid_request","error_description":"t\u001b]0;pwned\u0007 \u001b[2J line\r\nforged: ok \u0000 c1 \u009b end"})"));
  ASSERT_TRUE(e.oauth());
  const auto& d = e.oauth()->error_description;
  EXPECT_EQ(d, "t\\x1b]0;pwned\\x07 \\x1b[2J line\\x0d\\x0aforged: ok \\x00 c1 \\xc2\\x9b end");
  EXPECT_TRUE(terminal_safe(d));
  const std::string what = e.what();
  EXPECT_EQ(what.find('\n'), std::string::npos);
  EXPECT_TRUE(terminal_safe(what));
  EXPECT_NE(what.find(d), std::string::npos) << what;
}

TEST(OAuthErrorText, ErrorCodeThatIsNotNqscharIsEscapedAndCodesStayComparable) {
  auto e = token_error(json_response(400, R"({"error":"bad\u001b[31mcode\u0085"})"));
  EXPECT_EQ(e.oauth_code(), "bad\\x1b[31mcode\\xc2\\x85");
  e = token_error(json_response(400, R"({"error":"authorization_pending"})"));
  EXPECT_EQ(e.oauth_code(), "authorization_pending");  // a 21-character word, not a token
  e = token_error(json_response(400, R"({"error":"unsupported_grant_type"})"));
  EXPECT_EQ(e.oauth_code(), "unsupported_grant_type");
  e = token_error(json_response(400, R"({"error":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0"})"));
  EXPECT_EQ(e.oauth_code(), "[redacted]");
  e = token_error(json_response(400, R"({"error":"Tr0ub4dor&3"})"), {kSecret});
  EXPECT_EQ(e.oauth_code(), "[redacted]");
}

TEST(OAuthErrorText, FieldsAreBounded) {
  std::string words, segments;  // neither is masked: a bound that masking met would prove nothing
  for (int i = 0; i < 20000; ++i) words += "word ", segments += "/seg";
  const auto e = token_error(json_response(400, R"({"error":")" + std::string(1000, 'e') +
                                                    R"(","error_description":")" + words +
                                                    R"(","error_uri":"https://e.example)" + segments + R"("})"));
  ASSERT_TRUE(e.oauth());
  EXPECT_LE(e.oauth()->error.size(), oidc::detail::max_oauth_error_bytes);
  EXPECT_LE(e.oauth()->error_description.size(), oidc::detail::max_oauth_error_description_bytes);
  EXPECT_LE(e.oauth()->error_uri.size(), oidc::detail::max_oauth_error_uri_bytes);
  EXPECT_GT(e.oauth()->error_description.size(), oidc::detail::max_oauth_error_description_bytes - 10);
  // A URI longer than the validation layer allows is dropped, not cut: a cut URI is another URI.
  EXPECT_EQ(e.oauth()->error_uri, "");
  EXPECT_LE(std::string(e.what()).size(), 2048u);
  EXPECT_NE(std::string(e.what()).find("(HTTP 400)"), std::string::npos);

  // One just inside the limit is kept whole.
  const std::string uri = "https://e.example" + segments.substr(0, 2000);
  const auto kept = token_error(json_response(400, R"({"error":"invalid_grant","error_uri":")" + uri + R"("})"));
  ASSERT_TRUE(kept.oauth());
  EXPECT_EQ(kept.oauth()->error_uri, uri);
}

TEST(OAuthErrorText, UnacceptableErrorUriIsDroppedButTheErrorStays) {
  const auto e = token_error(json_response(
      400, R"({"error":"invalid_grant","error_description":"expired","error_uri":"https://e.example/\u001b[2Jx"})"));
  ASSERT_TRUE(e.oauth());
  EXPECT_EQ(e.oauth_code(), "invalid_grant");
  EXPECT_EQ(e.oauth()->error_description, "expired");
  EXPECT_EQ(e.oauth()->error_uri, "");
  EXPECT_STREQ(e.what(), "token request (grant_type=password): invalid_grant: expired (HTTP 400)");
}

TEST(OAuthErrorText, ErrorUriKeepsHostAndPathButMasksCredentials) {
  const auto e = token_error(
      json_response(400, R"({"error":"invalid_grant","error_uri":"https://login.microsoftonline.example/common/oauth2/)"
                         R"(errors?access_token=k9Qz&x=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0&p=Tr0ub4dor%263"})"),
      {kSecret});
  ASSERT_TRUE(e.oauth());
  EXPECT_EQ(e.oauth()->error_uri,
            "https://login.microsoftonline.example/common/oauth2/errors?access_token=[redacted]&x=[redacted]&p=[redacted]");
  const auto userinfo =
      token_error(json_response(400, R"({"error":"invalid_grant","error_uri":"https://bob:hunter2@e.example/x"})"));
  EXPECT_EQ(userinfo.oauth()->error_uri, "https://[redacted]@e.example/x");
}

// ---- size and time -----------------------------------------------------------------------------

namespace {
// The secret, and with `encoded` its form-encoded echo too (which adds a decoding pass).
std::string full_of_secret(std::size_t bytes, bool encoded = false) {
  std::string body;
  body.reserve(bytes + 32);
  while (body.size() < bytes) body += std::string(kSecret) + (encoded ? " Tr0ub4dor%263 " : " ");
  return body;
}

double best_of_3_ms(const std::string& body) {
  double best = 1e9;
  for (int k = 0; k < 3; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto s = redacted_snippet(body, {kSecret});
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_EQ(s.find("Tr0ub"), std::string::npos);
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}
}  // namespace

TEST(RedactionCost, LinearInTheBodySize) {
  const auto small = best_of_3_ms(full_of_secret(64 * 1024));
  const auto large = best_of_3_ms(full_of_secret(1024 * 1024));
  const auto encoded = best_of_3_ms(full_of_secret(1024 * 1024, true));
  RecordProperty("ms_64KiB", std::to_string(small));
  RecordProperty("ms_1MiB", std::to_string(large));
  RecordProperty("ms_1MiB_encoded", std::to_string(encoded));
  EXPECT_LT(large, 1000.0);
  EXPECT_LT(encoded, 1000.0);
  // 16 times the bytes: linear is 16x, quadratic 256x. 64 KiB stays in L2 and 1 MiB does not,
  // which on a busy machine costs up to ~2x per byte; the 10 ms absorb scheduler noise.
  EXPECT_LE(large, 32 * small + 10.0) << "64 KiB: " << small << " ms, 1 MiB: " << large << " ms";
}

TEST(RedactionCost, MegabyteErrorBodiesGiveBoundedMessages) {
  const auto body = full_of_secret(1024 * 1024, true);
  const auto e = token_error(text_response(500, "text/html", body), {kSecret});
  EXPECT_LE(std::string(e.what()).size(), 2048u);
  EXPECT_LE(e.body_snippet().size(), 203u);
  EXPECT_TRUE(no_piece_of(kSecret, shown(e)));

  const auto oauth = token_error(
      json_response(400, R"({"error":"invalid_request","error_description":")" + body + R"("})"), {kSecret});
  EXPECT_LE(std::string(oauth.what()).size(), 2048u);
  EXPECT_TRUE(no_piece_of(kSecret, shown(oauth)));
}

// ---- property: generated secrets, generated echoes ---------------------------------------------

TEST(RedactionProperty, NoGeneratedSecretSurvivesAnyEchoForm) {
  std::mt19937 rng(20240601);  // fixed: a failure reproduces
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  const std::vector<std::string> non_ascii{"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91"};
  for (int n = 0; n < 150; ++n) {
    std::string secret;
    const auto len = 8 + rng() % 24;
    while (secret.size() < len) {
      if (rng() % 12 == 0) secret += non_ascii[rng() % non_ascii.size()];
      else secret += alphabet[rng() % alphabet.size()];
    }
    const std::string form = form_encode_component(secret);
    const std::string credential = "client:" + form;
    const std::vector<std::string> echoes{
        secret,
        form,
        percent_encode_all(secret, false),
        percent_encode_all(secret, true),
        json_escaped(secret),
        json_escaped(secret, true),
        json_escaped(form),
        form_encode_component(json_escaped(secret)),
        base64_encode(secret),
        oidc::detail::base64url_encode(secret),
        "Basic " + base64_encode(credential),  // the credential Client reports
    };
    for (std::size_t k = 0; k < echoes.size(); ++k) {
      const std::string body = "{\"error\":\"x\",\"msg\":\"got " + echoes[k] + " from you\"} trailing";
      const std::vector<std::string_view> sent{secret, credential};
      const auto m = masked(body, sent);
      const auto s = redacted_snippet(body, sent, 10000);
      ASSERT_EQ(m.find(echoes[k]), std::string::npos) << "secret " << secret << " echo " << k << ": " << m;
      ASSERT_EQ(m.find(secret), std::string::npos) << "secret " << secret << " echo " << k << ": " << m;
      ASSERT_EQ(s.find(oidc::detail::printable(secret)), std::string::npos) << "secret " << secret << ": " << s;
      ASSERT_EQ(s.find(oidc::detail::printable(echoes[k])), std::string::npos) << "secret " << secret << ": " << s;
      ASSERT_NE(m.find("from you"), std::string::npos) << m;  // and the text around it is kept
    }
  }
}

TEST(RedactionAttacks, SecretCutByTheEndOfTheBodyIsMasked) {
  const std::string secret = "p&ss%w+rd 42";
  // A server (or the size cap) cut the body in the middle of an echo of the secret.
  for (std::size_t keep = 4; keep < secret.size(); ++keep) {
    const std::string body = "got [redacted] and " + secret.substr(0, keep);
    const auto out = redacted_snippet(body, {secret});
    EXPECT_EQ(out.find(secret.substr(0, keep)), std::string::npos) << out;
    EXPECT_NE(out.find("got"), std::string::npos) << out;  // the rest of the text is kept
  }
  // Short tails are not guesses at a secret: "p&s" alone stays.
  EXPECT_NE(redacted_snippet("tail p&s", {secret}).find("p&s"), std::string::npos);
}

TEST(RedactionAttacks, CredentialNameGluedToPrecedingBytesIsStillACredentialName) {
  const auto out = redacted_snippet(std::string("\x01\x1b[2Jaccess_token=Sh0rtTk8&x=1"), {});
  EXPECT_EQ(out.find("Sh0rtTk8"), std::string::npos) << out;
  EXPECT_NE(out.find("x=1"), std::string::npos) << out;
}
