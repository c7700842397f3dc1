// A redis-server of the test's own on a loopback port: started, stopped, frozen and restarted by
// PID (never a system service), with a small hiredis client for looking at what the store wrote.
// Used by the Redis token store's tests and benchmark (docs/fleet.md).
#ifndef OIDC_TESTS_SUPPORT_REDIS_SERVER_HPP
#define OIDC_TESTS_SUPPORT_REDIS_SERVER_HPP

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace oidc_testing {

// The redis-server executable: $OIDC_REDIS_SERVER, else OIDC_REDIS_SERVER_PATH (CMake's
// find_program), else "redis-server" on PATH. Empty when none is there.
inline std::string redis_server_executable() {
  if (const char* env = std::getenv("OIDC_REDIS_SERVER"); env && *env) return env;
#ifdef OIDC_REDIS_SERVER_PATH
  if (::access(OIDC_REDIS_SERVER_PATH, X_OK) == 0) return OIDC_REDIS_SERVER_PATH;
#endif
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/usr/sbin"}) {
    const std::string path = std::string(dir) + "/redis-server";
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

// A port that was free a moment ago (bound to 127.0.0.1:0, then closed).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

using RedisReplyPtr = std::unique_ptr<redisReply, void (*)(void*)>;

// One synchronous connection, for tests to read and change what the store wrote.
class RedisClient {
 public:
  explicit RedisClient(int port) {
    timeval tv{2, 0};
    ctx_ = ::redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!ctx_ || ctx_->err) {
      const std::string why = ctx_ ? ctx_->errstr : "out of memory";
      if (ctx_) ::redisFree(ctx_);
      ctx_ = nullptr;
      throw std::runtime_error("connecting to the test Redis: " + why);
    }
    ::redisSetTimeout(ctx_, tv);
  }
  ~RedisClient() {
    if (ctx_) ::redisFree(ctx_);
  }
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command; throws on a transport failure (an error reply is returned as a reply).
  RedisReplyPtr run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    void* r = ::redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
    if (!r) throw std::runtime_error(std::string("test Redis command failed: ") + ctx_->errstr);
    return RedisReplyPtr(static_cast<redisReply*>(r), ::freeReplyObject);
  }
  // The string value of a key, or nullopt when absent.
  std::optional<std::string> get(const std::string& key) {
    auto r = run({"GET", key});
    if (r->type != REDIS_REPLY_STRING) return std::nullopt;
    return std::string(r->str, r->len);
  }
  long long integer(const std::vector<std::string>& args) {
    auto r = run(args);
    if (r->type != REDIS_REPLY_INTEGER) throw std::runtime_error("test Redis: no integer reply to " + args.at(0));
    return r->integer;
  }
  std::vector<std::string> keys(const std::string& pattern = "*") {
    auto r = run({"KEYS", pattern});
    std::vector<std::string> out;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i)
      out.emplace_back(r->element[i]->str, r->element[i]->len);
    return out;
  }

 private:
  redisContext* ctx_ = nullptr;
};

// A redis-server on 127.0.0.1 with no persistence (a restart is also a flush), owned by the test.
class RedisServer {
 public:
  // Starts one on a free port (or \p port) and waits until it answers PING.
  explicit RedisServer(int port = 0, std::vector<std::string> extra_args = {})
      : port_(port ? port : free_loopback_port()), extra_(std::move(extra_args)) {
    start();
  }
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool running() const { return pid_ > 0; }

  void start() {
    if (pid_ > 0) return;
    const std::string exe = redis_server_executable();
    if (exe.empty()) throw std::runtime_error("redis-server not found (Debian: apt-get install redis-server)");
    std::vector<std::string> args = {exe,        "--port",        std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save",   "",              "--appendonly",        "no",     "--daemonize",
                                     "no",       "--protected-mode", "yes",              "--dir",  "/tmp",
                                     "--logfile", ""};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("posix_spawn redis-server: " + std::string(std::strerror(rc)));
    }
    wait_until_ready();
  }

  // SIGKILL, then reaps it: every record, lease and fence is gone with it (no persistence).
  void stop() {
    if (pid_ <= 0) return;
    if (frozen_) ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    frozen_ = false;
  }
  void restart() {
    stop();
    start();
  }
  // SIGSTOP: connections are still accepted by the kernel, but nothing is answered (a hung or
  // overloaded server), until thaw().
  void freeze() {
    if (pid_ > 0 && !frozen_ && ::kill(pid_, SIGSTOP) == 0) frozen_ = true;
  }
  void thaw() {
    if (pid_ > 0 && frozen_ && ::kill(pid_, SIGCONT) == 0) frozen_ = false;
  }

  RedisClient client() const { return RedisClient(port_); }

 private:
  void wait_until_ready() {
    // Bounded: a server that does not answer in 20 s is a failed start, not a hang.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start (port " + std::to_string(port_) + " taken?)");
      }
      try {
        RedisClient c(port_);
        auto r = c.run({"PING"});
        if (r->type == REDIS_REPLY_STATUS && std::string(r->str, r->len) == "PONG") return;
      } catch (const std::exception&) {
      }
      if (std::chrono::steady_clock::now() > give_up) {
        stop();
        throw std::runtime_error("redis-server did not answer PING within 20 s");
      }
      // Polling a starting process: there is no event to wait on.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  int port_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  bool frozen_ = false;
};

}  // namespace oidc_testing

#endif  // OIDC_TESTS_SUPPORT_REDIS_SERVER_HPP
