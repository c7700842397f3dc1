#include "terminal.hpp"

#include <unistd.h>

#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <oidc/time_format.hpp>

#ifdef OIDC_TOKEN_WITH_QRENCODE
#include <qrencode.h>
#endif

namespace oidc_token {

void message(const std::string& text) { std::cerr << "oidc-token: " << text << std::endl; }
void warn(const std::string& text) { message("warning: " + text); }

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

std::string relative(std::chrono::system_clock::time_point when, std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const bool past = when < now;
  auto s = duration_cast<seconds>(past ? now - when : when - now).count();
  std::string out;
  if (s >= 86400) out = std::to_string(s / 86400) + " d " + std::to_string(s % 86400 / 3600) + " h";
  else if (s >= 3600) out = std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
  else if (s >= 60) out = std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  else out = std::to_string(s) + " s";
  return past ? out + " ago" : "in " + out;
}

std::string expiry_text(const std::optional<std::chrono::system_clock::time_point>& when,
                        std::chrono::system_clock::time_point now) {
  if (!when) return "unknown";
  return oidc::format_utc(*when) + " (" + relative(*when, now) + ")";
}

std::string token_json(const oidc::Token& token, bool with_secrets, std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  nlohmann::json j = {{"token_type", token.type()},
                      {"scope", token.scope},
                      {"has_refresh_token", token.has_refresh_token()},
                      {"has_id_token", !token.id_token.empty()}};
  j["expires_at"] = token.expiry ? nlohmann::json(oidc::format_utc(*token.expiry)) : nlohmann::json();
  j["expires_in"] = token.expiry ? nlohmann::json(duration_cast<seconds>(*token.expiry - now).count()) : nlohmann::json();
  j["refresh_expires_at"] =
      token.refresh_expiry ? nlohmann::json(oidc::format_utc(*token.refresh_expiry)) : nlohmann::json();
  if (with_secrets) {
    j["access_token"] = token.access_token.expose();
    if (token.has_refresh_token()) j["refresh_token"] = token.refresh_token.expose();
    if (!token.id_token.empty()) j["id_token"] = token.id_token.expose();
  }
  // ensure_ascii: a server's scope or type cannot put terminal controls on stdout.
  return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

bool print_qr(const std::string& text) {
#ifdef OIDC_TOKEN_WITH_QRENCODE
  QRcode* code = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1);
  if (!code) return false;
  const int w = code->width, quiet = 2;
  auto dark = [&](int x, int y) {
    return x >= 0 && y >= 0 && x < w && y < w && (code->data[y * w + x] & 1) != 0;
  };
  // Two modules per character cell (upper and lower half blocks). Light modules and the quiet zone
  // are drawn, dark ones left as the (usually dark) background, so phones read it as printed.
  std::string out;
  for (int y = -quiet; y < w + quiet; y += 2) {
    for (int x = -quiet; x < w + quiet; ++x) {
      const bool top = dark(x, y), bottom = dark(x, y + 1);
      out += top ? (bottom ? " " : "\u2584") : (bottom ? "\u2580" : "\u2588");
    }
    out += '\n';
  }
  QRcode_free(code);
  std::cerr << out << std::flush;
  return true;
#else
  (void)text;
  return false;
#endif
}

Countdown::Countdown(std::chrono::system_clock::time_point expires_at)
    : expires_at_(expires_at), tty_(is_terminal(STDERR_FILENO)) {
  std::lock_guard<std::mutex> lock(mutex_);
  draw();
  if (!tty_) return;
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> held(mutex_);
    while (!stop_.wait_for(held, std::chrono::seconds{1}, [this] { return done_; })) draw();
  });
}

Countdown::~Countdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  stop_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (tty_) std::cerr << std::endl;
}

void Countdown::note(const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  note_ = text;
  draw();
}

void Countdown::draw() {
  using namespace std::chrono;
  const auto left = duration_cast<seconds>(expires_at_ - system_clock::now()).count();
  const std::string line = note_ + " (code expires in " + std::to_string(left < 0 ? 0 : left) + " s)";
  if (!tty_) {
    std::cerr << line << std::endl;
    return;
  }
  std::cerr << '\r' << line;
  if (line.size() < width_) std::cerr << std::string(width_ - line.size(), ' ');
  std::cerr << std::flush;
  width_ = line.size();
}

}  // namespace oidc_token
