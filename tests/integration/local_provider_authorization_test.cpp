// Self-test of the embedded provider's authorization endpoint, PAR endpoint, metadata and
// authorization_code grant, talking to it with httplib::Client only (no oidc library: a provider
// bug must not hide behind a matching client bug). The test is the browser: it GETs the request
// URL and reads the 302's Location without following it.
#include "local_provider.hpp"
#include "redirect_browser.hpp"
#include "seed_documents.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

namespace {

using oidc_testing::FormFields;
using oidc_testing::LocalProvider;
using nlohmann::ordered_json;
namespace detail = oidc_testing::local_provider_detail;

constexpr const char* kForm = "application/x-www-form-urlencoded";
// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

std::string str(std::string_view s) { return std::string(s); }

std::string form(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += detail::url_encode(name) + "=" + detail::url_encode(value);
  }
  return out;
}

// The parameters of a Location's query ('?') or fragment ('#'), in order.
FormFields parameters(const std::string& location, char where) {
  auto at = location.find(where);
  FormFields out;
  std::string error;
  EXPECT_NE(at, std::string::npos) << location;
  if (at == std::string::npos) return out;
  auto end = where == '?' ? location.find('#', at) : std::string::npos;
  EXPECT_TRUE(detail::parse_form(location.substr(at + 1, end == std::string::npos ? end : end - at - 1), out, error))
      << error;
  return out;
}

std::vector<std::string> names(const FormFields& fields) {
  std::vector<std::string> out;
  for (const auto& field : fields) out.push_back(field.first);
  return out;
}

std::string value(const FormFields& fields, std::string_view name) {
  const auto* v = detail::find_field(fields, name);
  return v ? *v : "<absent>";
}

ordered_json jwt_payload(const std::string& token) {
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  std::string b64(token.substr(first + 1, second - first - 1));
  for (auto& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64 += '=';
  return ordered_json::parse(*detail::base64_decode(b64));
}

// What the browser got back, shaped like httplib's response for the checks below.
struct Page : oidc_testing::BrowserResponse {
  std::string get_header_value(std::string_view name) const { return name == "Location" ? location : ""; }
  bool has_header(std::string_view name) const { return name == "Location" && !location.empty(); }
};

struct Browser {
  explicit Browser(const LocalProvider& provider) : base(provider.base_url()) {}
  std::optional<Page> get(const std::string& path, const FormFields& query) {
    return Page{oidc_testing::browser_get(base + path + "?" + form(query))};
  }
  std::string base;
};

FormFields code_request(std::string client_id, std::string redirect_uri) {
  return {{"response_type", "code"},   {"client_id", std::move(client_id)}, {"redirect_uri", std::move(redirect_uri)},
          {"scope", "openid profile"}, {"state", "st-1"},                   {"nonce", "n-0S6_WzA2Mj"},
          {"code_challenge", kChallenge}, {"code_challenge_method", "S256"}};
}

class LocalProviderAuthorization : public ::testing::Test {
 protected:
  LocalProvider provider;
  Browser browser{provider};
  httplib::Client api{provider.base_url()};
  const std::string redirect = str(LocalProvider::kLoopbackRedirectUri);

  // GETs a code request for web-app and returns the code.
  std::string authorize(FormFields query) {
    auto res = browser.get(LocalProvider::authorization_path(), query);
    EXPECT_EQ(res->status, 302) << res->body;
    return value(parameters(res->get_header_value("Location"), '?'), "code");
  }
  httplib::Result redeem(const FormFields& fields, const httplib::Headers& headers = {}) {
    return api.Post(LocalProvider::token_path().c_str(), headers, form(fields), kForm);
  }
  FormFields exchange(const std::string& code, std::string verifier = kVerifier) {
    return {{"grant_type", "authorization_code"}, {"code", code},         {"redirect_uri", redirect},
            {"client_id", "web-app"},             {"code_verifier", std::move(verifier)}};
  }
  void expect_oauth_error(const httplib::Result& res, const std::string& error) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(ordered_json::parse(res->body)["error"], error) << res->body;
  }
};

}  // namespace

TEST(LocalProviderSha256, MatchesFips180AndRfc7636Vectors) {
  auto hex = [](const std::array<std::uint8_t, 32>& d) {
    std::string out;
    for (auto b : d) {
      out += "0123456789abcdef"[b >> 4];
      out += "0123456789abcdef"[b & 15];
    }
    return out;
  };
  EXPECT_EQ(hex(detail::sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(detail::sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(detail::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");  // two blocks
  auto d = detail::sha256(kVerifier);
  EXPECT_EQ(detail::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()), true), kChallenge);
}

TEST_F(LocalProviderAuthorization, CodeFlowWithS256AndNonce) {
  auto res = browser.get(LocalProvider::authorization_path(), code_request("web-app", "http://127.0.0.1:50123/callback"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302) << res->body;
  const auto location = res->get_header_value("Location");
  ASSERT_EQ(location.rfind("http://127.0.0.1:50123/callback?", 0), 0u) << location;  // RFC 8252 §7.3: any port
  const auto params = parameters(location, '?');
  EXPECT_EQ(names(params), (std::vector<std::string>{"state", "session_state", "iss", "code"}));  // Keycloak's order
  EXPECT_EQ(value(params, "state"), "st-1");
  EXPECT_EQ(value(params, "iss"), provider.issuer());
  const auto code = value(params, "code");
  const auto stored = provider.authorization_code(code);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->code_challenge, kChallenge);
  EXPECT_EQ(stored->code_challenge_method, "S256");
  EXPECT_EQ(stored->nonce, "n-0S6_WzA2Mj");
  EXPECT_EQ(stored->subject, "alice");
  EXPECT_EQ(stored->session_state, value(params, "session_state"));

  auto fields = exchange(code);
  fields[2].second = "http://127.0.0.1:50123/callback";
  auto token = redeem(fields);
  ASSERT_EQ(token->status, 200) << token->body;
  const auto body = ordered_json::parse(token->body);
  EXPECT_EQ(jwt_payload(body["id_token"])["nonce"], "n-0S6_WzA2Mj");
  EXPECT_EQ(body["session_state"], value(params, "session_state"));
  EXPECT_TRUE(body.contains("refresh_token"));
  EXPECT_TRUE(provider.authorization_code(code)->redeemed);

  // The refresh token works, once.
  auto refreshed = redeem({{"grant_type", "refresh_token"}, {"refresh_token", body["refresh_token"]}, {"client_id", "web-app"}});
  EXPECT_EQ(refreshed->status, 200) << refreshed->body;
  EXPECT_TRUE(provider.rejections().empty());
}

TEST_F(LocalProviderAuthorization, CodesAreSingleUseAndAReplayRevokesTheirRefreshTokens) {
  const auto code = authorize(code_request("web-app", redirect));
  auto first = redeem(exchange(code));
  ASSERT_EQ(first->status, 200) << first->body;
  const std::string refresh_token = ordered_json::parse(first->body)["refresh_token"];
  expect_oauth_error(redeem(exchange(code)), "invalid_grant");
  expect_oauth_error(redeem({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}, {"client_id", "web-app"}}),
                     "invalid_grant");
  expect_oauth_error(redeem(exchange("no-such-code")), "invalid_grant");
  EXPECT_TRUE(provider.rejections().empty()) << "protocol outcomes, not malformed requests";
}

TEST_F(LocalProviderAuthorization, VerifierRedirectUriClientAndExpiryAreChecked) {
  // A wrong verifier of the right shape, and the code is spent.
  auto code = authorize(code_request("web-app", redirect));
  expect_oauth_error(redeem(exchange(code, std::string(43, 'A'))), "invalid_grant");
  expect_oauth_error(redeem(exchange(code)), "invalid_grant");

  code = authorize(code_request("web-app", redirect));
  auto fields = exchange(code);
  fields[2].second = "http://127.0.0.1/other";
  expect_oauth_error(redeem(fields), "invalid_grant");

  // Another client cannot use (nor burn) the code.
  code = authorize(code_request("web-app", redirect));
  auto other = exchange(code);
  other[3] = {"client_id", "portal"};
  other.emplace_back("client_secret", "portal-secret");
  expect_oauth_error(redeem(other), "invalid_grant");
  EXPECT_EQ(redeem(exchange(code))->status, 200);

  provider.set_authorization_code_lifetime(60);
  code = authorize(code_request("web-app", redirect));
  provider.advance_clock(std::chrono::seconds(61));
  expect_oauth_error(redeem(exchange(code)), "invalid_grant");
  EXPECT_TRUE(provider.rejections().empty());

  // Without the verifier the request is malformed (the challenge was sent): a rejection.
  code = authorize(code_request("web-app", redirect));
  auto no_verifier = exchange(code);
  no_verifier.pop_back();
  expect_oauth_error(redeem(no_verifier), "invalid_grant");
  ASSERT_EQ(provider.rejections().size(), 1u);
  EXPECT_EQ(provider.rejections()[0].reason, "PKCE code verifier not specified");
}

TEST_F(LocalProviderAuthorization, PlainPkceAndPkceDowngrade) {
  auto query = code_request("portal", redirect);
  query[6].second = kVerifier;
  query[7].second = "plain";
  auto code = authorize(query);
  const httplib::Headers basic{{"Authorization", "Basic " + detail::base64_encode("portal:portal-secret", false)}};
  FormFields fields{{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect}, {"code_verifier", kVerifier}};
  EXPECT_EQ(redeem(fields, basic)->status, 200);

  // RFC 9700 §2.1.1: a verifier for a code requested without a challenge is refused.
  query.resize(6);
  code = authorize(query);
  fields[1].second = code;
  expect_oauth_error(redeem(fields, basic), "invalid_grant");
  ASSERT_EQ(provider.rejections().size(), 1u);
}

TEST_F(LocalProviderAuthorization, ResourcesInTheExchangeMustHaveBeenAuthorized) {
  auto query = code_request("web-app", redirect);
  query.emplace_back("resource", "https://api.example.com");
  query.emplace_back("resource", "https://files.example.com");
  auto code = authorize(query);
  EXPECT_EQ(provider.authorization_code(code)->resources.size(), 2u);
  auto fields = exchange(code);
  fields.emplace_back("resource", "https://api.example.com");
  auto res = redeem(fields);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(jwt_payload(ordered_json::parse(res->body)["access_token"])["aud"],
            ordered_json::array({"https://api.example.com"}));

  code = authorize(query);
  fields = exchange(code);
  fields.emplace_back("resource", "https://elsewhere.example.com");
  expect_oauth_error(redeem(fields), "invalid_target");
}

TEST_F(LocalProviderAuthorization, UntrustedRedirectsGetAnErrorPageOthersARedirect) {
  for (const auto& bad : {std::string("http://127.0.0.1:8080/other"), std::string("https://127.0.0.1/callback"),
                          std::string("http://127.0.0.1:8080x/callback"), std::string("")}) {
    auto res = browser.get(LocalProvider::authorization_path(), code_request("web-app", bad));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << bad;
    EXPECT_FALSE(res->has_header("Location")) << bad;
  }
  auto unknown = browser.get(LocalProvider::authorization_path(), code_request("nobody", redirect));
  EXPECT_EQ(unknown->status, 400);
  auto dup = code_request("web-app", redirect);
  dup.emplace_back("redirect_uri", "http://evil.example/cb");
  EXPECT_EQ(browser.get(LocalProvider::authorization_path(), dup)->status, 400);
  EXPECT_EQ(provider.rejections().size(), 6u);
  provider.clear_requests();

  // Known client and redirect: errors go back to the client, with the state.
  auto no_pkce = code_request("web-app", redirect);
  no_pkce.resize(6);
  auto res = browser.get(LocalProvider::authorization_path(), no_pkce);
  ASSERT_EQ(res->status, 302);
  const auto params = parameters(res->get_header_value("Location"), '?');
  EXPECT_EQ(names(params), (std::vector<std::string>{"error", "error_description", "state", "iss"}));
  EXPECT_EQ(value(params, "error"), "invalid_request");
  EXPECT_EQ(value(params, "state"), "st-1");
  ASSERT_EQ(provider.rejections().size(), 1u) << "web-app requires PKCE";

  auto no_state = code_request("web-app", redirect);
  no_state.erase(no_state.begin() + 4);
  res = browser.get(LocalProvider::authorization_path(), no_state);
  EXPECT_EQ(value(parameters(res->get_header_value("Location"), '?'), "error"), "invalid_request");
  auto bad_type = code_request("web-app", redirect);
  bad_type[0].second = "code id_token";
  res = browser.get(LocalProvider::authorization_path(), bad_type);
  EXPECT_EQ(value(parameters(res->get_header_value("Location"), '?'), "error"), "unsupported_response_type");
  auto implicit = code_request("web-app", redirect);
  implicit[0].second = "token";
  implicit.resize(6);
  res = browser.get(LocalProvider::authorization_path(), implicit);
  EXPECT_EQ(value(parameters(res->get_header_value("Location"), '#'), "error"), "unauthorized_client");
}

TEST_F(LocalProviderAuthorization, TheUserCanDeny) {
  provider.set_authorization_denied(true, "Alice said no");
  auto res = browser.get(LocalProvider::authorization_path(), code_request("web-app", redirect));
  ASSERT_EQ(res->status, 302);
  const auto params = parameters(res->get_header_value("Location"), '?');
  EXPECT_EQ(value(params, "error"), "access_denied");
  EXPECT_EQ(value(params, "error_description"), "Alice said no");
  EXPECT_EQ(value(params, "state"), "st-1");
  EXPECT_EQ(value(params, "iss"), provider.issuer());
  EXPECT_TRUE(provider.rejections().empty()) << "a refusal is not a malformed request";
}

TEST_F(LocalProviderAuthorization, ImplicitAnswersInTheFragmentWithoutRefreshToken) {
  FormFields query{{"response_type", "token"}, {"client_id", "portal"}, {"redirect_uri", str(LocalProvider::kPortalRedirectUri)},
                   {"scope", "profile"}, {"state", "st-2"}};
  auto res = browser.get(LocalProvider::authorization_path(), query);
  ASSERT_EQ(res->status, 302) << res->body;
  const auto location = res->get_header_value("Location");
  ASSERT_EQ(location.rfind(str(LocalProvider::kPortalRedirectUri) + "#", 0), 0u) << location;
  const auto params = parameters(location, '#');
  EXPECT_EQ(names(params),
            (std::vector<std::string>{"state", "session_state", "iss", "access_token", "token_type", "expires_in"}));
  EXPECT_EQ(value(params, "expires_in"), "300");
  EXPECT_EQ(value(params, "token_type"), "Bearer");
  EXPECT_EQ(jwt_payload(value(params, "access_token"))["scope"], "profile");
}

TEST_F(LocalProviderAuthorization, IssCanBeSwitchedAndTheMetadataFollowsOrLies) {
  auto metadata = [&](const std::string& path) { return ordered_json::parse(api.Get(path.c_str())->body); };
  auto md = metadata(LocalProvider::discovery_path());
  EXPECT_EQ(md["issuer"], provider.issuer());
  EXPECT_EQ(md["authorization_endpoint"], provider.authorization_endpoint());
  EXPECT_EQ(md["token_endpoint"], provider.token_endpoint());
  EXPECT_EQ(md["pushed_authorization_request_endpoint"], provider.par_endpoint());
  EXPECT_EQ(md["authorization_response_iss_parameter_supported"], true);
  auto sid = metadata(LocalProvider::sid_discovery_path());
  EXPECT_EQ(sid["issuer"], provider.sid_issuer());
  EXPECT_EQ(sid["authorization_endpoint"], provider.sid_authorization_endpoint());
  EXPECT_EQ(sid["authorization_response_iss_parameter_supported"], false);
  EXPECT_FALSE(sid.contains("pushed_authorization_request_endpoint"));

  provider.set_authorization_response_iss(false);
  EXPECT_EQ(metadata(LocalProvider::discovery_path())["authorization_response_iss_parameter_supported"], false);
  auto res = browser.get(LocalProvider::authorization_path(), code_request("web-app", redirect));
  EXPECT_EQ(value(parameters(res->get_header_value("Location"), '?'), "iss"), "<absent>");
  provider.set_advertise_authorization_response_iss(true);  // declared, not sent
  EXPECT_EQ(metadata(LocalProvider::discovery_path())["authorization_response_iss_parameter_supported"], true);
}

TEST_F(LocalProviderAuthorization, SimpleIdServerLayoutReplaysSeed002sCallback) {
  provider.script_next_authorization({str(oidc_testing::seeds::kSeed002AuthorizationCode), "",
                                      "AVinZKQq4XTdDezZKi0rJFT9Zs2ikPgr7FZTFMyxuQA.9057a6c7-1d3c-42df-83d2-a47c14e288d0"});
  FormFields query{{"response_type", "code"}, {"client_id", "website"}, {"redirect_uri", "https://your-app.com/callback"},
                   {"scope", "openid profile"}, {"state", "1234567890"}};
  auto res = browser.get(LocalProvider::sid_authorization_path(), query);
  ASSERT_EQ(res->status, 302) << res->body;
  EXPECT_EQ(res->get_header_value("Location"), oidc_testing::seeds::kSeed002AuthorizationCodeCallbackUrl);
  // The script is for one response only: the next code is a fresh UUID.
  res = browser.get(LocalProvider::sid_authorization_path(), query);
  const auto code = value(parameters(res->get_header_value("Location"), '?'), "code");
  EXPECT_EQ(code.size(), 36u);
  EXPECT_NE(code, oidc_testing::seeds::kSeed002AuthorizationCode);
}

TEST_F(LocalProviderAuthorization, PushedRequestsRequireClientIdAndAreOneTime) {
  const httplib::Headers basic{{"Authorization", "Basic " + detail::base64_encode("portal:portal-secret", false)}};
  auto pushed = code_request("portal", redirect);
  pushed.erase(pushed.begin() + 1);
  // RFC 9126 §2.1: client_id is required even with HTTP Basic.
  auto res = api.Post(LocalProvider::par_path().c_str(), basic, form(pushed), kForm);
  expect_oauth_error(res, "invalid_request");
  ASSERT_EQ(provider.rejections().size(), 1u);
  provider.clear_requests();

  pushed.insert(pushed.begin() + 1, {"client_id", "portal"});
  res = api.Post(LocalProvider::par_path().c_str(), basic, form(pushed), kForm);
  ASSERT_EQ(res->status, 201) << res->body;
  const auto body = ordered_json::parse(res->body);
  const std::string request_uri = body["request_uri"];
  EXPECT_EQ(request_uri.rfind("urn:ietf:params:oauth:request_uri:", 0), 0u);
  EXPECT_EQ(body["expires_in"], 60);
  EXPECT_EQ(provider.pushed_request_count(), 1u);

  // Wrong credentials are refused before anything is stored.
  const httplib::Headers wrong{{"Authorization", "Basic " + detail::base64_encode("portal:nope", false)}};
  EXPECT_EQ(api.Post(LocalProvider::par_path().c_str(), wrong, form(pushed), kForm)->status, 401);

  FormFields by_reference{{"client_id", "portal"}, {"request_uri", request_uri}};
  auto page = browser.get(LocalProvider::authorization_path(), by_reference);
  ASSERT_EQ(page->status, 302) << page->body;
  const auto params = parameters(page->get_header_value("Location"), '?');
  EXPECT_EQ(value(params, "state"), "st-1");
  EXPECT_EQ(provider.authorization_code(value(params, "code"))->code_challenge, kChallenge);
  // One-time: a reload gets an error page.
  page = browser.get(LocalProvider::authorization_path(), by_reference);
  EXPECT_EQ(page->status, 400);
  EXPECT_FALSE(page->has_header("Location"));
  EXPECT_TRUE(provider.rejections().empty());
}
