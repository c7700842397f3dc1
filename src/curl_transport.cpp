// The only translation unit that includes <curl/curl.h>.
#include "oidc/curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "oidc/error.hpp"

namespace oidc {
namespace {

struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// What the write and header callbacks fill in during one transfer.
struct Transfer {
  HttpResponse response;
  std::size_t max_bytes = 0;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->response.body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers = Headers{};  // a new response (after 100 Continue or a proxy CONNECT)
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    t->response.headers.add(std::string(line.substr(0, colon)), std::string(value));
  }
  return n;
}

errc classify(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return errc::dns;
    case CURLE_COULDNT_CONNECT:
      return errc::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return errc::timeout;
    case CURLE_FILESIZE_EXCEEDED:
      return errc::response_too_large;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
      return errc::tls;
    default:
      return errc::transport;
  }
}

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlOptions options) : options_(std::move(options)) {
    // Thread-safe once-only initialisation (function-local static).
    static const CURLcode global_init = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (global_init != CURLE_OK)
      throw Error(errc::transport, "libcurl initialisation", curl_easy_strerror(global_init));
  }

  HttpResponse send(const HttpRequest& request) override {
    EasyHandle handle = acquire();
    Transfer transfer;
    transfer.max_bytes = options_.max_response_bytes;
    char error_buffer[CURL_ERROR_SIZE] = {0};
    Slist headers = build_headers(request);
    configure(handle.get(), request, headers.get(), transfer, error_buffer);

    const CURLcode rc = curl_easy_perform(handle.get());
    if (rc != CURLE_OK) {
      // A failed handle may hold a broken connection; let it go rather than pool it.
      const errc code = transfer.too_large ? errc::response_too_large : classify(rc);
      std::string detail = transfer.too_large
                               ? "response body exceeds " + std::to_string(options_.max_response_bytes) + " bytes"
                               : std::string(error_buffer[0] ? error_buffer : curl_easy_strerror(rc));
      throw Error(code, request.method + " " + request.url, std::move(detail));
    }
    long status = 0;
    curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = static_cast<int>(status);
    release(std::move(handle));
    return std::move(transfer.response);
  }

 private:
  EasyHandle acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        EasyHandle h = std::move(idle_.back());
        idle_.pop_back();
        return h;
      }
    }
    EasyHandle h(curl_easy_init());
    if (!h) throw Error(errc::transport, "libcurl", "curl_easy_init failed");
    return h;
  }

  void release(EasyHandle h) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(h));
  }

  static Slist build_headers(const HttpRequest& request) {
    curl_slist* list = nullptr;
    auto append = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(list, line.c_str());
      if (!next) {
        curl_slist_free_all(list);
        throw Error(errc::transport, "libcurl", "out of memory building headers");
      }
      list = next;
    };
    for (const auto& [name, value] : request.headers) append(name + ": " + value);
    // No "Expect: 100-continue" round trip for small form bodies.
    if (!request.headers.contains("Expect")) append("Expect:");
    return Slist(list);
  }

  void configure(CURL* h, const HttpRequest& request, curl_slist* headers, Transfer& transfer,
                 char* error_buffer) const {
    // Reset clears options but keeps the connection cache, so keep-alive survives.
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // required for multi-threaded use
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.ca_path.empty()) curl_easy_setopt(h, CURLOPT_CAPATH, options_.ca_path.c_str());
    if (!options_.proxy.empty()) curl_easy_setopt(h, CURLOPT_PROXY, options_.proxy.c_str());
    if (!options_.user_agent.empty()) curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    const auto total = std::min(request.timeout, options_.timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(1, total.count())));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_bytes));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      if (request.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  }

  const CurlOptions options_;
  std::mutex mutex_;
  std::vector<EasyHandle> idle_;
};

}  // namespace

std::shared_ptr<Transport> make_curl_transport(CurlOptions options) {
  return std::make_shared<CurlTransport>(std::move(options));
}

}  // namespace oidc
