#include "profile.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <oidc/detail/printable.hpp>
#include <oidc/error.hpp>

namespace oidc_token {
namespace {

const std::string operation = "reading the profile file";
constexpr std::size_t max_config_bytes = 1 << 20;  // a profile file is small; anything larger is a mistake

[[noreturn]] void fail(const std::string& why) { throw oidc::Error(oidc::errc::config, operation, why); }

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A secret written into the file is accepted only when nobody else can read or replace the file.
bool private_file(const struct stat& st) { return st.st_uid == ::geteuid() && (st.st_mode & 077) == 0; }

std::string single(const CLI::ConfigItem& item) {
  if (item.inputs.size() != 1) fail("\"" + oidc::detail::printable(item.fullname(), 64) + "\" needs one value");
  return item.inputs.front();
}

bool boolean(const CLI::ConfigItem& item) {
  const auto v = single(item);
  if (v == "true") return true;
  if (v == "false") return false;
  fail("\"" + oidc::detail::printable(item.fullname(), 64) + "\" is true or false");
}

void set_source(SecretSource& s, SecretSource::Kind kind, const CLI::ConfigItem& item, const std::string& what) {
  if (s.kind != SecretSource::Kind::none) fail("more than one source for the " + what + " in one profile");
  s.kind = kind;
  if (kind == SecretSource::Kind::value) s.value = single(item);
  else s.ref = single(item);
}

void apply(Profile& p, const CLI::ConfigItem& item, bool file_is_private) {
  const std::string& k = item.name;
  std::map<std::string, std::string*> strings{
      {"issuer", &p.issuer},
      {"token_endpoint", &p.token_endpoint},
      {"device_authorization_endpoint", &p.device_authorization_endpoint},
      {"revocation_endpoint", &p.revocation_endpoint},
      {"authorization_endpoint", &p.authorization_endpoint},
      {"client_id", &p.client_id},
      {"grant", &p.grant},
      {"scope", &p.scope},
      {"resource", &p.resource},
      {"audience", &p.audience},
      {"auth_method", &p.auth_method},
      {"username", &p.username},
      {"ca_file", &p.ca_file},
      {"env", &p.env}};
  if (const auto it = strings.find(k); it != strings.end()) {
    *it->second = single(item);
    return;
  }
  using K = SecretSource::Kind;
  for (const auto& [prefix, target, what] :
       {std::make_tuple(std::string("client_secret"), &p.client_secret, "client secret"),
        std::make_tuple(std::string("password"), &p.password, "password")}) {
    if (k == prefix) {
      if (!file_is_private)
        fail("profile \"" + oidc::detail::printable(p.name, 64) + "\" has a " + what +
             " in the file itself, which is readable by others or not yours: chmod 600 it, or use " + prefix +
             "_file, " + prefix + "_env or " + prefix + "_command");
      set_source(*target, K::value, item, what);
      return;
    }
    if (k == prefix + "_file") return set_source(*target, K::file, item, what);
    if (k == prefix + "_env") return set_source(*target, K::env, item, what);
    if (k == prefix + "_command") return set_source(*target, K::command, item, what);
  }
  if (k == "headers") {
    p.headers = item.inputs;
    return;
  }
  if (k == "allow_insecure_http") {
    p.allow_insecure_http = boolean(item);
    return;
  }
  fail("unknown key \"" + oidc::detail::printable(k, 64) + "\" in profile \"" + oidc::detail::printable(p.name, 64) +
       "\"");
}

void check(const Profile& p) {
  const auto where = "profile \"" + oidc::detail::printable(p.name, 64) + "\": ";
  if (p.client_id.empty()) fail(where + "client_id is required");
  if (p.issuer.empty() && p.token_endpoint.empty()) fail(where + "issuer or token_endpoint is required");
  if (p.grant != "client_credentials" && p.grant != "password" && p.grant != "device" &&
      p.grant != "authorization_code")
    fail(where + "grant is client_credentials, password, device or authorization_code");
  if (p.grant == "password" && (p.username.empty() || p.password.kind == SecretSource::Kind::none))
    fail(where + "the password grant needs username and a password source");
  if (!p.auth_method.empty() && p.auth_method != "client_secret_basic" && p.auth_method != "client_secret_post" &&
      p.auth_method != "none")
    fail(where + "auth_method is client_secret_basic, client_secret_post or none");
  if (!p.resource.empty() && !p.audience.empty()) fail(where + "resource and audience are alternatives");
}

}  // namespace

std::string Profile::grant_type() const {
  if (grant == "device") return "urn:ietf:params:oauth:grant-type:device_code";
  return grant;
}

const Profile& ProfileFile::find(const std::string& name) const {
  const std::string wanted = name.empty() ? default_profile : name;
  if (wanted.empty())
    throw oidc::Error(oidc::errc::config, "choosing a profile",
                      "no profile named and no default = \"...\" in " + oidc::detail::printable(path));
  for (const auto& p : profiles)
    if (p.name == wanted) return p;
  throw oidc::Error(oidc::errc::config, "choosing a profile",
                    "no profile \"" + oidc::detail::printable(wanted, 64) + "\" in " + oidc::detail::printable(path));
}

std::string default_config_path() {
  if (auto v = env_or_empty("OIDC_TOKEN_CONFIG"); !v.empty()) return v;
  if (auto v = env_or_empty("XDG_CONFIG_HOME"); !v.empty() && v.front() == '/') return v + "/oidc-token/config.toml";
  if (auto v = env_or_empty("HOME"); !v.empty()) return v + "/.config/oidc-token/config.toml";
  throw oidc::Error(oidc::errc::config, operation, "no --config, OIDC_TOKEN_CONFIG, XDG_CONFIG_HOME or HOME");
}

ProfileFile load_profiles(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open " + oidc::detail::printable(path) + " (see --config)");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    fail(oidc::detail::printable(path) + " is not a regular file");
  std::string text(max_config_bytes + 1, '\0');
  in.read(&text[0], static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_config_bytes) fail(oidc::detail::printable(path) + " is larger than 1 MiB");

  std::istringstream stream(text);
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(stream);
  } catch (const CLI::Error& e) {
    fail(oidc::detail::printable(path) + ": " + oidc::detail::printable(e.what(), 200));
  }
  ProfileFile file;
  file.path = path;
  std::map<std::string, std::size_t> index;
  const bool is_private = private_file(st);
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // CLI11's section markers
    if (item.parents.empty()) {
      if (item.name != "default")
        fail("unknown top-level key \"" + oidc::detail::printable(item.name, 64) + "\" (profiles are [sections])");
      file.default_profile = single(item);
      continue;
    }
    if (item.parents.size() != 1)
      fail("nested key \"" + oidc::detail::printable(item.fullname(), 64) + "\": profiles are one level deep");
    const auto& name = item.parents.front();
    auto [it, added] = index.emplace(name, file.profiles.size());
    if (added) {
      file.profiles.emplace_back();
      file.profiles.back().name = name;
    }
    apply(file.profiles[it->second], item, is_private);
  }
  for (const auto& p : file.profiles) check(p);
  return file;
}

}  // namespace oidc_token
