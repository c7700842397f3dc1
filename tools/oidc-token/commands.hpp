// The commands of oidc-token (docs/cli.md). Each returns the process's exit status; failures
// throw oidc::Error (mapped to exit codes by main) or ExitError.
#ifndef OIDC_TOKEN_COMMANDS_HPP
#define OIDC_TOKEN_COMMANDS_HPP

#include <stdexcept>
#include <string>
#include <vector>

#include "session.hpp"

namespace oidc_token {

// Exit statuses (also in --help and docs/cli.md).
enum exit_status : int {
  exit_ok = 0,
  exit_failure = 1,
  exit_usage = 2,
  exit_config = 3,
  exit_login_required = 4,
  exit_provider = 5,
  exit_network = 6,
  exit_store = 7,
  exit_cannot_run = 127,
};

// A failure with a status of its own and a message that is already safe to print.
struct ExitError : std::runtime_error {
  ExitError(int status, const std::string& text) : std::runtime_error(text), code(status) {}
  int code;
};

// The status for a library error.
int exit_code(const oidc::Error& e);

struct GetOptions {
  std::string profile;
  bool header = false, json = false, with_secrets = false;
  long long min_valid = 0;  // seconds
};
struct LoginOptions {
  std::string profile;
  bool no_qr = false, browser = false;
};
struct LogoutOptions {
  std::string profile;
  bool no_revoke = false;
};
struct ExecOptions {
  std::string profile;
  std::string env;                   // exec: empty = the profile's, else OIDC_TOKEN
  std::vector<std::string> command;  // exec: the program and its arguments; curl: URL and curl's
};

int cmd_get(const GlobalOptions& global, const GetOptions& options);
int cmd_login(const GlobalOptions& global, const LoginOptions& options);
int cmd_logout(const GlobalOptions& global, const LogoutOptions& options);
int cmd_status(const GlobalOptions& global);
int cmd_exec(const GlobalOptions& global, const ExecOptions& options);
int cmd_curl(const GlobalOptions& global, const ExecOptions& options);

}  // namespace oidc_token

#endif
