#include "secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <oidc/detail/printable.hpp>
#include <oidc/error.hpp>

namespace oidc_token {
namespace {

constexpr std::size_t max_secret_bytes = 64 * 1024;  // keys and passwords are far smaller

[[noreturn]] void fail(const std::string& what, const std::string& why) {
  throw oidc::Error(oidc::errc::config, "reading the " + what, why);
}

// Reads `fd` to the end, at most max_secret_bytes (more is an error, not a silent cut).
bool read_bounded(int fd, std::string& out) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    if (out.size() + static_cast<std::size_t>(n) > max_secret_bytes) return false;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// One trailing newline is how files and `pass show` end a line; it is not part of the secret.
void trim_newline(std::string& s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
}

oidc::Secret from_file(const std::string& path, const std::string& what) {
  const std::string shown = oidc::detail::printable(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail(what, "cannot open " + shown + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(what, shown + " is not a regular file");
  }
  // A secret others can read is not secret any more: refuse, like ssh does with private keys.
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    fail(what, shown + " is readable or writable by group or others: chmod 600 it");
  }
  std::string value;
  const bool ok = read_bounded(fd, value);
  ::close(fd);
  if (!ok) {
    oidc::detail::secure_wipe(value);
    fail(what, "cannot read " + shown + " (or it is larger than 64 KiB)");
  }
  trim_newline(value);
  return oidc::Secret(std::move(value));
}

oidc::Secret from_env(const std::string& name, const std::string& what) {
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) fail(what, "environment variable " + oidc::detail::printable(name, 64) + " is not set");
  return oidc::Secret(v);
}

// `/bin/sh -c command`, its stdout captured; stderr and stdin stay the user's (a password
// manager may prompt).
oidc::Secret from_command(const std::string& command, const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail(what, std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    fail(what, std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string value;
  const bool ok = read_bounded(fds[0], value);
  ::close(fds[0]);  // a command still writing gets SIGPIPE instead of blocking us
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    oidc::detail::secure_wipe(value);
    if (!ok) fail(what, "the command's output is larger than 64 KiB or unreadable");
    fail(what, WIFEXITED(status) ? "the command exited with status " + std::to_string(WEXITSTATUS(status))
                                 : std::string("the command was killed by a signal"));
  }
  trim_newline(value);
  if (value.empty()) fail(what, "the command printed nothing");
  return oidc::Secret(std::move(value));
}

}  // namespace

oidc::Secret resolve_secret(const SecretSource& source, const std::string& what) {
  switch (source.kind) {
    case SecretSource::Kind::none: return {};
    case SecretSource::Kind::value: return source.value;
    case SecretSource::Kind::file: return from_file(source.ref, what);
    case SecretSource::Kind::env: return from_env(source.ref, what);
    case SecretSource::Kind::command: return from_command(source.ref, what);
  }
  return {};
}

}  // namespace oidc_token
