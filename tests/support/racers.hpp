// A fleet of racer processes (tests/support/redis_racer.cpp, store_racer.cpp) sharing one
// TokenStore: spawned with posix_spawn and driven over pipes, one byte per round on stdin,
// one answer line per round on stdout. Every read has a deadline, so a hung racer fails the
// caller instead of hanging it. Used by tests/integration/redis_fleet_test.cpp and
// benchmarks/redis_fleet_benchmark.cpp.
#ifndef OIDC_TESTS_SUPPORT_RACERS_HPP
#define OIDC_TESTS_SUPPORT_RACERS_HPP

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cstdio>
#include <exception>

#include "oidc/crypto.hpp"
#include "oidc/token_source.hpp"

extern char** environ;

namespace oidc_testing {

// What a racer prints for a token: the hex SHA-256 of its access token, never the token.
inline std::string racer_digest(std::string_view access_token) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : oidc::sha256(access_token)) {
    out += hex[c >> 4];
    out += hex[c & 0x0F];
  }
  return out;
}

// ---- The racer's side (in the racer programs).

// One line on stdout, flushed at once (the test reads it), in one write: the store's hooks may
// print from the source's renewal thread.
inline void racer_say(const std::string& line) {
  const std::string text = line + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// Says "ready", then for each byte on stdin drops the source's token and asks for one, printing
// its digest or "error <message>". Returns at end of input.
inline void racer_serve_rounds(oidc::TokenSource& source) {
  racer_say("ready");
  for (char go = 0; ::read(0, &go, 1) == 1;) {
    try {
      source.invalidate();
      racer_say(racer_digest(source.token()->access_token.expose()));
    } catch (const std::exception& e) {
      racer_say(std::string("error ") + e.what());
    }
  }
}

// ---- The test's side.

// One racer process: its stdin (a byte per round) and its stdout, read line by line.
class RacerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RacerProcess(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(in[0]);
      ::close(in[1]);
      throw std::runtime_error("pipe");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
    if (rc != 0) {
      pid_ = -1;
      close_fds();
      throw std::runtime_error("posix_spawn " + args.at(0) + ": " + std::strerror(rc));
    }
  }
  ~RacerProcess() { kill(); }
  RacerProcess(const RacerProcess&) = delete;
  RacerProcess& operator=(const RacerProcess&) = delete;
  RacerProcess(RacerProcess&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)),
        in_(std::exchange(o.in_, -1)),
        out_(std::exchange(o.out_, -1)),
        buffer_(std::move(o.buffer_)),
        eof_(o.eof_) {}
  RacerProcess& operator=(RacerProcess&&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }

  // Starts a round: one byte on its stdin.
  void go() const {
    const char c = 'g';
    if (in_ < 0 || ::write(in_, &c, 1) != 1) throw std::runtime_error("racer's stdin closed");
  }

  // The next line, or nullopt at end of output or at the deadline.
  std::optional<std::string> read_line(Clock::time_point deadline) {
    for (;;) {
      const auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || out_ < 0 || eof_) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      char chunk[4096];
      const ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // End of input: the racer finishes and exits. Returns its wait status, or nullopt when its output
  // had not ended by the deadline (it is then killed). Its output ends when it exits; what it still
  // printed is dropped.
  std::optional<int> finish(Clock::time_point deadline) {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
    while (read_line(deadline)) {
    }
    if (!eof_) {
      kill();
      return std::nullopt;
    }
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    close_fds();
    return r < 0 ? std::nullopt : std::optional<int>(status);
  }

  // SIGKILL and reap (a crash, or cleaning up after a failure).
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    close_fds();
  }

 private:
  void close_fds() {
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    in_ = out_ = -1;
  }

  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

// What one racer printed in a round: its answer (a digest or "error ...") and the lines before it.
struct RacerRound {
  std::string answer;                  // empty: no answer by the deadline
  std::vector<std::string> warnings;   // "warning ..." lines, without the prefix
  bool reattached = false;             // printed "reattached"
};

// N racers started with the same arguments.
class RacerFleet {
 public:
  using Clock = RacerProcess::Clock;

  RacerFleet(int n, const std::vector<std::string>& args) {
    racers_.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) racers_.emplace_back(args);
  }

  std::vector<RacerProcess>& racers() { return racers_; }
  [[nodiscard]] std::size_t size() const { return racers_.size(); }

  // Waits for every racer's "ready" line; false (and the first other line in \p seen) if one said
  // something else or nothing by the deadline.
  bool ready(Clock::time_point deadline, std::string* seen = nullptr) {
    for (auto& r : racers_) {
      const auto line = r.read_line(deadline);
      if (!line || *line != "ready") {
        if (seen) *seen = line.value_or("(nothing by the deadline)");
        return false;
      }
    }
    return true;
  }

  // One round: a byte to every racer first (so that they all ask at once), then every answer.
  std::vector<RacerRound> round(Clock::time_point deadline) {
    for (auto& r : racers_) r.go();
    std::vector<RacerRound> out(racers_.size());
    for (std::size_t i = 0; i < racers_.size(); ++i) {
      while (const auto line = racers_[i].read_line(deadline)) {
        if (line->rfind("warning ", 0) == 0) {
          out[i].warnings.push_back(line->substr(8));
        } else if (*line == "reattached") {
          out[i].reattached = true;
        } else {
          out[i].answer = *line;
          break;
        }
      }
    }
    return out;
  }

  // Ends every racer; the number that did not exit with status 0 by the deadline.
  int finish(Clock::time_point deadline) {
    int bad = 0;
    for (auto& r : racers_) {
      const auto status = r.finish(deadline);
      if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) ++bad;
    }
    return bad;
  }

 private:
  std::vector<RacerProcess> racers_;
};

}  // namespace oidc_testing

#endif  // OIDC_TESTS_SUPPORT_RACERS_HPP
