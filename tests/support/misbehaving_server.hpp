#ifndef OIDC_TESTS_MISBEHAVING_SERVER_HPP
#define OIDC_TESTS_MISBEHAVING_SERVER_HPP

// An HTTP/1.1 server on raw POSIX sockets that answers each connection with scripted bytes, so
// tests can send what cpp-httplib never would: conflicting Content-Length, a header cut mid-line,
// NUL in a header, no status line, a stall. One connection at a time: it reads one request (up to
// the blank line, then Content-Length body bytes), records it, writes the next scripted Response
// (FIFO, then the default), and closes. Every wait is bounded; the destructor stops promptly,
// also mid-stall.
//
//   MisbehavingServer server;
//   server.push(MisbehavingServer::raw("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"));
//   server.push(MisbehavingServer::json(400, R"({"error":"invalid_grant"})", {{"X-Trace", "1"}}));
//   ... transport->send(request with url = server.url("/token")) ...
//   server.requests()[0].header("Accept-Encoding")

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace oidc_testing {

class MisbehavingServer {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  // What one connection gets: `bytes` as written, optionally paused once `stall` long after the
  // first `stall_at` bytes, and cut (closed) after `cut_after` bytes.
  struct Response {
    std::string bytes;
    std::size_t stall_at = 0;
    std::chrono::milliseconds stall{0};
    std::optional<std::size_t> cut_after;

    Response& cut(std::size_t n) {
      cut_after = n;
      return *this;
    }
    Response& stall_after(std::size_t n, std::chrono::milliseconds d) {
      stall_at = n;
      stall = d;
      return *this;
    }
  };

  // One request as received.
  struct Request {
    std::string raw;  // everything read, header section and body
    std::string method;
    std::string target;  // "/token?x=1"
    Fields headers;      // in order, as sent
    std::string body;

    [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
      for (const auto& [n, v] : headers)
        if (iequal(n, name)) return v;
      return std::nullopt;
    }
    [[nodiscard]] std::size_t header_count(std::string_view name) const {
      return static_cast<std::size_t>(
          std::count_if(headers.begin(), headers.end(), [&](const auto& f) { return iequal(f.first, name); }));
    }
  };

  static Response raw(std::string bytes) {
    Response r;
    r.bytes = std::move(bytes);
    return r;
  }

  // A well-formed response: status line, Content-Type: application/json, Content-Length,
  // Connection: close, then `extra_headers` (written verbatim, so they may be malformed), body.
  static Response json(int status, std::string body, const Fields& extra_headers = {}) {
    return raw(head(status, "application/json", body.size(), extra_headers) + body);
  }
  static Response text(int status, std::string content_type, std::string body, const Fields& extra_headers = {}) {
    return raw(head(status, content_type, body.size(), extra_headers) + body);
  }
  // Reads the request and never answers (until the server stops or `d` passes).
  static Response hang(std::chrono::milliseconds d = std::chrono::seconds(30)) {
    Response r;
    r.stall = d;
    return r;
  }

  explicit MisbehavingServer(Response default_response = json(200, "{}"))
      : default_(std::move(default_response)), listen_fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (listen_fd_ >= 0) ::close(listen_fd_);
      throw std::runtime_error("MisbehavingServer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~MisbehavingServer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    ::close(listen_fd_);
  }
  MisbehavingServer(const MisbehavingServer&) = delete;
  MisbehavingServer& operator=(const MisbehavingServer&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  // The next connection's answer; connections beyond the queue get the default.
  void push(Response r) {
    std::lock_guard<std::mutex> lock(mutex_);
    script_.push_back(std::move(r));
  }
  [[nodiscard]] std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  // Connections accepted, including those that sent no complete request.
  [[nodiscard]] std::size_t connections() const { return connections_.load(); }

  // Waits until `n` requests were recorded; false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  static constexpr std::chrono::milliseconds kPoll{50};           // how often the thread checks stop_
  static constexpr std::chrono::milliseconds kReadTimeout{5000};  // a request must arrive within this
  static constexpr std::size_t kMaxRequest = 1 << 20;

  static bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
             return lower(x) == lower(y);
           });
  }

  static std::string reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 400: return "Bad Request";
      case 401: return "Unauthorized";
      case 500: return "Internal Server Error";
      default: return "Status";
    }
  }

  static std::string head(int status, const std::string& content_type, std::size_t length, const Fields& extra) {
    std::string s = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
    s += "Content-Type: " + content_type + "\r\n";
    s += "Content-Length: " + std::to_string(length) + "\r\n";
    s += "Connection: close\r\n";
    for (const auto& [n, v] : extra) s += n + ": " + v + "\r\n";
    return s + "\r\n";
  }

  bool stopping() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop_;
  }

  // Waits until fd is readable (or writable), the server stops, or the deadline passes.
  bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) const {
    while (!stopping() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(kPoll.count()));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
    return false;
  }

  void run() {
    while (!stopping()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(kPoll.count())) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      serve(fd);
      ::close(fd);
    }
  }

  void serve(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + kReadTimeout;
    std::string in;
    char buf[4096];
    std::size_t header_end = std::string::npos, need = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = in.find("\r\n\r\n");
        if (header_end != std::string::npos) need = header_end + 4 + content_length(in.substr(0, header_end));
      }
      if (header_end != std::string::npos && in.size() >= need) break;
      if (in.size() > kMaxRequest || !wait_fd(fd, POLLIN, deadline)) return;
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
    }
    Response response;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(parse(in, header_end));
      if (script_.empty()) {
        response = default_;
      } else {
        response = std::move(script_.front());
        script_.pop_front();
      }
    }
    cv_.notify_all();
    std::string_view out = response.bytes;
    if (response.cut_after) out = out.substr(0, *response.cut_after);
    const auto first = std::min(response.stall_at, out.size());
    if (!write_all(fd, out.substr(0, first))) return;
    if (response.stall.count() > 0 && !stall(fd, response.stall)) return;
    if (!write_all(fd, out.substr(first))) return;
    ::shutdown(fd, SHUT_WR);
    // Drain what is already there, so close() sends FIN rather than RST.
    while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  }

  // Holds the connection for `d`; false when the server stops or the client hangs up first, so a
  // client that gave up does not keep the next connection waiting.
  bool stall(int fd, std::chrono::milliseconds d) const {
    const auto deadline = std::chrono::steady_clock::now() + d;
    char buf[512];
    while (std::chrono::steady_clock::now() < deadline) {
      if (stopping()) return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(kPoll.count())) <= 0) continue;
      if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
      const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      // A reset (ECONNRESET) is a hang-up too; only "nothing yet" keeps the connection held.
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return false;
    }
    return true;
  }

  bool write_all(int fd, std::string_view data) const {
    const auto deadline = std::chrono::steady_clock::now() + kReadTimeout;
    while (!data.empty()) {
      if (!wait_fd(fd, POLLOUT, deadline)) return false;
      const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  static std::size_t content_length(std::string_view head) {
    for (const auto& [n, v] : fields(head))
      if (iequal(n, "Content-Length")) {
        try {
          return static_cast<std::size_t>(std::stoul(v));
        } catch (const std::exception&) {
          return 0;  // not one of our requests; answer it anyway
        }
      }
    return 0;
  }

  static Fields fields(std::string_view head) {
    Fields out;
    auto pos = head.find("\r\n");
    while (pos != std::string_view::npos) {
      head.remove_prefix(pos + 2);
      pos = head.find("\r\n");
      const auto line = head.substr(0, pos);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      out.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return out;
  }

  static Request parse(const std::string& in, std::size_t header_end) {
    Request r;
    r.raw = in;
    const std::string_view head(in.data(), header_end);
    const auto line = head.substr(0, head.find("\r\n"));
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 + 1);
    r.method = std::string(line.substr(0, sp1));
    if (sp1 != std::string_view::npos) r.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    r.headers = fields(head);
    r.body = in.substr(header_end + 4);
    return r;
  }

  Response default_;
  int listen_fd_;
  int port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  bool stop_ = false;
  std::deque<Response> script_;
  std::vector<Request> requests_;
  std::atomic<std::size_t> connections_{0};
  std::thread thread_;
};

}  // namespace oidc_testing

#endif  // OIDC_TESTS_MISBEHAVING_SERVER_HPP
