#ifndef OIDC_TESTS_FAKE_TRANSPORT_HPP
#define OIDC_TESTS_FAKE_TRANSPORT_HPP

#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "oidc/detail/form.hpp"
#include "oidc/error.hpp"
#include "oidc/transport.hpp"

namespace oidc_testing {

inline oidc::HttpResponse json_response(int status, std::string body) {
  oidc::HttpResponse r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

// Answers from a script (FIFO) and records every request; a request beyond the script fails the
// test loudly instead of hanging.
class FakeTransport final : public oidc::Transport {
 public:
  using Step = std::variant<oidc::HttpResponse, oidc::Error>;

  void push(oidc::HttpResponse r) { locked([&] { script_.emplace_back(std::move(r)); }); }
  void push_json(int status, std::string body) { push(json_response(status, std::move(body))); }
  void push_error(oidc::Error e) { locked([&] { script_.emplace_back(std::move(e)); }); }

  oidc::HttpResponse send(const oidc::HttpRequest& request) override {
    std::unique_lock<std::mutex> lock(mutex_);
    requests_.push_back(request);
    if (script_.empty()) throw std::logic_error("FakeTransport: unexpected request to " + request.url);
    Step step = std::move(script_.front());
    script_.pop_front();
    lock.unlock();
    if (auto* e = std::get_if<oidc::Error>(&step)) throw *e;
    return std::get<oidc::HttpResponse>(std::move(step));
  }

  [[nodiscard]] std::vector<oidc::HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  [[nodiscard]] oidc::HttpRequest last() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (requests_.empty()) throw std::logic_error("FakeTransport: no request yet");
    return requests_.back();
  }
  [[nodiscard]] std::size_t request_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
  }

 private:
  template <class F>
  void locked(F f) {
    std::lock_guard<std::mutex> lock(mutex_);
    f();
  }
  mutable std::mutex mutex_;
  std::deque<Step> script_;
  std::vector<oidc::HttpRequest> requests_;
};

// The form fields of a recorded request, decoded.
inline oidc::Params form_of(const oidc::HttpRequest& r) { return oidc::detail::form_decode(r.body); }

}  // namespace oidc_testing

#endif  // OIDC_TESTS_FAKE_TRANSPORT_HPP
