#include "oidc/loopback.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

#include "oidc/client.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"

#ifdef OIDC_WITH_LOOPBACK
// Compiled with the macros of cpp-httplib's pkg-config file: Debian's httplib.h only declares a
// prebuilt libcpp-httplib, whose struct layouts (Request::ssl) depend on CPPHTTPLIB_OPENSSL_SUPPORT.
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "oidc/detail/form.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/secret.hpp"
#endif

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace oidc {

bool open_in_browser(const std::string& url) {
  const auto scheme_end = url.find("://");
  std::string scheme = url.substr(0, scheme_end == std::string::npos ? 0 : scheme_end);
  for (auto& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (scheme != "https" && scheme != "http")
    throw Error(errc::config, "open in browser", "only http and https URLs are opened in a browser");
#ifdef __APPLE__
  const char* program = "open";
#else
  const char* program = "xdg-open";
#endif
  // stdin and stdout go to /dev/null: a browser's chatter stays off the terminal, and a text-mode
  // browser cannot take the terminal over. stderr stays, for xdg-open's own complaints.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::string arg0 = program, arg1 = url;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::cerr << "Open this URL in your browser: " << detail::printable(url) << "\n" << std::flush;
    return false;
  }
  // Not waited for here (xdg-open may run the browser in the foreground), but reaped.
  std::thread([pid] {
    int status = 0;
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
  }).detach();
  return true;
}

Token loopback_login(const Client& client, AuthorizationOptions options, const LoopbackOptions& loopback) {
  if (!options.redirect_uri.empty())
    throw Error(errc::config, "loopback login", "options.redirect_uri must be empty: the loopback listener sets it");
  LoopbackListener listener(loopback);
  options.redirect_uri = listener.redirect_uri();
  if (!options.cancel) options.cancel = loopback.cancel;
  auto request = client.authorization_request(std::move(options));
  if (loopback.open_browser)
    loopback.open_browser(request.url());
  else
    open_in_browser(request.url());
  const auto callback = listener.wait_for_callback(request.state());
  return client.exchange_code(std::move(request), callback, loopback.cancel);
}

LoopbackListener::LoopbackListener(LoopbackListener&&) noexcept = default;
LoopbackListener& LoopbackListener::operator=(LoopbackListener&&) noexcept = default;
LoopbackListener::~LoopbackListener() = default;

#ifdef OIDC_WITH_LOOPBACK

namespace {

using steady = std::chrono::steady_clock;
const char* const operation = "loopback redirect";

// A browser's callback request is a few KiB (cookies for 127.0.0.1 included); anything beyond
// these bounds is refused, so a local client can neither exhaust memory nor hold a worker.
constexpr std::size_t max_request_bytes = 64 * 1024;               // request line and headers
constexpr auto request_deadline = std::chrono::seconds(10);        // for all of it
constexpr auto write_deadline = std::chrono::seconds(5);           // for each write of the answer
constexpr std::size_t worker_threads = 8;                          // connections served at once
constexpr std::chrono::milliseconds max_timeout = std::chrono::hours(24 * 365);  // no steady_clock overflow
// CancelToken cannot wake another condition variable, so a wait with one looks at it this often.
constexpr auto cancel_poll = std::chrono::milliseconds(20);

#ifdef MSG_NOSIGNAL
constexpr int send_flags = MSG_NOSIGNAL;
#else
constexpr int send_flags = 0;  // SO_NOSIGPIPE instead (macOS)
#endif

// Where the request handler leaves the callback URL it accepted; set by the worker thread that
// serves the connection, so the URL is published only after the browser got its page.
thread_local std::optional<std::string>* accepted_on_this_connection = nullptr;

std::string page(const char* title, const char* text) {
  return std::string("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>") + title +
         "</title></head>\n<body><p>" + text + "</p></body></html>\n";
}

// Fixed pages, chosen by status alone: nothing from a request is ever reflected.
std::string page_for(int status) {
  switch (status) {
    case 200: return page("Authorization response received", "The application has received the response. You may close this window.");
    case 400: return page("Unexpected request", "This is not the response the application is waiting for.");
    case 404: return page("Not found", "Not found.");
    case 405: return page("Method not allowed", "Only GET is served here.");
    case 503: return page("No longer waiting", "The application is no longer waiting for a response.");
    default: return page("Request refused", "The request could not be handled.");
  }
}

// Whether the raw query has a state parameter equal to `expected`. Lenient otherwise: the strict
// parse is exchange_code's, so a malformed response with the right state ends the wait with that
// error instead of leaving the user waiting for the timeout.
bool query_has_state(std::string_view query, std::string_view expected) {
  bool found = false;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto name = detail::form_decode_component_strict(pair.substr(0, eq));
    if (!name || *name != "state") continue;
    const auto value = detail::form_decode_component_strict(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (value && detail::constant_time_equal(*value, expected)) found = true;
  }
  return found;
}

std::string describe(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

void socket_address(socket_t sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> serv{};
  if ((peer ? getpeername(sock, sa, &len) : getsockname(sock, sa, &len)) == 0 &&
      getnameinfo(sa, len, host.data(), host.size(), serv.data(), serv.size(), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host.data();
    port = std::atoi(serv.data());
  }
}

// One connection's bytes for httplib's parser, bounded in total and by one deadline for the whole
// request rather than per read: a client trickling a byte at a time cannot outlast it.
class ConnectionStream final : public httplib::Stream {
 public:
  explicit ConnectionStream(socket_t sock) : sock_(sock), read_until_(steady::now() + request_deadline) {}

  bool is_readable() const override { return pos_ < end_ || ready(POLLIN, read_until_); }
  bool is_writable() const override { return ready(POLLOUT, steady::now() + write_deadline); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == end_) {
      if (budget_ == 0 || !ready(POLLIN, read_until_)) return -1;
      ssize_t n = 0;
      do n = ::recv(sock_, buffer_.data(), std::min(buffer_.size(), budget_), 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      budget_ -= static_cast<std::size_t>(n);
      pos_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    const auto n = std::min(size, end_ - pos_);
    std::memcpy(ptr, buffer_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n = 0;
    do n = ::send(sock_, ptr, size, send_flags);
    while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { socket_address(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { socket_address(sock_, false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  bool ready(short events, steady::time_point until) const {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
      if (left <= 0) return false;
      pollfd p{sock_, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000 * 60)));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
  }

  socket_t sock_;
  steady::time_point read_until_;
  std::size_t budget_ = max_request_bytes;
  std::array<char, 4096> buffer_{};
  std::size_t pos_ = 0, end_ = 0;
};

// httplib::Server's constructor ignores SIGPIPE for the whole process; the listener needs no such
// thing (it sends with MSG_NOSIGNAL / SO_NOSIGPIPE), so the application's disposition is put back.
struct SigpipeDisposition {
  SigpipeDisposition() { sigaction(SIGPIPE, nullptr, &saved); }
  void restore() const { sigaction(SIGPIPE, &saved, nullptr); }
  struct sigaction saved {};
};

// httplib's server with connections of our own making (ConnectionStream, one request each), which
// shut() can end at once; httplib's parser and response writer do the HTTP.
class CallbackServer final : private SigpipeDisposition, public httplib::Server {
 public:
  explicit CallbackServer(std::function<void(std::string)> publish) : publish_(std::move(publish)) {
    restore();
  }
  ~CallbackServer() override { shut(); }
  CallbackServer(const CallbackServer&) = delete;
  CallbackServer& operator=(const CallbackServer&) = delete;

  // Stops listening and ends every connection in progress; idempotent.
  void shut() {
    const socket_t listening = svr_sock_.exchange(INVALID_SOCKET);
    if (listening != INVALID_SOCKET) {
      ::shutdown(listening, SHUT_RDWR);  // wakes the accept() of the listening thread
      ::close(listening);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    for (const auto sock : connections_) ::shutdown(sock, SHUT_RDWR);
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) {
        ::close(sock);
        return false;
      }
      connections_.insert(sock);
    }
#ifdef SO_NOSIGPIPE
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_NOSIGPIPE, &yes, sizeof(yes));
#endif
    std::optional<std::string> accepted;
    accepted_on_this_connection = &accepted;
    ConnectionStream stream(sock);
    bool closed = true;
    const bool ok = process_request(stream, /*close_connection=*/true, closed, nullptr);
    accepted_on_this_connection = nullptr;
    {
      // Closed under the lock, so shut() never shuts down a descriptor number already reused.
      std::lock_guard<std::mutex> lock(mutex_);
      connections_.erase(sock);
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
    }
    if (accepted) publish_(std::move(*accepted));
    return ok;
  }

  std::function<void(std::string)> publish_;
  std::mutex mutex_;
  std::set<socket_t> connections_;
  bool stopping_ = false;
};

}  // namespace

struct OIDC_LOCAL LoopbackListener::Impl {
  explicit Impl(const LoopbackOptions& options)
      : timeout(std::clamp<std::chrono::milliseconds>(options.timeout, {}, max_timeout)),
        cancel(options.cancel),
        path(options.path),
        server([this](std::string url) { publish(std::move(url)); }) {
    int family = 0;
    std::string uri_host;
    if (options.host == "127.0.0.1") {
      family = AF_INET;
      uri_host = options.host;
    } else if (options.host == "::1") {
      family = AF_INET6;
      uri_host = "[::1]";
    } else {
      throw Error(errc::config, operation,
                  "the host must be 127.0.0.1 or ::1 (RFC 8252 §8.3), not '" + detail::printable(options.host, 64) + "'");
    }
    if (path.empty() || path[0] != '/' || path.size() > 1024 || !detail::is_vschar_string(path) ||
        path.find_first_of("?# ") != std::string::npos)
      throw Error(errc::config, operation, "the path must start with '/' and be printable ASCII without '?' or '#'");

    server.set_address_family(family);
    // httplib's default also sets SO_REUSEPORT, which would let another process of the same user
    // bind this port too and receive the redirect. SO_REUSEADDR only helps a fixed port rebind.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server.new_task_queue = [] { return new httplib::ThreadPool(worker_threads); };
    server.set_default_headers({{"Cache-Control", "no-store"},
                                {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
                                {"Referrer-Policy", "no-referrer"},
                                {"X-Content-Type-Options", "nosniff"}});
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      res.status = route(req);
      if (res.status == 200) res.set_content(page_for(200), "text/html; charset=utf-8");
      if (res.status == 405) res.set_header("Allow", "GET");
      return httplib::Server::HandlerResponse::Handled;
    });
    server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
      res.set_content(page_for(res.status), "text/html; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }));
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      res.status = 500;  // the default handler would echo what() in a header
    });

    errno = 0;
    int port = options.port;
    if (port == 0)
      port = server.bind_to_any_port(options.host, AI_NUMERICHOST);
    else if (!server.bind_to_port(options.host, port, AI_NUMERICHOST))
      port = -1;
    if (port <= 0) {
      const int e = errno;
      throw Error(errc::transport, operation,
                  "cannot listen on " + uri_host + ":" + std::to_string(options.port) +
                      (e != 0 ? std::string(" (") + std::strerror(e) + ")" : std::string()));
    }
    redirect_uri = "http://" + uri_host + ":" + std::to_string(port) + path;
    thread = std::thread([this] { server.listen_after_bind(); });
  }

  ~Impl() {
    close();
    if (thread.joinable()) thread.join();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // The request's status: 200 when it carries the awaited state (then the callback URL is left
  // for the connection to publish once answered).
  int route(const httplib::Request& req) {
    if (req.method != "GET") return 405;
    // The raw request target, never the Host header or httplib's decoded path.
    const std::string_view target = req.target;
    const auto q = target.find('?');
    if (target.substr(0, q) != path) return 404;
    const auto query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    std::string expected;
    {
      // A browser quicker than the application's call to wait_for_callback waits for the state.
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return !expected_state.empty() || closed; });
      if (expected_state.empty()) return 503;  // closed before anyone waited
      expected = expected_state;
    }
    if (!query_has_state(query, expected)) return 400;
    if (accepted_on_this_connection) *accepted_on_this_connection = redirect_uri + "?" + std::string(query);
    return 200;
  }

  void publish(std::string url) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (closed || result) return;
      result = std::move(url);
    }
    changed.notify_all();
  }

  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      closed = true;
    }
    changed.notify_all();
    server.shut();
  }

  std::string wait(const std::string& state) {
    if (!detail::is_vschar_string(state))
      throw Error(errc::config, operation, "the state to wait for is empty or not printable ASCII");
    std::unique_lock<std::mutex> lock(mutex);
    if (waited) throw Error(errc::config, operation, "wait_for_callback was already called on this listener");
    waited = true;
    expected_state = state;
    changed.notify_all();
    const auto deadline = steady::now() + timeout;
    while (!result) {
      if (cancel && cancel->cancelled()) {
        lock.unlock();
        close();
        throw Error(errc::cancelled, operation, "cancelled while waiting for the browser's redirect");
      }
      const auto now = steady::now();
      if (now >= deadline) {
        lock.unlock();
        close();
        throw Error(errc::deadline_exceeded, operation,
                    "no authorization response arrived within " + describe(timeout));
      }
      auto step = deadline - now;
      if (cancel) step = std::min<steady::duration>(step, cancel_poll);
      changed.wait_for(lock, step);
    }
    auto url = std::move(*result);
    lock.unlock();
    close();
    return url;
  }

  const std::chrono::milliseconds timeout;
  const std::optional<CancelToken> cancel;
  const std::string path;
  std::string redirect_uri;

  std::mutex mutex;
  std::condition_variable changed;  // expected_state, result or closed
  std::string expected_state;
  std::optional<std::string> result;
  bool waited = false, closed = false;

  CallbackServer server;  // after the state its handlers use
  std::thread thread;     // joined before the server goes
};

bool loopback_available() noexcept { return true; }

LoopbackListener::LoopbackListener(const LoopbackOptions& options) : impl_(std::make_unique<Impl>(options)) {}

const std::string& LoopbackListener::redirect_uri() const noexcept {
  static const std::string none;
  return impl_ ? impl_->redirect_uri : none;
}

std::string LoopbackListener::wait_for_callback(const std::string& state) {
  if (!impl_) throw Error(errc::config, operation, "this listener was moved from");
  return impl_->wait(state);
}

#else

struct LoopbackListener::Impl {};

namespace {
[[noreturn]] void no_loopback() {
  throw Error(errc::config, "loopback redirect",
              "the library was built without the loopback listener (OIDC_WITH_LOOPBACK=OFF)");
}
}  // namespace

bool loopback_available() noexcept { return false; }
LoopbackListener::LoopbackListener(const LoopbackOptions&) { no_loopback(); }
const std::string& LoopbackListener::redirect_uri() const noexcept {
  static const std::string none;
  return none;
}
std::string LoopbackListener::wait_for_callback(const std::string&) { no_loopback(); }

#endif

}  // namespace oidc
