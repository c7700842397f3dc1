// open_in_browser without a browser: with no xdg-open/open on PATH it must print the URL, escaped,
// and say that no browser started; and it opens nothing but http(s) URLs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "error_of.hpp"
#include "oidc/loopback.hpp"

namespace {

// PATH pointing nowhere for the test's duration, so posix_spawnp cannot find the program.
class NoBrowserOnPath {
 public:
  NoBrowserOnPath() {
    if (const char* p = std::getenv("PATH")) saved_ = p;
    setenv("PATH", "/nonexistent-oidc-test-dir", 1);
  }
  ~NoBrowserOnPath() {
    if (saved_)
      setenv("PATH", saved_->c_str(), 1);
    else
      unsetenv("PATH");
  }
  NoBrowserOnPath(const NoBrowserOnPath&) = delete;
  NoBrowserOnPath& operator=(const NoBrowserOnPath&) = delete;

 private:
  std::optional<std::string> saved_;
};

TEST(OpenInBrowser, WithoutABrowserProgramPrintsTheUrlEscaped) {
  NoBrowserOnPath no_browser;
  testing::internal::CaptureStderr();
  const bool started = oidc::open_in_browser("https://auth.example.com/authorize?state=a\x1b[2Jb\r\nc");
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(started);
  EXPECT_EQ(err, "Open this URL in your browser: https://auth.example.com/authorize?state=a\\x1b[2Jb\\x0d\\x0ac\n");
}

TEST(OpenInBrowser, OpensOnlyHttpAndHttpsUrls) {
  NoBrowserOnPath no_browser;  // should one slip through, nothing is launched
  for (const char* url : {"file:///etc/passwd", "javascript:alert(1)", "--help", "/tmp/x.html", "", "ftp://h/x"})
    EXPECT_EQ(oidc_testing::error_of([&] { (void)oidc::open_in_browser(url); }).code(), oidc::errc::config) << url;
  testing::internal::CaptureStderr();
  EXPECT_FALSE(oidc::open_in_browser("HTTP://127.0.0.1:1/x"));  // scheme case-insensitive
  (void)testing::internal::GetCapturedStderr();
}

}  // namespace
