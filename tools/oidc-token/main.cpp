// oidc-token: OAuth 2.0 / OpenID Connect access tokens for shells and scripts (docs/cli.md).
#include <iostream>

#include <CLI/CLI.hpp>
#include <oidc/version.hpp>

#include "commands.hpp"
#include "terminal.hpp"

namespace {

constexpr const char* exit_codes =
    "Exit status:\n"
    "  0  ok\n"
    "  1  unexpected failure\n"
    "  2  usage error\n"
    "  3  configuration error (profile file, missing profile, unsafe secret file, store mismatch)\n"
    "  4  login required: run `oidc-token login PROFILE`\n"
    "  5  the provider refused or answered badly\n"
    "  6  network, TLS or timeout\n"
    "  7  token store failure\n"
    "exec and curl exit with the command's status (127: it could not be run).\n"
    "See docs/cli.md for the profile file.";

}  // namespace

int main(int argc, char** argv) {
  using namespace oidc_token;
  CLI::App app{"OAuth 2.0 / OpenID Connect access tokens for shells and scripts.", "oidc-token"};
  app.footer(exit_codes);
  app.set_version_flag("--version", std::string("oidc-token ") + OIDC_VERSION);
  app.require_subcommand(1);

  GlobalOptions global;
  app.add_option("--config", global.config,
                 "profile file (default: $OIDC_TOKEN_CONFIG, else $XDG_CONFIG_HOME/oidc-token/config.toml, else "
                 "~/.config/oidc-token/config.toml)");
  app.add_option("--store", global.store_dir,
                 "token store directory (default: $XDG_STATE_HOME/oidc/tokens, else ~/.local/state/oidc/tokens)");
  app.add_flag("-v,--verbose", global.verbose, "trace HTTP requests and responses on stderr, secrets masked");

  GetOptions get;
  auto* get_cmd = app.add_subcommand("get", "print the access token (renewed when needed)");
  get_cmd->add_option("profile", get.profile, "profile (default: the file's default)");
  auto* header = get_cmd->add_flag("--header", get.header, "print `Bearer <token>`, the Authorization value");
  auto* json = get_cmd->add_flag("--json", get.json, "print the token's metadata as JSON");
  header->excludes(json);
  get_cmd->add_flag("--with-secrets", get.with_secrets, "with --json: include the token values")->needs(json);
  get_cmd->add_option("--min-valid", get.min_valid, "renew unless valid for at least SECONDS")
      ->check(CLI::NonNegativeNumber);

  LoginOptions login;
  auto* login_cmd = app.add_subcommand("login", "log in (device flow, or browser for authorization_code)");
  login_cmd->add_option("profile", login.profile, "profile (default: the file's default)");
  login_cmd->add_flag("--no-qr", login.no_qr, "no QR code for the device login");
  login_cmd->add_flag("--browser", login.browser, "open the login page in the browser too");

  LogoutOptions logout;
  auto* logout_cmd = app.add_subcommand("logout", "revoke and delete the stored token");
  logout_cmd->add_option("profile", logout.profile, "profile (default: the file's default)");
  logout_cmd->add_flag("--no-revoke", logout.no_revoke, "delete the stored token without revoking it");

  auto* status_cmd = app.add_subcommand("status", "one line per profile: stored token and expiries (no values)");

  ExecOptions exec;
  auto* exec_cmd = app.add_subcommand("exec", "run a command with the access token in an environment variable");
  exec_cmd->add_option("profile", exec.profile, "profile")->required();
  exec_cmd->add_option("--env", exec.env, "variable name (default: the profile's env, else OIDC_TOKEN)");
  exec_cmd->add_option("command", exec.command, "-- command and arguments")->required();

  ExecOptions curl;
  auto* curl_cmd = app.add_subcommand("curl", "run curl with the Authorization header (not in argv)");
  curl_cmd->add_option("profile", curl.profile, "profile")->required();
  curl_cmd->add_option("args", curl.command, "-- URL and curl's arguments")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);  // help and version on stdout, mistakes on stderr
    return status == 0 ? exit_ok : exit_usage;
  }

  try {
    if (*get_cmd) return cmd_get(global, get);
    if (*login_cmd) return cmd_login(global, login);
    if (*logout_cmd) return cmd_logout(global, logout);
    if (*status_cmd) return cmd_status(global);
    if (*exec_cmd) return cmd_exec(global, exec);
    if (*curl_cmd) return cmd_curl(global, curl);
  } catch (const oidc::Error& e) {
    message(e.what());
    return exit_code(e);
  } catch (const ExitError& e) {
    message(e.what());
    return e.code;
  } catch (const std::exception& e) {
    message(std::string("unexpected failure: ") + oidc::detail::printable(e.what(), 500));
    return exit_failure;
  }
  return exit_usage;
}
