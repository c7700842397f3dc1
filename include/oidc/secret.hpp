#ifndef OIDC_SECRET_HPP
#define OIDC_SECRET_HPP

#include <cstddef>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace oidc {
namespace detail {

// Overwrites the whole buffer (capacity, not just size: a moved-from short string keeps its bytes
// in the inline buffer). memset is called through a volatile function pointer, which the compiler
// cannot see through, so the stores cannot be dropped as dead; standard C++, and as fast as memset.
inline void secure_wipe(std::string& s) noexcept {
  static void* (*const volatile wipe)(void*, int, std::size_t) = std::memset;
  s.resize(s.capacity());
  wipe(s.data(), 0, s.size());
  s.clear();
}

// Runs in time that depends only on the lengths, never on where the inputs first differ.
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
  return diff == 0;
}

}  // namespace detail

// A credential or token value: prints as "[redacted]", has no operator== (use equals(), constant
// time), and wipes its buffer on destruction and reassignment. An empty Secret means "absent".
class Secret {
 public:
  Secret() = default;
  Secret(std::string value) : value_(std::move(value)) {}  // NOLINT: implicit so configs read naturally
  Secret(const char* value) : value_(value ? value : "") {}  // NOLINT
  Secret(const Secret&) = default;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { detail::secure_wipe(other.value_); }
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      detail::secure_wipe(value_);
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      detail::secure_wipe(value_);
      value_ = std::move(other.value_);
      detail::secure_wipe(other.value_);
    }
    return *this;
  }
  ~Secret() { detail::secure_wipe(value_); }

  // The only way to read the value: greppable, so every place that handles plaintext is visible.
  [[nodiscard]] const std::string& expose() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
  explicit operator bool() const noexcept { return !value_.empty(); }
  [[nodiscard]] bool equals(std::string_view other) const noexcept {
    return detail::constant_time_equal(value_, other);
  }

 private:
  std::string value_;
};

inline std::ostream& operator<<(std::ostream& os, const Secret& s) {
  return os << (s.empty() ? "[empty]" : "[redacted]");
}

}  // namespace oidc

#endif  // OIDC_SECRET_HPP
