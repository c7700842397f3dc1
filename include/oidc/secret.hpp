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

/// A credential or token value: prints as "[redacted]", has no operator== (use equals(), constant
/// time), and wipes its buffer on destruction and reassignment. An empty Secret means "absent".
///
/// The wipe covers this object's own buffer only: copies made through expose() are the caller's
/// to handle. Not synchronised: share a const Secret between threads, not a mutable one.
class Secret {
 public:
  Secret() = default;
  /// Takes ownership of \p value; implicit so configs read naturally (`config.client_secret = "..."`).
  Secret(std::string value) : value_(std::move(value)) {}  // NOLINT
  /// Copies \p value; a null pointer gives an empty Secret.
  Secret(const char* value) : value_(value ? value : "") {}  // NOLINT
  Secret(const Secret&) = default;  ///< A second copy of the value, wiped on its own destruction.
  /// Takes the value and wipes whatever \p other kept, leaving it empty.
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { detail::secure_wipe(other.value_); }
  /// Wipes the old value, then copies \p other's.
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      detail::secure_wipe(value_);
      value_ = other.value_;
    }
    return *this;
  }
  /// Wipes the old value, takes \p other's and wipes what \p other kept, leaving it empty.
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      detail::secure_wipe(value_);
      value_ = std::move(other.value_);
      detail::secure_wipe(other.value_);
    }
    return *this;
  }
  ~Secret() { detail::secure_wipe(value_); }

  /// The plaintext value. The only way to read it: greppable, so every place that handles
  /// plaintext is visible. The reference is valid until this Secret is changed or destroyed.
  [[nodiscard]] const std::string& expose() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }  ///< Whether the secret is absent.
  explicit operator bool() const noexcept { return !value_.empty(); }  ///< Whether the secret is present.
  /// Compares with \p other in time that depends only on the two lengths, never on where the
  /// values first differ, so a timing side channel reveals no prefix.
  [[nodiscard]] bool equals(std::string_view other) const noexcept {
    return detail::constant_time_equal(value_, other);
  }

 private:
  std::string value_;
};

/// Prints "[redacted]", or "[empty]" for an empty Secret; never the value.
inline std::ostream& operator<<(std::ostream& os, const Secret& s) {
  return os << (s.empty() ? "[empty]" : "[redacted]");
}

}  // namespace oidc

#endif  // OIDC_SECRET_HPP
