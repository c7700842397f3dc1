// The oidc-token CLI (docs/cli.md) against oidc-provider over HTTPS: the real executable, spawned
// with posix_spawn (tests/cli/cli_harness.hpp), with profiles that use discovery and the test CA.
// The browser step of the device login is Browser::approve_device, fed with what the tool printed.
// "After expiry" is the stored record's expires_at moved into the past (expire_stored_tokens).
#include <gtest/gtest.h>

#include <regex>

#include "browser.hpp"
#include "cli_harness.hpp"
#include "interop_support.hpp"

namespace {

using namespace oidc_cli_test;
using oidc_interop::Browser;
using oidc_interop::Provider;
using Json = nlohmann::json;

const std::string kScope = "openid offline_access api:read";
const std::string kRefreshGrant = "refresh_token";
const std::string kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

class InteropCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& p = Provider::get();
    write_file(home_.path() / "cc.secret", std::string(oidc_interop::kCcBasic.secret) + "\n");
    write_file(home_.path() / "config.toml",
               "[cc]\n"
               "issuer = \"" + p.issuer() + "\"\n"
               "ca_file = \"" + p.ca_file() + "\"\n"
               "client_id = \"" + oidc_interop::kCcBasic.id + "\"\n"
               "client_secret_file = \"" + (home_.path() / "cc.secret").string() + "\"\n"
               "grant = \"client_credentials\"\n"
               "\n[device]\n"
               "issuer = \"" + p.issuer() + "\"\n"
               "ca_file = \"" + p.ca_file() + "\"\n"
               "client_id = \"" + oidc_interop::kDevice.id + "\"\n"
               "auth_method = \"none\"\n"
               "grant = \"device\"\n"
               "scope = \"" + kScope + "\"\n");
  }

  std::map<std::string, std::string> env() const {
    return {{"PATH", "/usr/bin:/bin"},
            {"HOME", home_.path().string()},
            {"OIDC_TOKEN_CONFIG", (home_.path() / "config.toml").string()},
            {"XDG_CONFIG_HOME", (home_.path() / "xdg-config").string()},
            {"XDG_STATE_HOME", state_dir().string()}};
  }
  std::filesystem::path state_dir() const { return home_.path() / "state"; }
  Result run(std::vector<std::string> args) const {
    args.insert(args.begin(), OIDC_TOKEN_EXE);
    return Process(std::move(args), env()).finish(60s);
  }

  // `oidc-token login device`, the user approving in Browser what the tool printed.
  Result login() {
    Process p({OIDC_TOKEN_EXE, "login", "device", "--no-qr"}, env());
    const std::regex shown("enter the code ([^ \r\n]+)\r?\nor open (https://[^ \r\n]+)");
    std::smatch m;
    const bool found = p.wait_for([&](const std::string&, const std::string& err) {
      return std::regex_search(err, m, shown);
    }, 30s);
    EXPECT_TRUE(found) << "no verification_uri_complete shown: " << p.err();
    if (found) {
      const std::string code = m[1], complete = m[2];
      EXPECT_NO_THROW(Browser(Provider::get().ca_file())
                          .approve_device(complete, code, oidc_interop::kAlice, "any-password-will-do"));
    }
    return p.finish(60s);
  }
  std::string stored(const char* member) const {
    auto records = store_records(state_dir());
    return records.size() == 1 ? Json::parse(read_file(records[0]))["token"].value(member, "") : std::string();
  }

  TempDir home_;
};

std::string line(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST_F(InteropCli, ClientCredentialsGet) {
  const auto& p = Provider::get();
  const int before = p.token_requests(oidc_interop::kCcBasic, "client_credentials");
  auto first = run({"get", "cc"});
  ASSERT_EQ(first.status, 0) << first.err;
  const auto token = line(first.out);
  EXPECT_EQ(p.introspect(token).value("active", false), true) << "oidc-provider knows the token";
  auto second = run({"get", "cc", "--header"});
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(line(second.out), "Bearer " + token) << "from the store";
  EXPECT_EQ(p.token_requests(oidc_interop::kCcBasic, "client_credentials"), before + 1);
  EXPECT_FALSE(contains(first.out + first.err + second.err, oidc_interop::kCcBasic.secret));
}

TEST_F(InteropCli, DeviceLoginGetRefreshLogout) {
  const auto& p = Provider::get();
  const int refreshes = p.token_requests(oidc_interop::kDevice, kRefreshGrant);
  auto l = login();
  ASSERT_EQ(l.status, 0) << l.err;
  EXPECT_EQ(l.out, "");
  const auto refresh_token = stored("refresh_token");
  ASSERT_FALSE(refresh_token.empty()) << "offline_access gives a refresh token";

  auto first = run({"get", "device"});
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(p.token_requests(oidc_interop::kDevice, kRefreshGrant), refreshes);

  ASSERT_EQ(expire_stored_tokens(state_dir()), 1);
  auto second = run({"get", "device"});
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(line(second.out), line(first.out));
  EXPECT_EQ(p.token_requests(oidc_interop::kDevice, kRefreshGrant), refreshes + 1);
  const auto rotated = stored("refresh_token");
  EXPECT_NE(rotated, refresh_token) << "oidc-provider rotates refresh tokens; the new one is saved";
  EXPECT_EQ(p.introspect(line(second.out)).value("active", false), true);

  auto out = run({"logout", "device"});
  ASSERT_EQ(out.status, 0) << out.err;
  EXPECT_TRUE(store_records(state_dir()).empty());
  EXPECT_EQ(p.introspect(rotated).value("active", true), false) << "revoked at the provider";
  EXPECT_EQ(p.introspect(line(second.out)).value("active", true), false) << "and its grant with it";
  EXPECT_EQ(run({"get", "device"}).status, 4);
  for (const auto* r : {&l, &first, &second, &out}) {
    EXPECT_FALSE(contains(r->err, refresh_token));
    EXPECT_FALSE(contains(r->err, rotated));
  }
}

}  // namespace
