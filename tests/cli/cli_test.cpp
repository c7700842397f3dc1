// The oidc-token CLI (docs/cli.md) as a user runs it: the real executable, spawned with
// posix_spawn and pipes, against the embedded provider running as a process
// (oidc_local_provider, tests/support/local_provider_main.cpp) that the test steers through its
// control server (approving device codes, counting token requests by grant type, revocations).
//
// The CLI uses the real clock, so "after expiry" is made by editing the stored record
// (expire_stored_tokens in cli_harness.hpp: the record is JSON, its token.expires_at is moved
// into the past); the refresh token stays valid. No sleeps: every wait is on a pipe with a deadline.
#include <httplib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "cli_harness.hpp"
#include "oidc/detail/base64.hpp"

namespace {

using namespace oidc_cli_test;
using Json = nlohmann::json;

constexpr const char* kTool = OIDC_TOKEN_EXE;
constexpr const char* kProvider = OIDC_LOCAL_PROVIDER_EXE;

// Distinctive values, so that scanning output for them cannot match ordinary words.
const std::string kSvcSecret = "cli-svc-S3cr3t-9f8e7d6c";
const std::string kUserPassword = "carol-Pw-Zq81xK2m";
const std::string kSvcClient = "cli-svc";
const std::string kDeviceClient = "cli-device";

// oidc_local_provider, started once for the suite.
class ProviderProcess {
 public:
  ProviderProcess() : process_({kProvider}, {{"PATH", "/usr/bin:/bin"}}) {
    if (!process_.wait_for([](const std::string& out, const std::string&) { return out.find('\n') != std::string::npos; },
                           30s))
      throw std::runtime_error("oidc_local_provider did not get ready: " + process_.err());
    std::istringstream line(process_.out());
    std::string word;
    line >> word >> base_ >> control_;
    if (word != "ready" || control_.empty()) throw std::runtime_error("unexpected first line: " + process_.out());
  }
  ~ProviderProcess() { process_.finish(30s); }

  const std::string& base() const { return base_; }

  Json get(const std::string& path) {
    httplib::Client c(control_);
    auto r = c.Get(path.c_str());
    if (!r) throw std::runtime_error("control GET " + path + " failed");
    return Json::parse(r->body);
  }
  int post(const std::string& path, const std::string& body = "{}") {
    httplib::Client c(control_);
    auto r = c.Post(path.c_str(), body, "application/json");
    if (!r) throw std::runtime_error("control POST " + path + " failed");
    return r->status;
  }
  std::string echo_url() const { return control_ + "/echo"; }

  int token_requests(const std::string& grant) { return get("/counts")["token"].value(grant, 0); }
  int revocations() { return get("/counts")["revocation"].get<int>(); }
  int device_authorizations() { return get("/counts")["device_authorization"].get<int>(); }

 private:
  Process process_;
  std::string base_, control_;
};

ProviderProcess* provider = nullptr;

const std::string kRefresh = "refresh_token";
const std::string kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    provider = new ProviderProcess();
    ASSERT_EQ(provider->post("/client", Json{{"client_id", kSvcClient},
                                             {"secret", kSvcSecret},
                                             {"grant_types", {"client_credentials"}},
                                             {"issue_refresh_token", false},
                                             {"default_scope", "profile"}}
                                            .dump()),
              200);
    ASSERT_EQ(provider->post("/client", Json{{"client_id", kDeviceClient},
                                             {"grant_types", {kDeviceGrant, kRefresh}},
                                             {"expires_in", 300},
                                             {"refresh_expires_in", 1800}}
                                            .dump()),
              200);
    ASSERT_EQ(provider->post("/user?realm=vyopta&username=carol&password=" + kUserPassword), 200);
  }
  static void TearDownTestSuite() {
    delete provider;
    provider = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(provider->post("/clear"), 200);
    ASSERT_EQ(provider->post("/auto_approve?polls=-1"), 200);
    ASSERT_EQ(provider->post("/slow_down?on=0"), 200);
    write_file(home_.path() / "svc.secret", kSvcSecret + "\n");
    write_file(home_.path() / "wrong.secret", "not-the-secret\n");
    write_file(home_.path() / "carol.pw", kUserPassword + "\n");
    // A curl in front of the real one that records its argv (the token must not be there).
    write_file(home_.path() / "bin" / "curl",
               "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"" + (home_.path() / "curl.argv").string() +
                   "\"\nexec /usr/bin/curl \"$@\"\n",
               0700);
    write_config(config());
  }

  std::string config() const {
    const std::string b = provider->base();
    return "default = \"svc\"\n"
           "\n[svc]\n"
           "token_endpoint = \"" + b + "/realms/core/protocol/openid-connect/token\"\n"
           "client_id = \"" + kSvcClient + "\"\n"
           "client_secret_file = \"" + (home_.path() / "svc.secret").string() + "\"\n"
           "grant = \"client_credentials\"\n"
           "\n[badsecret]\n"
           "token_endpoint = \"" + b + "/realms/core/protocol/openid-connect/token\"\n"
           "client_id = \"" + kSvcClient + "\"\n"
           "client_secret_file = \"" + (home_.path() / "wrong.secret").string() + "\"\n"
           "grant = \"client_credentials\"\n"
           "\n[down]\n"
           "token_endpoint = \"http://127.0.0.1:1/token\"\n"
           "client_id = \"" + kSvcClient + "\"\n"
           "client_secret_file = \"" + (home_.path() / "svc.secret").string() + "\"\n"
           "grant = \"client_credentials\"\n"
           "\n[vyopta]\n"
           "token_endpoint = \"" + b + "/auth/realms/vyopta/protocol/openid-connect/token\"\n"
           "client_id = \"vyopta\"\n"
           "auth_method = \"none\"\n"
           "grant = \"password\"\n"
           "username = \"carol\"\n"
           "password_file = \"" + (home_.path() / "carol.pw").string() + "\"\n"
           "headers = [\"Host: login.vyopta.com\"]\n"
           "\n[device]\n"
           "issuer = \"" + b + "/realms/core\"\n"
           "client_id = \"" + kDeviceClient + "\"\n"
           "auth_method = \"none\"\n"
           "grant = \"device\"\n"
           "env = \"DEVICE_TOKEN\"\n";
  }
  void write_config(const std::string& text) { write_file(home_.path() / "config.toml", text); }

  std::map<std::string, std::string> env() const {
    return {{"PATH", (home_.path() / "bin").string() + ":/usr/bin:/bin"},
            {"HOME", home_.path().string()},
            {"OIDC_TOKEN_CONFIG", (home_.path() / "config.toml").string()},
            {"XDG_CONFIG_HOME", (home_.path() / "xdg-config").string()},
            {"XDG_STATE_HOME", state_dir().string()}};
  }
  std::filesystem::path state_dir() const { return home_.path() / "state"; }

  std::vector<std::string> tool(std::vector<std::string> args) const {
    args.insert(args.begin(), kTool);
    return args;
  }
  Result run(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) const {
    Process p(tool(std::move(args)), env());
    return p.finish(timeout);
  }

  // `oidc-token login device` with the test as the user: the user code is read from the tool's
  // output and approved through the control server.
  Result login(const std::string& profile = "device") {
    Process p(tool({"login", profile, "--no-qr"}), env());
    const std::regex code_re("[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}");
    std::smatch m;
    const bool shown = p.wait_for([&](const std::string& out, const std::string& err) {
      const std::string all = out + err;
      return std::regex_search(all, m, code_re);
    }, 20s);
    EXPECT_TRUE(shown) << "no user code shown; stdout: " << p.out() << "\nstderr: " << p.err();
    if (shown) {
      const std::string code = m.str();
      EXPECT_EQ(provider->post("/approve?user_code=" + code), 200) << "the code shown is not a pending one: " << code;
    }
    return p.finish(30s);
  }

  // The refresh token of the one stored record that has one ("" if none or several).
  std::string stored_refresh_token() const {
    std::vector<std::string> found;
    for (const auto& record : store_records(state_dir())) {
      auto rt = Json::parse(read_file(record))["token"].value("refresh_token", "");
      if (!rt.empty()) found.push_back(rt);
    }
    return found.size() == 1 ? found[0] : std::string();
  }

  TempDir home_;
};

// Polls `done` (a control-server query) while reading the process's output, until the deadline.
bool wait_until(const std::function<bool()>& done, Process& p, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    p.wait_for([](const std::string&, const std::string&) { return false; }, 50ms);
  }
  return true;
}

std::string trim_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// --- client credentials -------------------------------------------------------------------------

TEST_F(Cli, GetClientCredentialsPrintsTheTokenAndServesItFromTheStore) {
  auto first = run({"get", "svc"});
  ASSERT_EQ(first.status, 0) << first.err;
  const auto token = trim_line(first.out);
  EXPECT_EQ(token.find('\n'), std::string::npos);
  EXPECT_GT(token.size(), 20u);
  EXPECT_EQ(provider->token_requests("client_credentials"), 1);
  EXPECT_EQ(store_records(state_dir()).size(), 1u) << "saved under $XDG_STATE_HOME";

  auto second = run({"get"});  // the default profile
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(trim_line(second.out), token);
  EXPECT_EQ(provider->token_requests("client_credentials"), 1) << "served from the store";
  EXPECT_FALSE(contains(first.out + first.err + second.out + second.err, kSvcSecret));
}

TEST_F(Cli, GetHeaderPrintsTheAuthorizationValue) {
  auto plain = run({"get", "svc"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  auto header = run({"get", "svc", "--header"});
  ASSERT_EQ(header.status, 0) << header.err;
  EXPECT_EQ(trim_line(header.out), "Bearer " + trim_line(plain.out));
}

TEST_F(Cli, GetJsonHasNoSecretsUnlessAsked) {
  auto plain = run({"get", "svc"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  const auto token = trim_line(plain.out);

  auto json = run({"get", "svc", "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  auto j = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json.out;
  EXPECT_TRUE(j.contains("expires_at")) << json.out;
  EXPECT_TRUE(j.contains("token_type")) << json.out;
  EXPECT_FALSE(j.contains("access_token")) << json.out;
  EXPECT_FALSE(contains(json.out + json.err, token));

  auto secrets = run({"get", "svc", "--json", "--with-secrets"});
  ASSERT_EQ(secrets.status, 0) << secrets.err;
  auto s = Json::parse(secrets.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << secrets.out;
  EXPECT_EQ(s.value("access_token", ""), token);
  EXPECT_FALSE(contains(secrets.out + secrets.err, kSvcSecret)) << "the client secret is never printed";
}

TEST_F(Cli, WithSecretsNeedsJson) {
  auto r = run({"get", "svc", "--with-secrets"});
  EXPECT_EQ(r.status, 2) << r.out << r.err;
}

TEST_F(Cli, MinValidRenewsATokenThatExpiresTooSoon) {
  ASSERT_EQ(run({"get", "svc"}).status, 0);
  // The provider's tokens live 300 s: asking for an hour of validity forces a new one.
  auto r = run({"get", "svc", "--min-valid", "3600"});
  EXPECT_EQ(provider->token_requests("client_credentials"), 2) << r.err;
}

TEST_F(Cli, ClientCredentialsAfterExpiryRunsTheGrantAgain) {
  auto first = run({"get", "svc"});
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  auto second = run({"get", "svc"});
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(second.out, first.out);
  EXPECT_EQ(provider->token_requests("client_credentials"), 2);
}

TEST_F(Cli, SecretFromEnvironmentOrCommand) {
  write_config(config() + "\n[fromenv]\ntoken_endpoint = \"" + provider->base() +
               "/realms/core/protocol/openid-connect/token\"\nclient_id = \"" + kSvcClient +
               "\"\nclient_secret_env = \"SVC_SECRET\"\ngrant = \"client_credentials\"\n"
               "\n[fromcommand]\ntoken_endpoint = \"" + provider->base() +
               "/realms/core/protocol/openid-connect/token\"\nclient_id = \"" + kSvcClient +
               "\"\nclient_secret_command = \"cat " + (home_.path() / "svc.secret").string() +
               "\"\ngrant = \"client_credentials\"\n");
  // Both profiles have the same token key (endpoint, client, grant): separate stores, so each
  // really fetches a token with its secret.
  auto e = env();
  e["SVC_SECRET"] = kSvcSecret;
  auto from_env = Process(tool({"--store", (home_.path() / "s1").string(), "get", "fromenv"}), e).finish(60s);
  EXPECT_EQ(from_env.status, 0) << from_env.err;
  auto from_command = run({"--store", (home_.path() / "s2").string(), "get", "fromcommand"});
  EXPECT_EQ(from_command.status, 0) << from_command.err;
  EXPECT_EQ(provider->token_requests("client_credentials"), 2);
  auto missing = run({"--store", (home_.path() / "s3").string(), "get", "fromenv"});  // SVC_SECRET unset
  EXPECT_EQ(missing.status, 3) << missing.err;
  EXPECT_EQ(provider->token_requests("client_credentials"), 2);
}

TEST_F(Cli, AGroupReadableSecretFileIsRefused) {
  ::chmod((home_.path() / "svc.secret").c_str(), 0640);
  auto r = run({"get", "svc"});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_FALSE(contains(r.out + r.err, kSvcSecret));
  EXPECT_EQ(provider->token_requests("client_credentials"), 0);
}

TEST_F(Cli, StoreOptionChoosesTheDirectory) {
  const auto dir = home_.path() / "elsewhere";
  auto r = run({"--store", dir.string(), "get", "svc"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(store_records(dir).size(), 1u);
  EXPECT_TRUE(store_records(state_dir()).empty());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "the store directory is private";
}

// --- password (seed 003) ------------------------------------------------------------------------

TEST_F(Cli, PasswordGrantSendsTheProfilesHostHeader) {
  auto r = run({"get", "vyopta"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto requests = provider->get("/requests");
  ASSERT_EQ(requests.size(), 1u);
  std::vector<std::string> hosts;
  for (const auto& h : requests[0]["headers"])
    if (h[0].get<std::string>() == "Host" || h[0].get<std::string>() == "host") hosts.push_back(h[1]);
  EXPECT_EQ(hosts, std::vector<std::string>{"login.vyopta.com"});
  EXPECT_FALSE(contains(r.out + r.err, kUserPassword));
}

TEST_F(Cli, PasswordGrantWithoutTheHostHeaderIsRefused) {
  auto text = config();
  auto at = text.find("headers = [\"Host: login.vyopta.com\"]\n");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, std::string("headers = [\"Host: login.vyopta.com\"]\n").size());
  write_config(text);
  auto r = run({"get", "vyopta"});
  EXPECT_EQ(r.status, 5) << r.err;
  EXPECT_NE(r.err.find("oidc-token: "), std::string::npos) << r.err;
  EXPECT_FALSE(contains(r.out + r.err, kUserPassword));
}

TEST_F(Cli, PasswordAfterExpiryLogsInAgainWhenRefreshIsRefused) {
  // Seed 003's provider refuses refresh for `vyopta`: the tool runs the password grant again.
  ASSERT_EQ(run({"get", "vyopta"}).status, 0);
  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  auto r = run({"get", "vyopta"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(provider->token_requests("password"), 2);
  EXPECT_FALSE(contains(r.out + r.err, kUserPassword));
}

// --- device login and refresh -------------------------------------------------------------------

TEST_F(Cli, GetWithoutLoginOnADeviceProfileSaysLoginRequired) {
  auto r = run({"get", "device"});
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_NE(r.err.find("oidc-token login device"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(provider->device_authorizations(), 0) << "get never starts an interactive login";
}

TEST_F(Cli, DeviceLoginThenGetThenOneRefreshAfterExpiry) {
  auto l = login();
  ASSERT_EQ(l.status, 0) << l.out << l.err;
  EXPECT_EQ(provider->device_authorizations(), 1);
  EXPECT_EQ(provider->token_requests(kDeviceGrant), 1) << "approved before the first poll";
  const auto refresh_token = stored_refresh_token();
  ASSERT_FALSE(refresh_token.empty()) << "login saves the token with its refresh token";
  EXPECT_FALSE(contains(l.out + l.err, refresh_token));

  auto first = run({"get", "device"});
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(provider->token_requests(kRefresh), 0) << "fresh from login";

  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  auto second = run({"get", "device"});
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(trim_line(second.out), trim_line(first.out)) << "a new access token";
  EXPECT_EQ(provider->token_requests(kRefresh), 1);
  EXPECT_EQ(provider->device_authorizations(), 1) << "no new login";
  EXPECT_NE(stored_refresh_token(), refresh_token) << "the rotated refresh token is saved";

  auto third = run({"get", "device"});
  ASSERT_EQ(third.status, 0) << third.err;
  EXPECT_EQ(trim_line(third.out), trim_line(second.out));
  EXPECT_EQ(provider->token_requests(kRefresh), 1);
}

TEST_F(Cli, ARefusedRefreshTokenMeansLoginRequired) {
  ASSERT_EQ(login().status, 0);
  const auto refresh_token = stored_refresh_token();
  ASSERT_FALSE(refresh_token.empty());
  // Revoked behind the tool's back (RFC 7009, as the public client would).
  httplib::Client c(provider->base());
  auto revoked = c.Post("/realms/core/protocol/openid-connect/revoke",
                        "token=" + refresh_token + "&client_id=" + kDeviceClient, "application/x-www-form-urlencoded");
  ASSERT_TRUE(revoked);
  ASSERT_EQ(revoked->status, 200) << revoked->body;
  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  auto r = run({"get", "device"});
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_NE(r.err.find("oidc-token login device"), std::string::npos) << r.err;
  EXPECT_EQ(provider->token_requests(kRefresh), 1);
  EXPECT_FALSE(contains(r.out + r.err, refresh_token));
}

TEST_F(Cli, ACorruptRecordIsTreatedAsAbsent) {
  ASSERT_EQ(run({"get", "svc"}).status, 0);
  auto records = store_records(state_dir());
  ASSERT_EQ(records.size(), 1u);
  write_file(records[0], "{not json");
  auto r = run({"get", "svc"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(provider->token_requests("client_credentials"), 2) << "a new token replaces the unreadable one";
  EXPECT_EQ(store_records(state_dir()).size(), 1u) << "and is saved";
}

TEST_F(Cli, ConcurrentGetsAfterExpiryRefreshOnce) {
  ASSERT_EQ(login().status, 0);
  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  constexpr int n = 4;
  std::vector<std::unique_ptr<Process>> running;
  for (int i = 0; i < n; ++i) running.push_back(std::make_unique<Process>(tool({"get", "device"}), env()));
  std::vector<Result> results;
  for (auto& p : running) results.push_back(p->finish(60s));
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(trim_line(r.out), trim_line(results[0].out)) << "every one prints the renewed token";
  }
  // The refresh token rotates and is single use: a second redemption would fail (and show here).
  EXPECT_EQ(provider->token_requests(kRefresh), 1);
  EXPECT_EQ(provider->get("/counts")["rejections"].get<int>(), 0);
}

TEST_F(Cli, LoginMakesSlowDownVisible) {
  ASSERT_EQ(provider->post("/slow_down?on=1"), 200);
  Process p(tool({"login", "device", "--no-qr"}), env());
  const std::regex code_re("[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}");
  std::smatch m;
  ASSERT_TRUE(p.wait_for([&](const std::string& out, const std::string& err) {
    const std::string all = out + err;
    return std::regex_search(all, m, code_re);
  }, 20s)) << p.out() << p.err();
  const std::string code = m.str();
  // After the first (pending) poll, the provider's clock goes back 10 s: the next poll looks
  // early on its clock and is answered slow_down.
  ASSERT_TRUE(wait_until([] { return provider->token_requests(kDeviceGrant) >= 1; }, p, 20s));
  ASSERT_EQ(provider->post("/advance?seconds=-10"), 200);
  EXPECT_TRUE(p.wait_for([](const std::string& out, const std::string& err) {
    auto all = out + err;
    std::transform(all.begin(), all.end(), all.begin(), [](unsigned char c) { return std::tolower(c); });
    return all.find("slow") != std::string::npos;
  }, 20s)) << "slow_down is not shown; stdout: " << p.out() << "\nstderr: " << p.err();
  ASSERT_EQ(provider->post("/approve?user_code=" + code), 200);
  auto r = p.finish(60s);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  ASSERT_EQ(provider->post("/advance?seconds=10"), 200);
}

// --- exec and curl --------------------------------------------------------------------------------

TEST_F(Cli, ExecPutsTheTokenInTheEnvironmentNotInArgv) {
  auto token = trim_line(run({"get", "svc"}).out);
  ASSERT_FALSE(token.empty());
  const auto argv_file = home_.path() / "child.argv";
  auto r = run({"exec", "svc", "--", "/bin/sh", "-c",
                "printf '%s' \"$OIDC_TOKEN\"; tr '\\0' '\\n' < /proc/$$/cmdline > '" + argv_file.string() + "'",
                "child", "arg1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, token);
  const auto argv = read_file(argv_file);
  EXPECT_NE(argv.find("arg1"), std::string::npos) << argv;
  EXPECT_FALSE(contains(argv, token));
}

TEST_F(Cli, ExecUsesTheProfilesEnvNameOrTheOption) {
  ASSERT_EQ(login().status, 0);
  auto token = trim_line(run({"get", "device"}).out);
  auto profile_env = run({"exec", "device", "--", "/bin/sh", "-c", "printf '%s' \"$DEVICE_TOKEN\""});
  ASSERT_EQ(profile_env.status, 0) << profile_env.err;
  EXPECT_EQ(profile_env.out, token);
  auto option_env = run({"exec", "device", "--env", "MY_TOKEN", "--", "/bin/sh", "-c", "printf '%s' \"$MY_TOKEN\""});
  ASSERT_EQ(option_env.status, 0) << option_env.err;
  EXPECT_EQ(option_env.out, token);
}

TEST_F(Cli, ExecExitStatusIsTheCommands) {
  EXPECT_EQ(run({"exec", "svc", "--", "/bin/sh", "-c", "exit 42"}).status, 42);
  auto missing = run({"exec", "svc", "--", (home_.path() / "no-such-program").string()});
  EXPECT_EQ(missing.status, 127) << missing.err;
}

TEST_F(Cli, CurlSendsTheHeaderWithoutPuttingTheTokenInArgv) {
  auto token = trim_line(run({"get", "svc"}).out);
  ASSERT_FALSE(token.empty());
  auto r = run({"curl", "svc", "--", provider->echo_url(), "-s"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim_line(r.out), "Bearer " + token) << "the echo endpoint answers the Authorization header";
  const auto argv = read_file(home_.path() / "curl.argv");
  ASSERT_NE(argv.find(provider->echo_url()), std::string::npos) << "our curl ran: " << argv;
  EXPECT_FALSE(contains(argv, token)) << argv;
}

TEST_F(Cli, CurlExitStatusIsCurls) {
  // curl's exit 7: could not connect.
  auto r = run({"curl", "svc", "--", "http://127.0.0.1:1/", "-s"});
  EXPECT_EQ(r.status, 7) << r.err;
}

TEST_F(Cli, CurlRefusesPlainHttpToAnotherHost) {
  auto r = run({"curl", "svc", "--", "http://example.com/", "-s"});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_EQ(read_file(home_.path() / "curl.argv"), "") << "curl was not run";
}

// --- logout and status --------------------------------------------------------------------------

TEST_F(Cli, LogoutRevokesAndEmptiesTheStore) {
  ASSERT_EQ(login().status, 0);
  const auto refresh_token = stored_refresh_token();
  ASSERT_FALSE(refresh_token.empty());
  auto r = run({"logout", "device"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_GE(provider->revocations(), 1);
  bool refresh_revoked = false;
  for (const auto& req : provider->get("/requests"))
    if (req["path"].get<std::string>().find("/revoke") != std::string::npos)
      for (const auto& f : req["form"])
        if (f[0] == "token" && f[1] == refresh_token) refresh_revoked = true;
  EXPECT_TRUE(refresh_revoked) << "the refresh token is the one revoked";
  EXPECT_TRUE(store_records(state_dir()).empty());
  EXPECT_EQ(run({"get", "device"}).status, 4) << "logged out";
  const int revoked = provider->revocations();
  auto again = run({"logout", "device"});
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(provider->revocations(), revoked) << "nothing to revoke the second time";
}

TEST_F(Cli, LogoutNoRevokeOnlyDeletes) {
  ASSERT_EQ(login().status, 0);
  auto r = run({"logout", "device", "--no-revoke"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(provider->revocations(), 0);
  EXPECT_TRUE(store_records(state_dir()).empty());
}

TEST_F(Cli, StatusListsProfilesWithoutTokenValues) {
  ASSERT_EQ(login().status, 0);
  auto svc = trim_line(run({"get", "svc"}).out);
  auto device = trim_line(run({"get", "device"}).out);
  const auto refresh_token = stored_refresh_token();
  ASSERT_FALSE(refresh_token.empty());
  auto r = run({"status"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("svc (default)"), std::string::npos) << r.out;
  for (const char* name : {"svc", "badsecret", "down", "vyopta", "device"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name << " missing from:\n" << r.out;
  EXPECT_FALSE(contains(r.out + r.err, svc));
  EXPECT_FALSE(contains(r.out + r.err, device));
  EXPECT_FALSE(contains(r.out + r.err, kSvcSecret));
  EXPECT_FALSE(contains(r.out + r.err, refresh_token));
}

// --- exit codes and hygiene ---------------------------------------------------------------------

TEST_F(Cli, ExitCodes) {
  auto usage = run({"get", "--no-such-option"});
  EXPECT_EQ(usage.status, 2) << usage.err;

  auto missing_profile = run({"get", "nosuch"});
  EXPECT_EQ(missing_profile.status, 3) << missing_profile.err;
  EXPECT_NE(missing_profile.err.find("oidc-token: "), std::string::npos);

  auto login_required = run({"get", "device"});
  EXPECT_EQ(login_required.status, 4) << login_required.err;

  auto refused = run({"get", "badsecret"});
  EXPECT_EQ(refused.status, 5) << refused.err;

  auto network = run({"get", "down"});
  EXPECT_EQ(network.status, 6) << network.err;

  const auto not_a_dir = home_.path() / "store-is-a-file";
  write_file(not_a_dir, "x");
  auto store = run({"--store", not_a_dir.string(), "get", "svc"});
  EXPECT_EQ(store.status, 7) << store.err;

  for (const auto* r : {&usage, &missing_profile, &login_required, &refused, &network, &store}) {
    EXPECT_FALSE(contains(r->out + r->err, kSvcSecret));
    EXPECT_FALSE(contains(r->out + r->err, "not-the-secret"));
  }
}

TEST_F(Cli, ASecretWrittenInTheConfigIsRefusedUnlessTheFileIsPrivate) {
  write_file(home_.path() / "config.toml",
             config() + "\n[inline]\ntoken_endpoint = \"" + provider->base() +
                 "/realms/core/protocol/openid-connect/token\"\nclient_id = \"" + kSvcClient +
                 "\"\nclient_secret = \"" + kSvcSecret + "\"\ngrant = \"client_credentials\"\n",
             0644);
  auto open = run({"get", "inline"});
  EXPECT_EQ(open.status, 3) << open.err;
  EXPECT_FALSE(contains(open.out + open.err, kSvcSecret));
  ::chmod((home_.path() / "config.toml").c_str(), 0600);
  auto private_file = run({"get", "inline"});
  EXPECT_EQ(private_file.status, 0) << private_file.err;
}

TEST_F(Cli, StoreMismatchIsAConfigurationError) {
  ASSERT_EQ(run({"get", "svc"}).status, 0);
  auto records = store_records(state_dir());
  ASSERT_EQ(records.size(), 1u);
  auto j = Json::parse(read_file(records[0]));
  j["version"] = j["version"].get<int>() + 1;  // a newer writer's record
  write_file(records[0], j.dump());
  auto r = run({"get", "svc"});
  EXPECT_EQ(r.status, 3) << r.err;
}

TEST_F(Cli, VerboseTracesRequestsWithSecretsMasked) {
  auto r = run({"-v", "get", "svc"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto token = trim_line(r.out);
  EXPECT_NE(r.err.find("POST"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/realms/core/protocol/openid-connect/token"), std::string::npos) << r.err;
  EXPECT_FALSE(contains(r.err, kSvcSecret)) << r.err;
  EXPECT_FALSE(contains(r.err, token)) << r.err;
  // client_secret_basic: base64 of id:secret, which the masked trace must not carry either.
  EXPECT_FALSE(contains(r.err, oidc::detail::base64_encode(kSvcClient + ":" + kSvcSecret))) << r.err;
}

TEST_F(Cli, VerboseDeviceLoginAndRefreshMaskTokens) {
  ASSERT_EQ(login().status, 0);
  const auto refresh_token = stored_refresh_token();
  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  auto r = run({"--verbose", "get", "device"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("POST"), std::string::npos) << r.err;
  EXPECT_FALSE(contains(r.err, refresh_token)) << r.err;
  EXPECT_FALSE(contains(r.err, trim_line(r.out))) << r.err;
}

// --- on a terminal (script(1) gives the tool a pseudo-terminal) --------------------------------

// `script -qfec CMD /dev/null`: CMD runs with its stdin/stdout/stderr on a pty whose output script
// copies to our pipe. The pty turns "\n" into "\r\n".
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

TEST_F(Cli, TerminalLoginShowsUriCodeQrCountdownAndCompletion) {
  ASSERT_EQ(provider->post("/auto_approve?polls=2"), 200);  // two pending answers, then approved
  Process p({"/usr/bin/script", "-qfec", shell_quote(kTool) + " login device", "/dev/null"}, env());
  auto r = p.finish(60s);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const std::string& screen = r.out;
  EXPECT_NE(screen.find("To sign in, open " + provider->base() + "/realms/core/device"), std::string::npos) << screen;
  const std::regex code_re("enter the code [B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}");
  EXPECT_TRUE(std::regex_search(screen, code_re)) << screen;
  EXPECT_NE(screen.find("\u2588"), std::string::npos) << "a QR code (block characters) on a terminal";
  // The countdown is redrawn in place ('\r') and goes down.
  std::vector<long> left;
  const std::regex count_re("code expires in ([0-9]+) s");
  for (std::sregex_iterator it(screen.begin(), screen.end(), count_re), end; it != end; ++it)
    left.push_back(std::stol((*it)[1]));
  ASSERT_GE(left.size(), 2u) << screen;
  EXPECT_LT(left.back(), left.front()) << screen;
  EXPECT_NE(screen.find("\rwaiting for approval"), std::string::npos) << "redrawn in place: " << screen;
  EXPECT_NE(screen.find("logged in (profile \"device\")"), std::string::npos) << screen;
  EXPECT_EQ(provider->token_requests(kDeviceGrant), 3);
  ASSERT_FALSE(stored_refresh_token().empty()) << "saved";
}

TEST_F(Cli, NoQrWhenAskedOrNotOnATerminal) {
  ASSERT_EQ(provider->post("/auto_approve?polls=0"), 200);
  Process p({"/usr/bin/script", "-qfec", shell_quote(kTool) + " login device --no-qr", "/dev/null"}, env());
  auto on_tty = p.finish(60s);
  ASSERT_EQ(on_tty.status, 0) << on_tty.out;
  EXPECT_EQ(on_tty.out.find("\u2588"), std::string::npos) << on_tty.out;
  ASSERT_EQ(run({"logout", "device", "--no-revoke"}).status, 0);
  auto piped = run({"login", "device"});
  ASSERT_EQ(piped.status, 0) << piped.err;
  EXPECT_EQ(piped.err.find("\u2588"), std::string::npos) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos) << "no in-place redraw into a pipe";
  EXPECT_EQ(piped.out, "") << "instructions go to stderr";
}

// Server values with terminal controls: an OSC sequence (sets the window title) in the user code
// and CR LF in the verification URI, in a canned device authorization response. The library
// refuses them (exit 5); whatever the tool prints, the raw sequences never reach the terminal.
TEST_F(Cli, TerminalNeverShowsRawControlsFromTheServer) {
  const std::string osc = "\x1b]0;PWNED\x07";
  Json body = {{"device_code", "canned-device-code"},
               {"user_code", "BCDF" + osc + "GHJK"},
               {"verification_uri", provider->base() + "/realms/core/device\r\nInjected: yes"},
               {"expires_in", 600},
               {"interval", 1}};
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(provider->post("/enqueue", Json{{"path", "/realms/core/protocol/openid-connect/auth/device"},
                                              {"body", body.dump()}}
                                             .dump()),
              200);
  Process p({"/usr/bin/script", "-qfec", shell_quote(kTool) + " login device", "/dev/null"}, env());
  auto tty = p.finish(60s);
  EXPECT_EQ(tty.status, 5) << tty.out;
  EXPECT_EQ(tty.out.find("\x1b]"), std::string::npos) << tty.out;
  EXPECT_EQ(tty.out.find("\x07"), std::string::npos) << tty.out;
  EXPECT_EQ(tty.out.find("\nInjected"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("oidc-token: "), std::string::npos) << tty.out;

  auto piped = run({"login", "device"});
  EXPECT_EQ(piped.status, 5) << piped.err;
  EXPECT_EQ((piped.out + piped.err).find('\x1b'), std::string::npos) << piped.err;
  EXPECT_EQ(piped.err.find("\nInjected"), std::string::npos) << piped.err;
  EXPECT_EQ(provider->device_authorizations(), 2) << "both runs got the canned answer";
  EXPECT_EQ(provider->token_requests(kDeviceGrant), 0) << "no polling with refused values";
}

TEST_F(Cli, VerboseLoginMasksTheDeviceCode) {
  ASSERT_EQ(provider->post("/auto_approve?polls=0"), 200);
  auto r = run({"--verbose", "login", "device", "--no-qr"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string device_code;
  for (const auto& req : provider->get("/requests"))
    for (const auto& f : req["form"])
      if (f[0] == "device_code") device_code = f[1];
  ASSERT_FALSE(device_code.empty());
  EXPECT_FALSE(contains(r.err, device_code)) << r.err;
  const auto refresh_token = stored_refresh_token();
  ASSERT_FALSE(refresh_token.empty());
  EXPECT_FALSE(contains(r.err, refresh_token)) << r.err;
}

TEST_F(Cli, HeaderAndJsonTogetherIsAUsageError) {
  auto r = run({"get", "svc", "--header", "--json"});
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_EQ(provider->token_requests("client_credentials"), 0);
}

TEST_F(Cli, HelpAndVersion) {
  auto help = run({"--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* word : {"get", "login", "logout", "status", "exec", "curl"})
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  auto version = run({"--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_FALSE(version.out.empty());
}

}  // namespace

// --- served from the store: no network, no secret (cli_bugs.md) ---------------------------------

namespace {

// Every request libcurl makes goes to a proxy that is not there: the provider is unreachable for
// the tool while the test still steers it.
std::map<std::string, std::string> unreachable(std::map<std::string, std::string> e) {
  e["http_proxy"] = "http://127.0.0.1:1";
  e["https_proxy"] = "http://127.0.0.1:1";
  e["no_proxy"] = "";
  return e;
}

}  // namespace

TEST_F(Cli, AValidStoredTokenNeedsNeitherTheSecretNorTheProvider) {
  auto first = run({"get", "svc"});
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(login().status, 0);
  auto device = run({"get", "device"});
  ASSERT_EQ(device.status, 0) << device.err;
  std::filesystem::remove(home_.path() / "svc.secret");
  ASSERT_EQ(provider->post("/clear"), 200);
  const int granted = provider->token_requests("client_credentials");

  auto svc = Process(tool({"get", "svc"}), unreachable(env())).finish(60s);
  EXPECT_EQ(svc.status, 0) << svc.err;
  EXPECT_EQ(svc.out, first.out);
  auto header = Process(tool({"get", "svc", "--header"}), unreachable(env())).finish(60s);
  EXPECT_EQ(header.status, 0) << header.err;
  EXPECT_EQ(trim_line(header.out), "Bearer " + trim_line(first.out));
  // The issuer profile: no discovery document either.
  auto again = Process(tool({"get", "device"}), unreachable(env())).finish(60s);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, device.out);
  auto exec = Process(tool({"exec", "device", "--", "/bin/sh", "-c", "printf %s \"$DEVICE_TOKEN\""}),
                      unreachable(env()))
                  .finish(60s);
  EXPECT_EQ(exec.status, 0) << exec.err;
  EXPECT_EQ(exec.out, trim_line(device.out));

  EXPECT_EQ(provider->token_requests("client_credentials"), granted);
  EXPECT_TRUE(provider->get("/requests").empty()) << provider->get("/requests").dump();

  // The poisoning is real: a run that needs the provider fails to reach it.
  auto fresh = Process(tool({"--store", (home_.path() / "other").string(), "get", "device"}), unreachable(env()))
                   .finish(60s);
  EXPECT_EQ(fresh.status, 6) << fresh.err;
}

TEST_F(Cli, AnExpiredStoredTokenTakesTheNormalPath) {
  ASSERT_EQ(run({"get", "svc"}).status, 0);
  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  std::filesystem::remove(home_.path() / "svc.secret");
  const int granted = provider->token_requests("client_credentials");
  auto r = Process(tool({"get", "svc"}), unreachable(env())).finish(60s);
  EXPECT_EQ(r.status, 3) << "the secret is needed again: " << r.err;
  EXPECT_EQ(provider->token_requests("client_credentials"), granted);
  // Too short for --min-valid is not served either.
  write_file(home_.path() / "svc.secret", kSvcSecret + "\n");
  ASSERT_EQ(run({"get", "svc"}).status, 0);
  std::filesystem::remove(home_.path() / "svc.secret");
  auto longer = run({"get", "svc", "--min-valid", "3600"});
  EXPECT_EQ(longer.status, 3) << longer.err;
}

TEST_F(Cli, LogoutNoRevokeNeedsNeitherTheSecretNorTheProvider) {
  ASSERT_EQ(run({"get", "svc"}).status, 0);
  ASSERT_EQ(login().status, 0);
  ASSERT_EQ(store_records(state_dir()).size(), 2u);
  std::filesystem::remove(home_.path() / "svc.secret");
  ASSERT_EQ(provider->post("/clear"), 200);

  auto svc = Process(tool({"logout", "svc", "--no-revoke"}), unreachable(env())).finish(60s);
  EXPECT_EQ(svc.status, 0) << svc.err;
  EXPECT_EQ(store_records(state_dir()).size(), 1u) << "only the profile's own record";
  auto device = Process(tool({"logout", "device", "--no-revoke"}), unreachable(env())).finish(60s);
  EXPECT_EQ(device.status, 0) << device.err;
  EXPECT_TRUE(store_records(state_dir()).empty());
  EXPECT_TRUE(provider->get("/requests").empty()) << provider->get("/requests").dump();
  EXPECT_EQ(provider->revocations(), 0);

  auto nothing = Process(tool({"logout", "device", "--no-revoke"}), unreachable(env())).finish(60s);
  EXPECT_EQ(nothing.status, 0) << nothing.err;
  EXPECT_NE(nothing.err.find("no token stored"), std::string::npos) << nothing.err;
}

TEST_F(Cli, TheSecretCommandRunsOnlyWhenANewTokenIsNeeded) {
  const auto runs = home_.path() / "secret.runs";
  write_config(config() + "\n[counted]\ntoken_endpoint = \"" + provider->base() +
               "/realms/core/protocol/openid-connect/token\"\nclient_id = \"" + kSvcClient +
               "\"\nclient_secret_command = \"echo run >> " + runs.string() + "; cat " +
               (home_.path() / "svc.secret").string() + "\"\ngrant = \"client_credentials\"\n");
  const auto count = [&] {
    const std::string text = std::filesystem::exists(runs) ? read_file(runs) : std::string();
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  };
  auto first = run({"get", "counted"});
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(count(), 1);
  auto second = run({"get", "counted"});
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_EQ(count(), 1) << "served from the store: the secret command did not run";
  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  auto third = run({"get", "counted"});
  ASSERT_EQ(third.status, 0) << third.err;
  EXPECT_NE(third.out, first.out);
  EXPECT_EQ(count(), 2) << "a new token needs the secret";
}

TEST_F(Cli, TheStoreLookupServesOnlyTheProfilesOwnRecord) {
  const std::string endpoint = provider->base() + "/realms/core/protocol/openid-connect/token";
  const std::string secret = (home_.path() / "svc.secret").string();
  write_config(config() + "\n[scoped]\ntoken_endpoint = \"" + endpoint + "\"\nclient_id = \"" + kSvcClient +
               "\"\nclient_secret_file = \"" + secret + "\"\ngrant = \"client_credentials\"\nscope = \"email\"\n" +
               "\n[aimed]\ntoken_endpoint = \"" + endpoint + "\"\nclient_id = \"" + kSvcClient +
               "\"\nclient_secret_file = \"" + secret + "\"\ngrant = \"client_credentials\"\naudience = \"api\"\n");
  ASSERT_EQ(run({"get", "svc"}).status, 0);
  std::filesystem::remove(home_.path() / "svc.secret");
  // Same endpoint and client, another scope or audience: svc's token is not theirs.
  EXPECT_EQ(run({"get", "scoped"}).status, 3);
  EXPECT_EQ(run({"get", "aimed"}).status, 3);
  auto verbose = run({"--verbose", "get", "svc"});
  EXPECT_EQ(verbose.status, 0) << verbose.err;
  EXPECT_NE(verbose.err.find("using the stored token of profile \"svc\""), std::string::npos) << verbose.err;
}
