// Process-level harness for the oidc-token CLI tests (tests/cli) and its interop tests
// (tests/interop/cli_test.cpp): spawn a program with posix_spawn and pipes, read its output with
// bounded waits (poll with a deadline; no sleeps), a temporary home for config and store, and the
// store-record edit that makes a saved token look expired.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace oidc_cli_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Result {
  int status = -1;  // exit status; 128 + signal when killed; -1 when it did not end in time
  std::string out, err;
  bool timed_out = false;
};

// A spawned process with its stdin, stdout and stderr on pipes.
class Process {
 public:
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
    if (rc != 0) {
      pid_ = -1;
      close_fds();
      throw std::runtime_error("posix_spawn " + argv[0] + " failed: " + std::to_string(rc));
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    close_fds();
  }

  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

  void write_stdin(const std::string& text) {
    if (in_ >= 0 && !text.empty()) (void)!::write(in_, text.data(), text.size());
  }
  void close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }

  // Reads output until `done(out, err)` holds, both pipes close, or the deadline passes.
  bool wait_for(const std::function<bool(const std::string&, const std::string&)>& done,
                std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done(out_text_, err_text_)) {
      if (out_ < 0 && err_ < 0) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return false;
      pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
      int n = ::poll(fds, 2, static_cast<int>(left.count()));
      if (n < 0 && errno != EINTR) return false;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        int& fd = i == 0 ? out_ : err_;
        if (got <= 0) {
          ::close(fd);
          fd = -1;
        } else {
          (i == 0 ? out_text_ : err_text_).append(buf, static_cast<std::size_t>(got));
        }
      }
    }
    return true;
  }
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
    return wait_for([&](const std::string& o, const std::string& e) {
      return o.find(needle) != std::string::npos || e.find(needle) != std::string::npos;
    }, timeout);
  }

  // Closes stdin, drains output and reaps the process; kills it at the deadline.
  Result finish(std::chrono::milliseconds timeout = 60s) {
    close_stdin();
    const auto deadline = Clock::now() + timeout;
    wait_for([](const std::string&, const std::string&) { return false; }, timeout);
    Result r;
    int st = 0;
    for (;;) {
      pid_t got = ::waitpid(pid_, &st, WNOHANG);
      if (got == pid_) break;
      if (Clock::now() >= deadline) {
        r.timed_out = true;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      // The pipes are closed but the process has not exited yet: wait briefly on it.
      pollfd none{-1, 0, 0};
      ::poll(&none, 0, 5);
    }
    pid_ = -1;
    r.status = r.timed_out ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = out_text_;
    r.err = err_text_;
    return r;
  }

 private:
  void close_fds() {
    for (int* fd : {&in_, &out_, &err_})
      if (*fd >= 0) ::close(*fd), *fd = -1;
  }
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_text_, err_text_;
};

// A private temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "oidc-cli-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const std::string& text, mode_t mode = 0600) {
  std::filesystem::create_directories(p.parent_path());
  { std::ofstream(p, std::ios::trunc) << text; }
  ::chmod(p.c_str(), mode);
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every token record (serialize_stored_token's JSON, format "oidc-token") under `dir`.
inline std::vector<std::filesystem::path> store_records(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    auto j = nlohmann::json::parse(read_file(e.path()), nullptr, false);
    if (j.is_object() && j.value("format", "") == "oidc-token") out.push_back(e.path());
  }
  return out;
}

// Makes every stored token look expired to the CLI (which uses the real clock): the record is
// JSON, {"format":"oidc-token","version":..,"key":{..},"token":{..,"expires_at":<unix s>}}, so the
// access token's expires_at is moved into the past. The refresh token is left as it is. Returns
// how many records were edited.
inline int expire_stored_tokens(const std::filesystem::path& dir) {
  int edited = 0;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& p : store_records(dir)) {
    auto j = nlohmann::json::parse(read_file(p));
    j["token"]["expires_at"] = now - 60;
    auto mode = std::filesystem::status(p).permissions();
    write_file(p, j.dump() + "\n", static_cast<mode_t>(mode));
    ++edited;
  }
  return edited;
}

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

// Whether `haystack` contains `needle` (for "the secret is not in the output" checks: an empty
// needle would make them vacuous, so it is refused).
inline bool contains(const std::string& haystack, const std::string& needle) {
  if (needle.empty()) throw std::logic_error("contains: empty needle");
  return haystack.find(needle) != std::string::npos;
}

}  // namespace oidc_cli_test
