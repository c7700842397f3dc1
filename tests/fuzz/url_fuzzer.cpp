// detail::require_secure_url / url_host on arbitrary bytes, checked against libcurl's own URL
// parser (the transport hands the URL to libcurl, so the host we vet must be the host it dials).
// Invariants for a URL we accept: no control byte (NUL included); when curl_url() parses it too, it
// names the same host (brackets, case and an IPv6 zone id aside, IP literals compared as
// addresses); a host we call loopback is loopback for libcurl too. A URL libcurl refuses is not a
// finding: the transport then fails the request, nothing is sent anywhere.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "fuzz_support.hpp"
#include "oidc/detail/url.hpp"
#include "oidc/error.hpp"

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = oidc::detail::ascii_lower(c);
  return out;
}

// Brackets and an IPv6 zone id ("%25eth0", which libcurl keeps apart from the host) removed.
std::string unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    host = host.substr(0, host.find('%'));
  }
  return lower(host);
}

// A canonical spelling: IP literals as inet_ntop prints them, names lowercased.
std::string canonical(std::string_view host) {
  const auto h = unbracket(host);
  char buf[INET6_ADDRSTRLEN];
  in6_addr a6{};
  if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) return inet_ntop(AF_INET6, &a6, buf, sizeof buf);
  in_addr a4{};
  if (inet_aton(h.c_str(), &a4) == 1) return inet_ntop(AF_INET, &a4, buf, sizeof buf);
  return h;
}

// What libcurl will connect to without asking DNS for something else: 127/8, ::1 (also
// IPv4-mapped), and "localhost" names, which libcurl resolves to loopback itself.
bool curl_loopback(std::string_view curl_host) {
  const auto h = unbracket(curl_host);
  in_addr a4{};
  if (inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
  }
  const std::string_view name = h;
  return name == "localhost" || (name.size() > 10 && name.substr(name.size() - 10) == ".localhost");
}

// The host libcurl parses out of `url`; false when libcurl refuses the URL.
bool curl_host(const std::string& url, std::string& host) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
  char* h = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &h, 0) != CURLUE_OK || !h) return false;
  host = h;
  curl_free(h);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks allow_insecure_http, so both policies are explored from one corpus.
  const bool allow_insecure_http = (data[0] & 1) != 0;
  const std::string url(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto host = std::string(oidc::detail::url_host(url));
  (void)oidc::detail::is_loopback_host(host);
  try {
    oidc::detail::require_secure_url(url, allow_insecure_http, "fuzz");
  } catch (const oidc::Error&) {
    return 0;
  }
  oidc_fuzz::check(!oidc_fuzz::has_control(url), "an accepted URL has no control byte", url);
  std::string theirs;
  if (!curl_host(url, theirs)) return 0;
  oidc_fuzz::check(canonical(host) == canonical(theirs), "libcurl names the same host as url_host()",
                   "ours: " + host + " libcurl: " + theirs + " url: " + url);
  if (oidc::detail::is_loopback_host(host))
    oidc_fuzz::check(curl_loopback(theirs), "a host we call loopback is loopback for libcurl",
                     "ours: " + host + " libcurl: " + theirs);
  return 0;
}
