#ifndef OIDC_HTTP_HPP
#define OIDC_HTTP_HPP

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"

namespace oidc {
namespace detail {

inline char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace detail

// HTTP header fields in order; names compare case-insensitively (RFC 9110 §5.1).
class Headers {
 public:
  using value_type = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<value_type> init) : fields_(init) {}

  // Replaces every field of that name.
  void set(std::string name, std::string value) {
    erase(name);
    fields_.emplace_back(std::move(name), std::move(value));
  }
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  void erase(std::string_view name) {
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const value_type& f) { return detail::iequals(f.first, name); }),
                  fields_.end());
  }
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const {
    for (const auto& f : fields_)
      if (detail::iequals(f.first, name)) return f.second;
    return std::nullopt;
  }
  [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }

  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept { return fields_.end(); }
  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }

 private:
  std::vector<value_type> fields_;
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  Headers headers;
  std::string body;
  // Total time allowed for this request, connect included; the transport also applies its own cap.
  std::chrono::milliseconds timeout{30000};
  // When set, cancel() aborts the request in flight (errc::cancelled); no allocation when unset.
  std::optional<CancelToken> cancel{};
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }
};

}  // namespace oidc

#endif  // OIDC_HTTP_HPP
