// detail::url_host / require_secure_url against libcurl's own URL parser (curl_url_set with the
// flags the easy interface uses): whenever we accept a URL, libcurl must connect to the same host,
// and whenever we call that host loopback, so must libcurl. Refusing is always allowed.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oidc/detail/url.hpp"

using oidc::detail::is_loopback_host;
using oidc::detail::printable;
using oidc::detail::require_secure_url;
using oidc::detail::url_host;

namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};

// The host libcurl would connect to, or nullopt when it refuses the URL. Same flags as
// lib/url.c (parseurlandfillconn) in libcurl 7.88.
std::optional<std::string> curl_host(const std::string& url) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return std::nullopt;
  char* host = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || !host) return std::nullopt;
  std::string out(host);
  curl_free(host);
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = oidc::detail::ascii_lower(c);
  return s;
}

// Loopback as the resolver would see libcurl's host: written independently of url.hpp.
bool curl_host_is_loopback(const std::string& host) {
  if (lower(host) == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr v6{};
    const std::string inner = host.substr(1, host.size() - 2);
    return inet_pton(AF_INET6, inner.c_str(), &v6) == 1 && std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  return false;
}

std::vector<std::string> corpus() {
  std::vector<std::string> urls{
      "http://localhost/", "http://127.0.0.1:8080/token", "http://[::1]:9/", "https://auth.example.com/t",
      "http://a@b@host/", "http://a@b@127.0.0.1/", "http://127.0.0.1@evil.com/", "http://evil.com@127.0.0.1/",
      "http://127.0.0.1:80@evil.com/", "http://evil.com#@127.0.0.1/", "http://evil.com?@127.0.0.1/",
      "http://evil.com/@127.0.0.1/", "http://evil.com\\@127.0.0.1/", "http://127.0.0.1\\@evil.com/",
      "http:/127.0.0.1/", "http:///127.0.0.1/", "http:////127.0.0.1/", "http:127.0.0.1/", "HTTP://127.0.0.1/",
      "hTtPs://Example.COM/", "http://localhost./", "http://LOCALHOST/", "http://localhost.evil.com/",
      "http://evil.localhost/", "http://127.0.0.1.evil.com/", "http://127.0.0.1./", "http://0x7f.0.0.1/",
      "http://0x7f000001/", "http://2130706433/", "http://017700000001/", "http://0177.0.0.1/", "http://127.1/",
      "http://127.0.1/", "http://127.000.000.001/", "http://127.0.0.01/", "http://256.0.0.1/", "http://0/",
      "http://012/", "http://1.2.3.4.5/", "http://foo.0x10/", "http://1e1/", "http://[::1%25lo]/",
      "http://[::1%lo]/", "http://[fe80::1%25eth0]:80/", "http://[0:0::1]/", "http://[0:0:0:0:0:0:0:1]/",
      "http://[::0:1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::127.0.0.1]/",
      "http://[::1:2]/", "http://[::ABCD]/", "http://[::abcd:1]/", "http://[1:2:3:4:5:6:7:8]/",
      "http://[1:2:3:4:5:6::8]/", "http://[1:0:0:2::3]/", "http://[1::2:0:0:3]/", "http://[2001:db8::1]/",
      "http://[2001:DB8::1]/", "http://[::]/", "http://[::1]x/", "http://[::1]:/", "http://[::1]]/",
      "http://[[::1]]/", "http://[v1.x]/", "http://%6c%6f%63alhost/", "http://%31%32%37.0.0.1/",
      "http://exa%2Emple.com/", "http://127.0.0.1%00.evil.com/", "http://host:/", "http://host:0/",
      "http://host:080/", "http://host:65535/", "http://host:65536/", "http://host:99999/", "http://host:+80/",
      "http://host:8O/", "http://host:80:80/", "http://ho_st/", "http://a..b/", "http://.a/", "http://a-/",
      "http://-a/", "http://a;b@h/", "http://h;x/", "http://u:p@h:1/p?q#f", "http://:p@h/", "http://@h/",
      "http://h?x", "http://h#x", "http://h", "https://h./", "http://[::1]", "http://localhost:1",
      "http://xn--nxasmq6b.com/", "http://1password.com/", "http://a.b.c.d.e.f/", "http://!$&'()*+,;=@h/",
      "http://u%40x@h/", "http://h/%00", "https:evil.com", "ftp://127.0.0.1/", "file:///etc/passwd",
  };
  // Generated: every combination of these parts.
  const std::vector<std::string> schemes{"http://", "HTTPS://", "http:/", "http:///"};
  const std::vector<std::string> users{"", "u@", "u:p@", "@", "a@b@", "127.0.0.1@", "localhost:80@", "u%40@"};
  const std::vector<std::string> hosts{
      "localhost", "LocalHost", "localhost.", "127.0.0.1", "127.10.0.3", "127.1", "0x7f.0.0.1", "2130706433",
      "0177.0.0.1", "127.0.0.1.", "127.0.0.1.evil.com", "[::1]", "[::1%25lo]", "[0::1]", "[::ffff:127.0.0.1]",
      "example.com", "example.com.", "exa%2emple.com", "%6c%6f%63alhost", "", "[::]", "[2001:db8::1]",
      "ho_st", "a..b", "256.1.1.1", "012", "0", "foo.0x10", "[::ABCD]", "10.0.0.1"};
  const std::vector<std::string> ports{"", ":80", ":", ":0", ":65536", ":080"};
  const std::vector<std::string> tails{"", "/", "/p?q#f", "?@127.0.0.1", "#@127.0.0.1", "/@127.0.0.1"};
  for (const auto& s : schemes)
    for (const auto& u : users)
      for (const auto& h : hosts)
        for (const auto& p : ports)
          for (const auto& t : tails) urls.push_back(s + u + h + p + t);
  return urls;
}

}  // namespace

TEST(UrlDifferential, OurHostIsLibcurlsHostWheneverWeAcceptAUrl) {
  std::size_t accepted = 0, refused = 0, loopback = 0, curl_loopback_we_refuse = 0;
  for (const auto& url : corpus()) {
    SCOPED_TRACE(url);
    const auto ours = url_host(url);
    const auto theirs = curl_host(url);
    if (ours.empty()) {
      ++refused;
      if (theirs && curl_host_is_loopback(*theirs)) ++curl_loopback_we_refuse;
      continue;
    }
    ++accepted;
    ASSERT_TRUE(theirs.has_value()) << "libcurl refuses a URL we accept";
    EXPECT_EQ(lower(std::string(ours)), lower(*theirs));
    if (is_loopback_host(ours)) {
      ++loopback;
      EXPECT_TRUE(curl_host_is_loopback(*theirs)) << "we call " << ours << " loopback, libcurl goes to " << *theirs;
    }
    // The policy decision itself: plain http passes only where libcurl's host is loopback.
    if (lower(url.substr(0, 7)) == "http://") {
      bool passes = true;
      try {
        require_secure_url(url, false, "op");
      } catch (const oidc::Error&) {
        passes = false;
      }
      if (passes) {
        EXPECT_TRUE(curl_host_is_loopback(*theirs));
      }
    }
  }
  std::cout << "[ measured ] " << accepted + refused << " URLs: " << accepted << " accepted (" << loopback
            << " loopback), " << refused << " refused, of which " << curl_loopback_we_refuse
            << " go to loopback in libcurl\n";
  // The corpus exercises both sides, and the strictness is real: libcurl maps some refused
  // spellings (0x7f.0.0.1, 2130706433, %6c...) to loopback.
  EXPECT_GT(accepted, 500u);
  EXPECT_GT(loopback, 100u);
  EXPECT_GT(refused, 1000u);
  EXPECT_GT(curl_loopback_we_refuse, 100u);
}

TEST(UrlDifferential, BytesLibcurlCannotSeeAreRefused) {
  // Given c_str(), libcurl stops at NUL: "http://s\0@[::1]" is a request to host "s".
  const std::string nul("http://s\0@[::1]/", 16);
  ASSERT_EQ(curl_host(nul), "s");
  EXPECT_EQ(url_host(nul), "");
  for (int b = 0; b < 256; ++b) {
    const bool plain = b > 0x20 && b < 0x7F && b != '\\';
    for (const std::string& url : {"http://127.0.0.1/" + std::string(1, static_cast<char>(b)),
                                   "http://u" + std::string(1, static_cast<char>(b)) + "@[::1]/",
                                   "http://local" + std::string(1, static_cast<char>(b)) + "host/"}) {
      if (!plain) {
        EXPECT_EQ(url_host(url), "") << printable(url);
      }
      const auto ours = url_host(url);
      if (ours.empty()) continue;
      const auto theirs = curl_host(url);
      ASSERT_TRUE(theirs.has_value()) << printable(url);
      EXPECT_EQ(lower(std::string(ours)), lower(*theirs)) << printable(url);
    }
  }
}
