#ifndef OIDC_TESTS_REDIRECT_BROWSER_HPP
#define OIDC_TESTS_REDIRECT_BROWSER_HPP

// The browser of the authorization code tests against the LocalProvider: one GET of the request
// URL with libcurl, redirects not followed, and the Location header exactly as the server sent it.
// libcurl rather than httplib::Client: httplib percent-decodes Location values (and re-encodes
// '+' in request paths), which would hide the provider's encoding from the test.
// Needs libcurl (the integration tests link it).
#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace oidc_testing {

struct BrowserResponse {
  long status = 0;
  std::string location;  // raw; empty when the answer had none
  std::string body;
};

inline BrowserResponse browser_get(const std::string& url) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  BrowserResponse out;
  auto on_body = +[](char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<BrowserResponse*>(user)->body.append(data, size * n);
    return size * n;
  };
  auto on_header = +[](char* data, std::size_t size, std::size_t n, void* user) {
    std::string_view line(data, size * n);
    constexpr std::string_view name = "location:";
    if (line.size() > name.size()) {
      bool match = true;
      for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = line[i] >= 'A' && line[i] <= 'Z' ? static_cast<char>(line[i] - 'A' + 'a') : line[i];
        match = match && c == name[i];
      }
      if (match) {
        auto value = line.substr(name.size());
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
          value.remove_suffix(1);
        static_cast<BrowserResponse*>(user)->location = std::string(value);
      }
    }
    return size * n;
  };
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &out);
  const auto rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) throw std::runtime_error(std::string("browser GET failed: ") + curl_easy_strerror(rc));
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

}  // namespace oidc_testing

#endif  // OIDC_TESTS_REDIRECT_BROWSER_HPP
