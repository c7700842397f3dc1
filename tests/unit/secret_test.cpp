#include "oidc/secret.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>

using oidc::Secret;

TEST(Secret, PrintsRedacted) {
  std::ostringstream os;
  os << Secret("hunter2") << ' ' << Secret();
  EXPECT_EQ(os.str(), "[redacted] [empty]");
}

TEST(Secret, ExposesValueOnlyExplicitly) {
  const Secret s("hunter2");
  EXPECT_EQ(s.expose(), "hunter2");
  EXPECT_TRUE(s.equals("hunter2"));
  EXPECT_FALSE(s.equals("hunter3"));
  EXPECT_FALSE(s.equals("hunter"));
}

TEST(Secret, MovedFromIsEmpty) {
  Secret a("long enough to live on the heap, not in the short string buffer");
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the documented state
  EXPECT_EQ(b.expose(), "long enough to live on the heap, not in the short string buffer");
  Secret c("short");
  b = std::move(c);
  EXPECT_TRUE(c.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.expose(), "short");
}

template <class T, class = void>
struct has_equality : std::false_type {};
template <class T>
struct has_equality<T, std::void_t<decltype(std::declval<T>() == std::declval<T>())>> : std::true_type {};

TEST(Secret, HasNoOperatorEqualsThatCouldLeakTiming) { EXPECT_FALSE(has_equality<Secret>::value); }

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  using oidc::detail::constant_time_equal;
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}
