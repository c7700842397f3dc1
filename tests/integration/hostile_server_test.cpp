// Hostile authorization servers through the whole stack: a real oidc::Client over the libcurl
// transport against MisbehavingServer (raw bytes on a loopback socket), one TEST per class of
// hostile answer. Each asserts the documented typed result, and that the Error keeps the two
// message invariants of tests/support/message_hygiene.hpp: no raw control character and no
// credential (what was sent, read back from the server's record, and the tokens the body held).
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "message_hygiene.hpp"
#include "misbehaving_server.hpp"
#include "oidc/authorized_transport.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/validate.hpp"

using namespace std::chrono_literals;
using namespace std::string_literals;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Token;
using oidc_testing::error_of;
using oidc_testing::FakeClock;
using oidc_testing::is_clean;
using oidc_testing::is_clean_text;
using oidc_testing::MisbehavingServer;
using Response = MisbehavingServer::Response;

namespace {

constexpr const char* kClientId = "hostile-client";
// Characters each encoding changes (quote and backslash for JSON, & % + space for forms), so an
// echo in any of them is a different string the redactor must still find.
const std::string kSecret = "s3cr\"et\\&%+ Val";
const std::string kPassword = "p&ss%w+rd 42";
constexpr const char* kTokenOp = "token request (grant_type=client_credentials)";
constexpr const char* kDeviceOp = "device authorization request";
const std::string kGoodDevice =
    R"("device_code":"DevCode1","user_code":"WDJB-MJHT","verification_uri":"https://idp.example/device")";

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

std::string token_body(const std::string& access_token, const std::string& more = R"("expires_in":300)") {
  return R"({"access_token":)" + json_string(access_token) + R"(,"token_type":"Bearer",)" + more + "}";
}

std::string jwt_with(const std::string& payload) {
  return oidc::detail::base64url_encode(R"({"alg":"none"})") + "." + oidc::detail::base64url_encode(payload) + ".c2ln";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class HostileServer : public ::testing::Test {
 protected:
  ClientConfig config(ClientAuthMethod method = ClientAuthMethod::client_secret_basic,
                      const MisbehavingServer* at = nullptr) const {
    const auto& s = at ? *at : server;
    ClientConfig c;
    c.token_endpoint = s.url("/token");
    c.device_authorization_endpoint = s.url("/device");
    c.client_id = kClientId;
    c.client_secret = kSecret;
    c.auth_method = method;
    c.transport = transport;
    c.clock = clock;
    c.timeout = 10s;
    return c;
  }
  oidc::Client client(ClientAuthMethod method = ClientAuthMethod::client_secret_basic) const {
    return oidc::Client(config(method));
  }

  // The failure of one client-credentials token request answered with `r`.
  oidc::Error token_failure(Response r, ClientAuthMethod method = ClientAuthMethod::client_secret_basic) {
    server.push(std::move(r));
    return error_of([&] { (void)client(method).client_credentials(); });
  }
  oidc::Error device_failure(Response r) {
    server.push(std::move(r));
    return error_of([&] { (void)client().device_authorization(); });
  }

  // Every credential the recorded requests carried, as sent and decoded: the Authorization value,
  // its Base64 and what that decodes to, each sensitive form parameter (wire form and decoded),
  // plus the configured secret and password and `more` (tokens the hostile body held).
  std::vector<std::string> credentials(std::vector<std::string> more = {}) const {
    more.push_back(kSecret);
    more.push_back(kPassword);
    more.push_back(std::string(kClientId) + ":" + kSecret);
    for (const auto& r : server.requests()) {
      if (const auto a = r.header("Authorization")) {
        more.push_back(*a);
        if (a->rfind("Basic ", 0) == 0) {
          more.push_back(a->substr(6));
          if (const auto plain = oidc::detail::base64_decode(a->substr(6))) more.push_back(*plain);
        }
      }
      std::size_t start = 0;
      while (start <= r.body.size()) {
        const auto end = std::min(r.body.find('&', start), r.body.size());
        const auto field = r.body.substr(start, end - start);
        const auto eq = field.find('=');
        const auto name = field.substr(0, eq);
        if (eq != std::string::npos &&
            (name == "password" || name == "client_secret" || name == "refresh_token" || name == "device_code")) {
          more.push_back(field.substr(eq + 1));
          more.push_back(oidc::detail::form_decode_component(field.substr(eq + 1)));
        }
        start = end + 1;
      }
    }
    return more;
  }

  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::shared_ptr<oidc::Transport> transport = oidc::make_curl_transport();
  MisbehavingServer server;
};

}  // namespace

// ---- The checker itself: each invariant has a case it must refuse --------------------------------

TEST_F(HostileServer, CheckerRefusesControlBytesAndCredentials) {
  for (const std::string& bad : {std::string("a\x1b[2J"), std::string("a\x1b]0;t\x07"), std::string("x\r\ny"),
                                 std::string("a\0b", 3), std::string("\x7f"), std::string("\xc2\x9b" "31m"),
                                 std::string("8-bit \x9b" "31m")})
    EXPECT_FALSE(is_clean_text("t", bad, {})) << oidc::detail::printable(bad);
  // Non-ASCII text and escaped controls are fine.
  EXPECT_TRUE(is_clean_text("t", "caf\xc3\xa9 \xe6\x97\xa5 \\x1b[2J \xc2\xa0", {}));

  server.push(MisbehavingServer::json(200, token_body("CtrlTok1")));
  (void)client().client_credentials();
  const auto sent = credentials();
  const auto basic = *server.requests().at(0).header("Authorization");
  for (const std::string& leak : std::vector<std::string>{"... " + kSecret, "s3cr%22et%5C%26%25%2B%20Val", "s3cr%22et%5C%26%25%2B+Val", R"(s3cr\"et\\&%+ Val)",
        basic, basic.substr(6) + " ", "p%26ss%25w%2Brd+42"})
    EXPECT_FALSE(is_clean_text("t", leak, sent)) << leak;

  // And over a whole Error: every field is looked at.
  const auto error_with = [](auto&& edit) {
    oidc::Error::Details d{errc::oauth_error, "op", "", 401, oidc::OAuthError{"invalid_client", "", ""}, ""};
    edit(d);
    return oidc::Error(std::move(d));
  };
  EXPECT_TRUE(is_clean(error_with([](auto&) {}), sent));
  EXPECT_FALSE(is_clean(error_with([](auto& d) { d.oauth->error_description = "\x1b[2J"; }), sent));
  EXPECT_FALSE(is_clean(error_with([](auto& d) { d.oauth->error_uri = "https://x/" + kSecret; }), sent));
  EXPECT_FALSE(is_clean(error_with([](auto& d) { d.body_snippet = "access_token=CtrlTok1"; }), {"CtrlTok1"}));
  EXPECT_FALSE(is_clean(error_with([](auto& d) { d.detail = std::string("a\0", 2); }), sent));
}

// ---- 1. Deep nesting ------------------------------------------------------------------------------

TEST_F(HostileServer, DeepNestingIsRefusedWithoutCrashing) {
  constexpr std::size_t levels = 100000;
  const auto objects = [&](const std::string& head) {
    std::string s = head;
    for (std::size_t i = 0; i < levels; ++i) s += R"({"a":)";
    return s + "1" + std::string(levels + 1, '}');
  };
  const std::string arrays = std::string(levels, '[') + std::string(levels, ']');
  struct Case {
    int status;
    std::string body;
    errc code;
    std::string detail;
  };
  const std::string too_deep = "JSON body: nested deeper than 64 levels";
  const Case cases[] = {
      {200, objects(R"({"access_token":"DeepTok1","a":)"), errc::parse, too_deep},
      {200, R"({"access_token":"DeepTok1","a":)" + arrays + "}", errc::parse, too_deep},
      // A bare array is not parsed at all (only a body starting with '{' is): not an object.
      {200, arrays, errc::parse, "expected a JSON object, got Content-Type application/json"},
      // An error body that is too deep is not believed as an error either (json.hpp/response.hpp).
      {400, objects(R"({"error":"invalid_grant","access_token":"DeepTok1","a":)"), errc::parse, too_deep},
      {400, R"({"error":"invalid_grant","a":)" + arrays + "}", errc::parse, too_deep},
      {400, arrays, errc::http_status, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.status) + " " + c.body.substr(0, 40));
    const auto e = token_failure(MisbehavingServer::json(c.status, c.body));
    EXPECT_EQ(e.code(), c.code) << e.what();
    EXPECT_EQ(e.detail(), c.detail);
    EXPECT_EQ(e.http_status(), c.status);
    EXPECT_FALSE(e.oauth().has_value());
    EXPECT_FALSE(e.body_snippet().empty());
    EXPECT_LE(std::string(e.what()).size(), 2048u);
    EXPECT_TRUE(is_clean(e, credentials({"DeepTok1"})));
  }
}

// ---- 2. Duplicate members -------------------------------------------------------------------------

TEST_F(HostileServer, DuplicateMembersAreRefusedWhicheverTheyAre) {
  const std::vector<std::string> tokens{"DupTokA1", "DupTokB2", "DevCode1", "DevCode2", "FormTok1", "FormTok2"};
  auto e = token_failure(MisbehavingServer::json(
      200, R"({"access_token":"DupTokA1","access_token":"DupTokB2","token_type":"Bearer"})"));
  EXPECT_EQ(e.code(), errc::parse) << e.what();
  EXPECT_EQ(e.detail(), R"(JSON body: duplicate member "access_token")");
  EXPECT_TRUE(is_clean(e, credentials(tokens)));

  // Two errors: neither is believed, so no oauth() (which one a reader "sees" is parser-dependent).
  e = token_failure(MisbehavingServer::json(400, R"({"error":"invalid_grant","error":"access_denied"})"));
  EXPECT_EQ(e.code(), errc::parse) << e.what();
  EXPECT_EQ(e.detail(), R"(JSON body: duplicate member "error")");
  EXPECT_FALSE(e.oauth().has_value());
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_TRUE(is_clean(e, credentials(tokens)));

  // The same rule for a form-encoded body.
  e = token_failure(MisbehavingServer::text(200, "application/x-www-form-urlencoded",
                                            "access_token=FormTok1&token_type=bearer&access_token=FormTok2"));
  EXPECT_EQ(e.code(), errc::parse) << e.what();
  EXPECT_EQ(e.detail(), R"(form body: duplicate parameter "access_token")");
  EXPECT_TRUE(is_clean(e, credentials(tokens)));

  // In the device authorization response.
  for (const std::string& body : std::vector<std::string>{
           R"({"device_code":"DevCode1","device_code":"DevCode2","user_code":"WDJB-MJHT","verification_uri":"https://idp.example/device","expires_in":600})",
        "{" + kGoodDevice + R"(,"expires_in":600,"interval":5,"interval":86400})",
        "{" + kGoodDevice + R"(,"verification_uri":"https://evil.example/","expires_in":600})"}) {
    e = device_failure(MisbehavingServer::json(200, body));
    EXPECT_EQ(e.code(), errc::parse) << e.what();
    EXPECT_EQ(e.operation(), kDeviceOp);
    EXPECT_TRUE(contains(e.detail(), "JSON body: duplicate member")) << e.detail();
    EXPECT_TRUE(is_clean(e, credentials(tokens)));
  }
}

// ---- 3. access_token that would break the Authorization header -----------------------------------

TEST_F(HostileServer, AccessTokenWithHeaderBreakingCharactersIsNeverSent) {
  const auto api_request = [&] {
    oidc::HttpRequest r;
    r.method = "GET";
    r.url = server.url("/api");
    r.timeout = 10s;
    return r;
  };
  for (const std::string& bad : {std::string("abc\r\nX-Injected: 1"), std::string("abc\0X-Injected: 1", 17),
                                 std::string("abc X-Injected"), std::string("abc,X-Injected=1")}) {
    SCOPED_TRACE(oidc::detail::printable(bad));
    const auto before = server.requests().size();
    auto e = token_failure(MisbehavingServer::json(200, token_body(bad)));
    EXPECT_EQ(e.code(), errc::parse) << e.what();
    EXPECT_EQ(e.detail(), "access_token is not an RFC 6750 b64token (letters, digits, -._~+/ then = padding)");
    EXPECT_TRUE(is_clean(e, credentials({bad})));

    // Through a token source and an authorized transport: the resource request is never made.
    server.push(MisbehavingServer::json(200, token_body(bad)));
    const auto api = oidc::make_authorized_transport(client().token_source(oidc::grants::ClientCredentials{}),
                                                     transport);
    e = error_of([&] { (void)api->send(api_request()); });
    EXPECT_EQ(e.code(), errc::parse) << e.what();
    EXPECT_TRUE(is_clean(e, credentials({bad})));
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), before + 2);
    for (const auto& r : requests) {
      EXPECT_EQ(r.target, "/token");
      EXPECT_FALSE(contains(r.raw, "X-Injected")) << oidc::detail::printable(r.raw);
    }
  }
  // Control: a good token does reach the resource server, so the observation above is real.
  server.push(MisbehavingServer::json(200, token_body("GoodTok1")));
  const auto api =
      oidc::make_authorized_transport(client().token_source(oidc::grants::ClientCredentials{}), transport);
  EXPECT_EQ(api->send(api_request()).status, 200);
  const auto last = server.requests().back();
  EXPECT_EQ(last.target, "/api");
  EXPECT_EQ(last.header("Authorization"), "Bearer GoodTok1");
}

// ---- 4. token_type -------------------------------------------------------------------------------

TEST_F(HostileServer, TokenTypeMustBeAStringTypeTheClientAccepts) {
  const std::vector<std::string> tokens{"TypeTok1", "MacTok01"};
  auto e = token_failure(MisbehavingServer::json(200, R"({"access_token":"TypeTok1","token_type":5})"));
  EXPECT_EQ(e.code(), errc::parse) << e.what();
  EXPECT_EQ(e.detail(), "token_type is not a string");
  EXPECT_TRUE(is_clean(e, credentials(tokens)));

  const std::string mac = R"({"access_token":"MacTok01","token_type":"mac","expires_in":300})";
  e = token_failure(MisbehavingServer::json(200, mac));
  EXPECT_EQ(e.code(), errc::unsupported_token_type) << e.what();
  EXPECT_EQ(e.detail(), "token_type is not one of the accepted types (Bearer)");
  EXPECT_TRUE(is_clean(e, credentials(tokens)));

  // Accepted once configured (TokenResponseRules), and presented under its own scheme.
  auto cfg = config();
  cfg.token_response_rules.token_types = {"Bearer", "MAC"};
  server.push(MisbehavingServer::json(200, mac));
  const auto t = oidc::Client(cfg).client_credentials();
  EXPECT_EQ(t.type(), "MAC");
  EXPECT_EQ(t.authorization_header(), "MAC MacTok01");

  // CR LF in the type is refused even when "anything Bearer-like" would be accepted.
  e = token_failure(MisbehavingServer::json(200, R"({"access_token":"TypeTok1","token_type":"Bearer\r\nX-Injected: 1"})"));
  EXPECT_EQ(e.code(), errc::parse) << e.what();
  EXPECT_EQ(e.detail(), "token_type is not an RFC 6749 token type");
  EXPECT_TRUE(is_clean(e, credentials(tokens)));
}

// ---- 5. Lifetimes and a steady caller ---------------------------------------------------------------

namespace {

struct LifetimeCase {
  std::string name;
  std::string body;                          // the token response
  std::optional<std::chrono::seconds> life;  // documented expiry - received_at; nullopt: no expiry
  bool refused = false;                      // errc::parse instead
};

std::vector<LifetimeCase> lifetime_cases(Token::time_point now) {
  const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto jwt_exp = [](const std::string& exp) { return token_body(jwt_with(R"({"exp":)" + exp + "}"), R"("x":0)"); };
  const auto ten_years = oidc::detail::max_lifetime;
  return {
      // 2^64 does not fit uint64: nlohmann reads it as a double, which is clamped like any other.
      {"2^64", token_body("LifeTok1", R"("expires_in":18446744073709551616)"), ten_years},
      // Beyond double: nlohmann refuses the number, so the whole body is invalid JSON.
      {"1e309", token_body("LifeTok1", R"("expires_in":1e309)"), std::nullopt, true},
      {"1e300", token_body("LifeTok1", R"("expires_in":1e300)"), ten_years},
      {"-5", token_body("LifeTok1", R"("expires_in":-5)"), std::nullopt},
      {"0", token_body("LifeTok1", R"("expires_in":0)"), std::nullopt},
      {"3600.9", token_body("LifeTok1", R"("expires_in":3600.9)"), 3600s},
      {"\"3600\"", token_body("LifeTok1", R"("expires_in":"3600")"), 3600s},
      {"\"soon\"", token_body("LifeTok1", R"("expires_in":"soon")"), std::nullopt},
      // JWT exp claims, read only without expires_in.
      {"exp past 2262", jwt_exp("99999999999999"), std::nullopt},
      {"exp 1e300", jwt_exp("1e300"), std::nullopt},
      {"exp float", jwt_exp(std::to_string(unix_now + 1800) + ".75"), 1800s},
      {"exp past", jwt_exp(std::to_string(unix_now - 60)), std::nullopt},
      {"exp now", jwt_exp(std::to_string(unix_now)), std::nullopt},
  };
}

}  // namespace

TEST_F(HostileServer, LifetimesAreRangeCheckedAndCauseNoRequestStorm) {
  for (const auto& c : lifetime_cases(clock->now())) {
    SCOPED_TRACE(c.name);
    server.push(MisbehavingServer::json(200, c.body));
    const auto now = clock->now();
    if (c.refused) {
      const auto e = error_of([&] { (void)client().client_credentials(); });
      EXPECT_EQ(e.code(), errc::parse) << e.what();
      EXPECT_TRUE(contains(e.detail(), "JSON body: a number is out of range")) << e.detail();
      EXPECT_TRUE(is_clean(e, credentials({"LifeTok1"})));
    } else {
      const auto t = client().client_credentials();
      EXPECT_EQ(t.received_at, now);
      EXPECT_EQ(t.expiry.has_value(), c.life.has_value());
      if (t.expiry && c.life) {
        EXPECT_EQ(*t.expiry - now, *c.life);
      }
    }
  }

  // A steady caller: 200 calls 5 s apart (1000 s). With the default options (skew 30 s,
  // refresh_ahead 30 s, default_lifetime 300 s) a token lives at least 240 s in the cache, so at
  // most 1000 / 240 + 2 requests; a refused answer backs off (1 s doubling to 60 s, each wait cut
  // by up to backoff_jitter = 25 %, so 60 s can be 45 s), at most 7 + 1000 / 45. A storm would be
  // one request per call.
  for (const auto& c : lifetime_cases(clock->now())) {
    SCOPED_TRACE(c.name);
    MisbehavingServer steady(MisbehavingServer::json(200, c.body));
    const auto steady_clock = std::make_shared<FakeClock>();
    auto cfg = config(ClientAuthMethod::client_secret_basic, &steady);
    cfg.clock = steady_clock;
    auto source = oidc::Client(cfg).token_source(oidc::grants::ClientCredentials{});
    std::size_t served = 0, failed = 0;
    for (int i = 0; i < 200; ++i) {
      try {
        (void)source->token();
        ++served;
      } catch (const oidc::Error& e) {
        ++failed;
        EXPECT_EQ(e.code(), errc::parse);
      }
      steady_clock->advance(5s);
    }
    source.reset();  // a renewal still in flight is cancelled; none starts after this
    const auto requests = steady.requests().size();
    EXPECT_EQ(c.refused ? failed : served, 200u);
    EXPECT_GE(requests, 1u);
    EXPECT_LE(requests, c.refused ? 7u + 1000 / 45 : 1000u / 240 + 2);
  }
}

// A lifetime at or under the skew (30 s by default) is a valid RFC 6749 answer, but the cache then
// finds each fresh token stale on arrival and renews again inside the same token() call, without
// backoff (only failures back off). The server answers 20 such tokens and then a 3600-s one, so a
// storm ends (no hang: against a server that always answers so, token() never returns) and shows
// as the number of requests ONE token() call made.
TEST_F(HostileServer, ShortLifetimeCausesNoRequestStormInOneCall) {
  for (const char* expires_in : {"1", "30"}) {
    SCOPED_TRACE(std::string("expires_in ") + expires_in);
    MisbehavingServer storm(MisbehavingServer::json(200, token_body("LongTok1", R"("expires_in":3600)")));
    for (int i = 0; i < 20; ++i)
      storm.push(MisbehavingServer::json(200, token_body("ShortTk1", std::string(R"("expires_in":)") + expires_in)));
    auto cfg = config(ClientAuthMethod::client_secret_basic, &storm);
    auto source = oidc::Client(cfg).token_source(oidc::grants::ClientCredentials{});
    try {
      (void)source->token();
    } catch (const oidc::Error& e) {  // refusing a too-short token would be a fine answer too
      EXPECT_TRUE(is_clean(e, credentials({"ShortTk1"})));
    }
    source.reset();
    EXPECT_LE(storm.requests().size(), 2u) << "one token() call made " << storm.requests().size()
                                           << " token requests";
  }
}

// ---- 6. Escape sequences and URIs ------------------------------------------------------------------

TEST_F(HostileServer, EscapeSequencesInErrorTextAreEscaped) {
  struct Case {
    std::string description_json;  // as it appears in the body (JSON-escaped)
    std::string escaped;           // what error_description must then contain
  };
  const Case cases[] = {
      {R"("\u001b]0;pwned title\u0007 rest")", "\\x1b]0;pwned title\\x07 rest"},
      {R"("\u001b[2J\u001b[31mred")", "\\x1b[2J\\x1b[31mred"},
      {R"("line1\r\nX-Injected: 1")", "line1\\x0d\\x0aX-Injected: 1"},
      {R"("a\u0000b")", "a\\x00b"},
      {R"("c1 \u009b31m csi")", "c1 \\xc2\\x9b31m csi"},
      {"\"raw c1 \xc2\x9b" "31m\"", "raw c1 \\xc2\\x9b31m"},
      {R"("del \u007f")", "del \\x7f"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description_json);
    const auto e = token_failure(
        MisbehavingServer::json(400, R"({"error":"invalid_request","error_description":)" + c.description_json + "}"));
    EXPECT_EQ(e.code(), errc::oauth_error) << e.what();
    EXPECT_EQ(e.oauth_code(), "invalid_request");
    EXPECT_TRUE(contains(e.oauth()->error_description, c.escaped)) << e.oauth()->error_description;
    EXPECT_TRUE(is_clean(e, credentials()));
  }
  // Raw control bytes inside a JSON string make the body invalid JSON: the excerpt is escaped.
  const auto e = token_failure(MisbehavingServer::json(
      400, "{\"error\":\"invalid_request\",\"error_description\":\"\x1b]0;t\x07\x1b[2J\r\n\x9b\"}"));
  EXPECT_EQ(e.code(), errc::http_status) << e.what();
  EXPECT_FALSE(e.body_snippet().empty());
  EXPECT_TRUE(is_clean(e, credentials()));
}

TEST_F(HostileServer, DeviceCodesAndUrisThatCouldAttackATerminalAreRefused) {
  const auto device = [](const std::string& user_code, const std::string& uri, const std::string& more = "") {
    return R"({"device_code":"DevCode1","user_code":)" + user_code + R"(,"verification_uri":)" + uri +
           R"(,"expires_in":600)" + more + "}";
  };
  struct Case {
    std::string body, detail;
  };
  const std::string https = R"("https://idp.example/device")";
  const Case cases[] = {
      {device(R"("WDJB\u001b[2JMJHT")", https), "user_code is not printable UTF-8 of at most 64 bytes"},
      {device(R"("WDJB\u009bMJHT")", https), "user_code is not printable UTF-8 of at most 64 bytes"},
      {device(R"("WDJB\r\nMJHT")", https), "user_code is not printable UTF-8 of at most 64 bytes"},
      {device(R"("WDJB-MJHT")", R"x("javascript:alert(1)")x"), "verification_uri is not an absolute https URI"},
      {device(R"("WDJB-MJHT")", R"("http://idp.example/device")"), "verification_uri is http:// to a non-loopback host"},
      {device(R"("WDJB-MJHT")", R"("https://idp.example/\u001b[2J")"),
       "verification_uri contains a control character, space or non-ASCII byte"},
      {device(R"("WDJB-MJHT")", https, R"x(,"verification_uri_complete":"javascript:alert(1)")x"),
       "verification_uri_complete is not an absolute https URI"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    const auto e = device_failure(MisbehavingServer::json(200, c.body));
    EXPECT_EQ(e.code(), errc::parse) << e.what();
    EXPECT_EQ(e.operation(), kDeviceOp);
    EXPECT_TRUE(contains(e.detail(), c.detail)) << e.detail();
    EXPECT_TRUE(is_clean(e, credentials({"DevCode1"})));
  }
  // Control: the same response with clean values is taken (http:// is fine to loopback).
  server.push(MisbehavingServer::json(200, device(R"("WDJB-MJHT")", R"("http://127.0.0.1/device")")));
  EXPECT_EQ(client().device_authorization().verification_uri, "http://127.0.0.1/device");
}

TEST_F(HostileServer, PushedRequestUrisThatCouldBreakTheBrowsersUrlAreRefused) {
  // RFC 9126 §2.2: the request_uri goes into the URL the user's browser opens.
  ClientConfig c = config();
  c.authorization_endpoint = "https://idp.example/authorize";
  c.pushed_authorization_request_endpoint = server.url("/par");
  const oidc::Client par_client(c);
  oidc::AuthorizationOptions options;
  options.redirect_uri = "http://127.0.0.1:8400/callback";
  struct Case {
    std::string body, detail;
  };
  const std::string unprintable = "request_uri has spaces, control or non-ASCII characters";
  const Case cases[] = {
      {R"({"request_uri":"urn:x\r\nLocation: https://evil.example","expires_in":60})", unprintable},
      {R"({"request_uri":"urn:x\u001b[2J","expires_in":60})", unprintable},
      {R"({"request_uri":"urn:x\u00e9","expires_in":60})", unprintable},
      {R"({"request_uri":"urn:x y","expires_in":60})", unprintable},
      {R"({"request_uri":"no-scheme","expires_in":60})", "request_uri is not a URI"},
      {R"({"request_uri":"urn:x","expires_in":0})", "response has no positive expires_in"},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.body);
    server.push(MisbehavingServer::json(201, k.body));
    const auto e = error_of([&] { (void)par_client.authorization_request(options); });
    EXPECT_EQ(e.code(), errc::parse) << e.what();
    EXPECT_EQ(e.operation(), "pushed authorization request");
    EXPECT_TRUE(contains(e.detail(), k.detail)) << e.detail();
    EXPECT_TRUE(is_clean(e, credentials()));
  }
  // Control: a clean request_uri is taken, and the URL carries only it and the client id.
  server.push(MisbehavingServer::json(201, R"({"request_uri":"urn:ietf:params:oauth:request_uri:Ab1","expires_in":60})"));
  const auto request = par_client.authorization_request(options);
  EXPECT_TRUE(request.pushed());
  EXPECT_EQ(request.url(), "https://idp.example/authorize?client_id=" + std::string(kClientId) +
                               "&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3AAb1");
}

TEST_F(HostileServer, UnacceptableErrorUriIsDroppedAndTheErrorKept) {
  for (const char* uri : {"javascript:alert(1)", "http://evil.example/x", "https://idp.example/\\u001b[2J"}) {
    SCOPED_TRACE(uri);
    const auto e = token_failure(MisbehavingServer::json(
        400, std::string(R"({"error":"invalid_scope","error_description":"nope","error_uri":")") + uri + "\"}"));
    EXPECT_EQ(e.code(), errc::oauth_error) << e.what();
    EXPECT_EQ(e.oauth_code(), "invalid_scope");
    EXPECT_EQ(e.oauth()->error_description, "nope");
    EXPECT_EQ(e.oauth()->error_uri, "");
    EXPECT_FALSE(contains(e.what(), "javascript")) << e.what();
    EXPECT_TRUE(is_clean(e, credentials()));
  }
  // Control: an https error_uri is kept.
  const auto e = token_failure(MisbehavingServer::json(
      400, R"({"error":"invalid_scope","error_uri":"https://idp.example/errors/scope"})"));
  EXPECT_EQ(e.oauth()->error_uri, "https://idp.example/errors/scope");
}

// ---- 7. Echoed credentials ------------------------------------------------------------------------

TEST_F(HostileServer, EchoedCredentialsAreMaskedInEveryForm) {
  const auto password_grant = [&](ClientAuthMethod method) {
    return error_of([&] { (void)client(method).password("alice", kPassword); });
  };
  for (const auto method : {ClientAuthMethod::client_secret_basic, ClientAuthMethod::client_secret_post}) {
    SCOPED_TRACE(method == ClientAuthMethod::client_secret_basic ? "basic" : "post");
    // First see what the client actually sends, then echo exactly that back.
    server.push(MisbehavingServer::json(401, R"({"error":"invalid_client"})"));
    (void)password_grant(method);
    const auto seen = server.requests().back();
    std::vector<std::string> echoes{seen.body, oidc::detail::form_decode_component(seen.body),
                                    "secret=" + oidc_testing::echo_forms(kSecret)[1],  // percent-encoded, %20
                                    "secret=" + oidc_testing::echo_forms(kSecret)[2],  // form-encoded, '+'
                                    "got " + kSecret + " and " + kPassword};
    if (const auto authorization = seen.header("Authorization")) {
      const auto b64 = authorization->substr(6);
      echoes.push_back("Authorization: " + *authorization);
      echoes.push_back("credential " + b64 + " is wrong");
      echoes.push_back("user " + *oidc::detail::base64_decode(b64));  // id:secret, each form-encoded
      echoes.push_back(std::string(kClientId) + ":" + kSecret);       // and fully decoded
    } else {
      EXPECT_TRUE(contains(seen.body, "client_secret=")) << seen.body;
    }
    for (const auto& echo : echoes) {
      SCOPED_TRACE(oidc::detail::printable(echo.substr(0, 30)));
      // In error_description (the JSON string escapes what it must), ...
      server.push(MisbehavingServer::json(401, R"({"error":"invalid_client","error_description":)" +
                                                   json_string(echo) + "}"));
      auto e = password_grant(method);
      EXPECT_EQ(server.requests().back().raw, seen.raw);  // the echo is of this very request
      EXPECT_EQ(e.code(), errc::oauth_error) << e.what();
      EXPECT_EQ(e.http_status(), 401);
      EXPECT_EQ(e.oauth_code(), "invalid_client");
      EXPECT_TRUE(is_clean(e, credentials()));
      // ... every character \u-escaped, ...
      std::string all_escaped;
      for (unsigned char ch : echo) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", ch < 0x80 ? ch : 0xFFFD);
        all_escaped += buf;
      }
      server.push(MisbehavingServer::json(
          401, R"({"error":"invalid_client","error_description":")" + all_escaped + "\"}"));
      e = password_grant(method);
      EXPECT_EQ(e.oauth_code(), "invalid_client");
      EXPECT_TRUE(is_clean(e, credentials()));
      // ... and in bodies that are no JSON at all: JSON text cut short, plain text, a form.
      for (const auto& r : {MisbehavingServer::json(401, R"({"error":"invalid_client","error_description":)" +
                                                             json_string(echo).substr(0, echo.size())),
                            MisbehavingServer::text(401, "text/plain", "denied: " + echo + "\n"),
                            MisbehavingServer::text(401, "application/x-www-form-urlencoded",
                                                    "error=invalid_client&error_description=" + echo)}) {
        server.push(r);
        e = password_grant(method);
        EXPECT_TRUE(is_clean(e, credentials())) << static_cast<int>(e.code());
      }
    }
  }
}

TEST_F(HostileServer, EchoedRefreshTokenIsMasked) {
  Token old;
  old.access_token = "OldAcc01";
  old.refresh_token = "RefTok12";
  server.push(MisbehavingServer::json(400, R"({"error":"invalid_grant"})"));
  (void)error_of([&] { (void)client().refresh(old); });
  const auto body = server.requests().back().body;
  ASSERT_TRUE(contains(body, "refresh_token=RefTok12")) << body;
  for (const auto& r : {MisbehavingServer::json(400, R"({"error":"invalid_grant","error_description":)" +
                                                        json_string("you sent " + body) + "}"),
                        MisbehavingServer::text(400, "text/html", "<p>bad token RefTok12</p>")}) {
    server.push(r);
    const auto e = error_of([&] { (void)client().refresh(old); });
    EXPECT_EQ(e.http_status(), 400);
    EXPECT_TRUE(is_clean(e, credentials({"RefTok12"}))) << static_cast<int>(e.code());
  }
}

// ---- 8. Unparseable bodies holding short tokens ---------------------------------------------------

TEST_F(HostileServer, UnparseableBodiesDoNotLeakShortTokens) {
  // 8 characters: under the 20-character run the redactor masks anonymously, so only the scan for
  // credential members (and sent secrets) can find them.
  const std::vector<std::string> tokens{"Sh0rtTk8", "Sh0rtRf8"};
  struct Case {
    std::string name, content_type, body;
  };
  const Case cases[] = {
      {"truncated", "application/json", R"({"access_token":"Sh0rtTk8","refresh_token":"Sh0rtRf8","token_type":"Bea)"},
      {"cut in value", "application/json", R"({"token_type":"Bearer","refresh_token":"Sh0rtRf8","access_token":"Sh0rt)"
                                            "Tk8"},
      {"comments", "application/json",
       "{/* issued */\"access_token\":\"Sh0rtTk8\", // rotate\n\"refresh_token\":\"Sh0rtRf8\"}"},
      {"trailing garbage", "application/json", R"({"access_token":"Sh0rtTk8","refresh_token":"Sh0rtRf8"} trailing)"},
      {"invalid UTF-8", "application/json",
       "{\"access_token\":\"Sh0rtTk8\",\"note\":\"\xff\xfe\xc2\",\"refresh_token\":\"Sh0rtRf8\"}"},
      {"binary", "application/octet-stream",
       "\x00\x01\x1b[2J\x02" "access_token=Sh0rtTk8\x00\xff&refresh_token=Sh0rtRf8\x9b\x07"s},
      {"html", "text/html",
       "<html><body><h1>Error</h1><pre>{\"access_token\": \"Sh0rtTk8\", \"refresh_token\": \"Sh0rtRf8\"}</pre>"
       "<a href=\"/cb#access_token=Sh0rtTk8&amp;refresh_token=Sh0rtRf8\">back</a></body></html>"},
      {"html script", "text/html", "<script>var t = {'access_token': 'Sh0rtTk8', 'refresh_token': 'Sh0rtRf8'};</script>"},
  };
  for (const auto& c : cases) {
    for (const int status : {200, 500}) {
      SCOPED_TRACE(c.name + " " + std::to_string(status));
      const auto e = token_failure(MisbehavingServer::text(status, c.content_type, c.body));
      EXPECT_EQ(e.code(), status == 200 ? errc::parse : errc::http_status) << e.what();
      EXPECT_EQ(e.http_status(), status);
      EXPECT_FALSE(e.body_snippet().empty());
      EXPECT_TRUE(is_clean(e, credentials(tokens)));
    }
  }
}

// ---- 9. Broken framing, seen through the Client ---------------------------------------------------

TEST_F(HostileServer, BrokenFramingIsProtocolNamingTheTokenRequest) {
  const std::string body = token_body("FrmTok01");
  const Response cases[] = {
      MisbehavingServer::json(200, body, {{"Content-Encoding", "gzip"}}),
      MisbehavingServer::raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body),
      MisbehavingServer::raw("HTTP/1.1 200 OK\r\nContent-Type: applica"),
      MisbehavingServer::json(200, body).cut(40),
  };
  for (const auto& r : cases) {
    SCOPED_TRACE(oidc::detail::printable(r.bytes.substr(0, 60)));
    const auto e = token_failure(r);
    EXPECT_EQ(e.code(), errc::protocol) << e.what();
    EXPECT_EQ(e.operation(), kTokenOp);
    EXPECT_EQ(e.http_status(), 0);
    EXPECT_TRUE(is_clean(e, credentials({"FrmTok01"})));
  }
}

// ---- 10. Device flow timing ------------------------------------------------------------------------

TEST_F(HostileServer, DeviceIntervalOfADayStillPollsBeforeExpiry) {
  MisbehavingServer device(MisbehavingServer::json(400, R"({"error":"authorization_pending"})"));
  device.push(MisbehavingServer::json(200, "{" + kGoodDevice + R"(,"expires_in":600,"interval":86400})"));
  const auto c = oidc::Client(config(ClientAuthMethod::client_secret_basic, &device));
  const auto a = c.device_authorization();
  EXPECT_EQ(a.interval, 60s);  // clamped (validate.hpp)
  std::vector<std::chrono::seconds> remaining;
  oidc::DevicePollOptions options;
  options.on_pending = [&](const oidc::DevicePollProgress& p) { remaining.push_back(p.remaining); };
  const auto e = error_of([&] { (void)c.poll_device_token(a, options); });
  EXPECT_EQ(e.code(), errc::deadline_exceeded) << e.what();
  EXPECT_EQ(e.detail(), "the device code expired before a token was issued");
  // 60-s polls within a 600-s code: at 60, 120, ... 540 s. Unclamped, the first wait would have
  // run to the expiry and no poll would ever have happened.
  EXPECT_EQ(device.requests().size(), 1u + 9);
  for (const auto& s : clock->sleeps()) EXPECT_LE(s, 60s);
  ASSERT_EQ(remaining.size(), 9u);
  for (const auto& r : remaining) EXPECT_GT(r, 0s);
  EXPECT_TRUE(is_clean(e, credentials({"DevCode1"})));
}

TEST_F(HostileServer, DeviceIntervalZeroPollsOncePerSecondNotInALoop) {
  server.push(MisbehavingServer::json(200, "{" + kGoodDevice + R"(,"expires_in":600,"interval":0})"));
  for (int i = 0; i < 3; ++i) server.push(MisbehavingServer::json(400, R"({"error":"authorization_pending"})"));
  server.push(MisbehavingServer::json(200, token_body("DevTok01")));
  const auto a = client().device_authorization();
  EXPECT_EQ(a.interval, 1s);
  const auto t = client().poll_device_token(a);
  EXPECT_EQ(t.access_token.expose(), "DevTok01");
  const std::vector<FakeClock::duration> one_second_each(4, 1s);
  EXPECT_EQ(clock->sleeps(), one_second_each);
  EXPECT_EQ(server.requests().size(), 1u + 4);
}

TEST_F(HostileServer, DeviceExpiresInHugeIsClampedNotOverflowed) {
  for (const char* expires_in : {"1e300", "18446744073709551616", "9223372036854775807", "\"99999999999999999999\""}) {
    SCOPED_TRACE(expires_in);
    server.push(MisbehavingServer::json(200, "{" + kGoodDevice + R"(,"expires_in":)" + expires_in + "}"));
    server.push(MisbehavingServer::json(400, R"({"error":"authorization_pending"})"));
    server.push(MisbehavingServer::json(200, token_body("DevTok01")));
    const auto now = clock->now();
    const auto a = client().device_authorization();
    EXPECT_EQ(a.expires_in, oidc::detail::max_lifetime);
    EXPECT_EQ(a.expires_at, now + oidc::detail::max_lifetime);
    EXPECT_GT(a.expires_at, now);
    EXPECT_EQ(a.interval, 5s);  // absent: the RFC 8628 default
    EXPECT_EQ(client().poll_device_token(a).access_token.expose(), "DevTok01");
  }
}
