// What the tool prints: messages on stderr, server text escaped, the device login's progress.
#ifndef OIDC_TOKEN_TERMINAL_HPP
#define OIDC_TOKEN_TERMINAL_HPP

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <oidc/token.hpp>

namespace oidc_token {

// "oidc-token: <text>" on stderr. `text` must already be safe (library messages are; anything
// else from a server goes through oidc::detail::printable first).
void message(const std::string& text);
void warn(const std::string& text);  // "oidc-token: warning: <text>"

bool is_terminal(int fd);

// "in 4 min 10 s" / "2 h 3 min ago".
std::string relative(std::chrono::system_clock::time_point when, std::chrono::system_clock::time_point now);
// "2026-12-01T22:18:58Z (in 4 min 10 s)", or "unknown".
std::string expiry_text(const std::optional<std::chrono::system_clock::time_point>& when,
                        std::chrono::system_clock::time_point now);

// The token as one JSON object: metadata only, values only with `with_secrets`.
std::string token_json(const oidc::Token& token, bool with_secrets, std::chrono::system_clock::time_point now);

// A QR code of `text` in half-block characters on stderr; false when built without libqrencode
// or the text does not fit.
bool print_qr(const std::string& text);

// The device login's progress on stderr: "<note> (code expires in N s)". On a terminal one line,
// rewritten in place with \r every second; otherwise one plain line per note().
class Countdown {
 public:
  explicit Countdown(std::chrono::system_clock::time_point expires_at);
  Countdown(const Countdown&) = delete;
  Countdown& operator=(const Countdown&) = delete;
  ~Countdown();
  void note(const std::string& text);  // e.g. after each poll

 private:
  void draw();  // with mutex_ held
  const std::chrono::system_clock::time_point expires_at_;
  const bool tty_;
  std::string note_ = "waiting for approval...";
  std::size_t width_ = 0;  // of the last line, to blank what a shorter one leaves behind
  bool done_ = false;
  std::mutex mutex_;
  std::condition_variable stop_;
  std::thread ticker_;
};

}  // namespace oidc_token

#endif
