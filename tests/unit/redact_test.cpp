#include "oidc/detail/redact.hpp"

#include <gtest/gtest.h>

using oidc::detail::redacted_snippet;

// The body is scanned, not parsed (and re-serialised): the excerpt keeps the server's member order.
TEST(RedactedSnippet, MasksCredentialMembersOfJson) {
  const auto s = redacted_snippet(R"({"access_token":"abc","refresh_token":"def","note":"hi","id_token":"x"})", {});
  EXPECT_EQ(s, R"({"access_token":"[redacted]","refresh_token":"[redacted]","note":"hi","id_token":"[redacted]"})");
}

TEST(RedactedSnippet, MasksSentSecretsAndLongTokenRuns) {
  const auto s = redacted_snippet("user pw=hunter2 token=abcdefghijabcdefghijabcdefghij end", {"hunter2"});
  EXPECT_EQ(s, "user pw=[redacted] token=[redacted] end");
}

TEST(RedactedSnippet, KeepsWordsAndCollapsesWhitespaceToOneLine) {
  EXPECT_EQ(redacted_snippet("<h1>Service\n\n  Unavailable</h1>\r\n", {}), "<h1>Service Unavailable</h1> ");
}

TEST(RedactedSnippet, TruncatesLongBodies) {
  // The whole body is masked before the cut, so these two runs are all of it: no ellipsis.
  const auto s = redacted_snippet(std::string(300, 'a') + " " + std::string(5000, 'b'), {}, 50);
  EXPECT_EQ(s, "[redacted] [redacted]");
  const auto cut = redacted_snippet(std::string(300, 'a') + " " + std::string(100, 'c') + " tail words here", {}, 25);
  EXPECT_EQ(cut, "[redacted] [redacted] tai...");
  const auto words = redacted_snippet(std::string(2000, ' ') + "word word word word word word", {}, 10);
  EXPECT_LE(words.size(), 13u);
}

TEST(RedactedSnippet, ControlCharactersAreEscaped) {
  EXPECT_EQ(redacted_snippet(std::string("a\x01" "b"), {}), "a\\x01b");
}

// Found by fuzz_redact: percent-decoding reads "%4A%2BA" as "J+A", so a form-encoded secret after a
// stray '%' escaped both the decoded and the literal search. Encoded forms are searched as they are.
TEST(RedactedSnippet, FormEncodedSecretAfterAStrayPercentIsMasked) {
  const std::vector<std::string_view> secrets{"4A+A"};
  EXPECT_EQ(oidc::detail::redacted_snippet("x=%4A%2BA", secrets), "x=%[redacted]");
  EXPECT_EQ(oidc::detail::redacted_snippet("x=%4A%2bA", secrets), "x=%[redacted]");
}

// Found by fuzz_redact: a stray backslash before a JSON-escaped secret shifts the unescaping
// layer's pairs, so the escaped form is searched as it is too.
TEST(RedactedSnippet, JsonEscapedSecretAfterAStrayBackslashIsMasked) {
  const std::vector<std::string_view> secrets{std::string_view("\\\\\0Q", 4)};
  EXPECT_EQ(oidc::detail::redacted_snippet(R"(x=\\\\\\u0000Q)", secrets), R"(x=\\[redacted])");
}
