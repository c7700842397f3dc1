// The only translation unit that includes <curl/curl.h>.
#include "oidc/curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/failure.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"
#include "oidc/secret.hpp"

namespace oidc {
namespace {

struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

// Header lines carry credentials (Authorization), so they are wiped before being freed.
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept {
    static void* (*const volatile wipe)(void*, int, std::size_t) = std::memset;
    for (curl_slist* n = l; n; n = n->next) wipe(n->data, 0, std::strlen(n->data));
    curl_slist_free_all(l);
  }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f on each non-empty element of a comma-separated field value (RFC 9110 §5.6.1).
template <class F>
bool all_list_elements(std::string_view value, F f) {
  while (true) {
    const auto comma = value.find(',');
    const auto element = trim_ows(value.substr(0, comma));
    if (!element.empty() && !f(element)) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

// What the callbacks fill in during one transfer; lives in the pooled handle, so the callbacks'
// user pointers are set once per handle.
struct Transfer {
  HttpResponse response;
  std::size_t max_bytes = 0;
  bool too_large = false;
  bool header_complete = false;     // the blank line ending the final response's header section
  std::string protocol_error;       // why the response was refused; non-empty aborts the transfer
  std::string content_length;       // the value every Content-Length of this response must repeat
  const CancelToken* cancel = nullptr;
  bool cancelled = false;

  void start(std::size_t cap, const CancelToken* token) {
    response = HttpResponse{};
    max_bytes = cap;
    too_large = false;
    header_complete = false;
    protocol_error.clear();
    content_length.clear();
    cancel = token;
    cancelled = false;
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->response.body.size() + n > t->max_bytes) {
    // Keep the prefix up to the cap: an error body there may still name its OAuth error code.
    t->response.body.append(data, t->max_bytes - t->response.body.size());
    t->too_large = true;
    return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

// Checks one response header field; returns the reason to refuse the response, or "".
std::string check_response_field(Transfer& t, std::string_view name, std::string_view value) {
  if (!detail::is_valid_header_name(name)) return "malformed response header field name";
  if (!detail::is_valid_header_value(value))
    return "response header " + std::string(name) + " contains NUL, CR or another control byte";
  if (detail::iequals(name, "Content-Length")) {
    // RFC 9112 §6.3: differing lengths (in one list or across fields) make the framing unknowable.
    const bool ok = all_list_elements(value, [&](std::string_view v) {
      if (!std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
      if (t.content_length.empty()) t.content_length.assign(v);
      return t.content_length == v;
    });
    if (!ok || trim_ows(value).empty()) return "conflicting or malformed Content-Length";
  } else if (detail::iequals(name, "Content-Encoding")) {
    // No Accept-Encoding is sent, so the body must come as is; decoding is not enabled either.
    if (!all_list_elements(value, [](std::string_view v) { return detail::iequals(v, "identity"); }))
      return "unrequested Content-Encoding " + detail::printable(value, 32);
  } else if (detail::iequals(name, "Transfer-Encoding")) {
    if (!all_list_elements(value, [](std::string_view v) { return detail::iequals(v, "chunked"); }))
      return "unsupported Transfer-Encoding " + detail::printable(value, 32);
  }
  return {};
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  // libcurl hands over whole lines with their CRLF (or bare LF, which RFC 9112 §2.2 tolerates).
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after 100 Continue or a proxy CONNECT).
    t->response.headers = Headers{};
    t->header_complete = false;
    t->content_length.clear();
    return n;
  }
  if (line.empty()) {
    t->header_complete = true;
    return n;
  }
  std::string problem;
  const auto colon = line.find(':');
  if (line.front() == ' ' || line.front() == '\t') {
    problem = "obsolete line folding in a response header";
  } else if (colon == std::string_view::npos) {
    problem = "response header line without a colon";
  } else {
    const auto name = line.substr(0, colon);
    const auto value = trim_ows(line.substr(colon + 1));
    problem = check_response_field(*t, name, value);
    if (problem.empty()) t->response.headers.add(std::string(name), std::string(value));
  }
  if (problem.empty()) return n;
  t->protocol_error = std::move(problem);
  return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancel && t->cancel->cancelled()) {
    t->cancelled = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

// The "error" member of a body cut at the size cap, when it is the object's first member
// (`{"error":"invalid_client",...`). A SAX parse stops there, so the cut tail does not matter.
std::string leading_oauth_error(const std::string& prefix) {
  struct Sax : nlohmann::json_sax<nlohmann::json> {
    int events = 0;
    std::string code;
    bool null() override { return false; }
    bool boolean(bool) override { return false; }
    bool number_integer(number_integer_t) override { return false; }
    bool number_unsigned(number_unsigned_t) override { return false; }
    bool number_float(number_float_t, const string_t&) override { return false; }
    bool string(string_t& s) override {
      if (events == 2) code = s;
      return false;
    }
    bool binary(binary_t&) override { return false; }
    bool start_object(std::size_t) override { return ++events == 1; }
    bool key(string_t& k) override { return ++events == 2 && k == "error"; }
    bool end_object() override { return false; }
    bool start_array(std::size_t) override { return false; }
    bool end_array() override { return false; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  } sax;
  (void)nlohmann::json::sax_parse(prefix, &sax, nlohmann::json::input_format_t::json, false);
  return detail::is_oauth_error_code(sax.code) ? detail::printable(sax.code, 64) : std::string{};
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
    case CURLE_ABORTED_BY_CALLBACK:
      return errc::cancelled;
    // libcurl 7.88: NUL in a header or a header line without colon (WEIRD_SERVER_REPLY), fewer
    // body bytes than Content-Length before the close (PARTIAL_FILE). No status line ("Received
    // HTTP/0.9 when not allowed") and a malformed status code are UNSUPPORTED_PROTOCOL; see send().
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:
      return errc::protocol;
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

// An easy handle with what stays constant across its requests: options set once, the header list
// and URL of the last request (rebuilt only when they change), the callbacks' state.
struct PooledHandle {
  EasyHandle easy;
  Transfer transfer;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  Slist header_list;
  std::string url;
  long timeout_ms = -1;
  std::string scratch;  // one header line being compared; wiped after use
};

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlOptions options) : options_(std::move(options)) {
    // Thread-safe once-only initialisation (function-local static).
    static const CURLcode global_init = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (global_init != CURLE_OK)
      throw Error(errc::transport, "libcurl initialisation", curl_easy_strerror(global_init));
  }

  HttpResponse send(const HttpRequest& request) override {
    // Whatever built the request: nothing malformed reaches libcurl, which would truncate at NUL.
    detail::validate_request(request);
    if (request.cancel && request.cancel->cancelled())
      throw Error(errc::cancelled, operation_of(request), "request cancelled");

    std::unique_ptr<PooledHandle> h = acquire();
    Transfer& t = h->transfer;
    t.start(options_.max_response_bytes, request.cancel ? &*request.cancel : nullptr);
    h->error_buffer[0] = 0;
    prepare(*h, request);

    const CURLcode rc = curl_easy_perform(h->easy.get());
    long status = 0;
    curl_easy_getinfo(h->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || !t.header_complete) {
      // A failed handle may hold a broken connection; let it go rather than pool it.
      throw failure(*h, rc, static_cast<int>(status), operation_of(request));
    }
    t.response.status = static_cast<int>(status);
    HttpResponse out = std::move(t.response);
    release(std::move(h));
    return out;
  }

 private:
  static std::string operation_of(const HttpRequest& request) { return request.method + " " + request.url; }

  Error failure(PooledHandle& h, CURLcode rc, int status, const std::string& operation) const {
    Transfer& t = h.transfer;
    if (t.cancelled) return Error(errc::cancelled, operation, "request cancelled");
    if (!t.protocol_error.empty()) return Error(errc::protocol, operation, t.protocol_error);
    if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      // One message whichever limit tripped: CURLOPT_MAXFILESIZE on an announced Content-Length,
      // or on_body while streaming.
      Error::Details d{errc::response_too_large, operation,
                       "response body exceeds the " + std::to_string(options_.max_response_bytes) + "-byte limit",
                       0, std::nullopt, {}};
      // An OAuth error too long to read whole still says what it is (only a streamed prefix can:
      // MAXFILESIZE stops before any body byte).
      if (status >= 300) {
        auto code = leading_oauth_error(t.response.body);
        if (!code.empty()) {
          d.http_status = status;
          d.oauth = OAuthError{std::move(code), {}, {}};
        }
      }
      return Error(std::move(d));
    }
    if (rc == CURLE_OK) {  // !header_complete: the connection closed inside the header section
      return Error(errc::protocol, operation,
                   status == 0 ? "no HTTP status line" : "the response header section was cut short");
    }
    errc code = classify(rc);
    if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
      // Also what an unsupported URL scheme gives, before any connection; after one it is the
      // server's answer that is not HTTP (no status line, HTTP/0.9, a status code that is no number).
      char* ip = nullptr;
      curl_easy_getinfo(h.easy.get(), CURLINFO_PRIMARY_IP, &ip);
      if (ip && *ip) code = errc::protocol;
    }
    return Error(code, operation, std::string(h.error_buffer[0] ? h.error_buffer : curl_easy_strerror(rc)));
  }

  std::unique_ptr<PooledHandle> acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        auto h = std::move(idle_.back());
        idle_.pop_back();
        return h;
      }
    }
    auto h = std::make_unique<PooledHandle>();
    h->easy.reset(curl_easy_init());
    if (!h->easy) throw Error(errc::transport, "libcurl", "curl_easy_init failed");
    configure_once(*h);
    return h;
  }

  void release(std::unique_ptr<PooledHandle> h) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(h));
  }

  // Options that are the same for every request of this transport.
  void configure_once(PooledHandle& p) const {
    CURL* h = p.easy.get();
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // required for multi-threaded use
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, p.error_buffer);
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
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_bytes));
    // CURLOPT_ACCEPT_ENCODING stays unset: no Accept-Encoding is sent and nothing is decoded, and
    // on_header refuses any Content-Encoding. Were decoding enabled here, MAXFILESIZE would only
    // bound the encoded size; on_body sees decoded bytes, so its cap is the one that must stay.
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &p.transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &p.transfer);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &p.transfer);
  }

  // Options that vary per request; the URL, timeout and header list only when they changed.
  void prepare(PooledHandle& p, const HttpRequest& request) const {
    CURL* h = p.easy.get();
    if (p.url != request.url) {
      p.url = request.url;
      curl_easy_setopt(h, CURLOPT_URL, p.url.c_str());
    }
    const auto total = std::min(request.timeout, options_.timeout);
    const long timeout_ms = static_cast<long>(std::max<long long>(1, total.count()));
    if (p.timeout_ms != timeout_ms) {
      p.timeout_ms = timeout_ms;
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    }
    if (!same_header_list(p, request.headers)) {
      p.header_list = build_headers(request.headers);
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, p.header_list.get());
    }
    // The progress callback (cancellation) runs only for requests that can be cancelled.
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, request.cancel ? 0L : 1L);

    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, static_cast<char*>(nullptr));
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method == "POST" ? nullptr : request.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
    }
  }

  // The line libcurl gets for one field. A blank value needs "Name;": "Name:" would remove the field.
  static void header_line(std::string& out, const std::string& name, const std::string& value) {
    out.assign(name);
    if (trim_ows(value).empty()) {
      out += ';';
    } else {
      out += ": ";
      out += value;
    }
  }

  static bool wants_expect_override(const Headers& headers) { return !headers.contains("Expect"); }

  // Whether the handle's current list is exactly what `headers` would build.
  static bool same_header_list(PooledHandle& p, const Headers& headers) {
    const curl_slist* node = p.header_list.get();
    if (!node) return false;
    bool same = true;
    for (const auto& [name, value] : headers) {
      header_line(p.scratch, name, value);
      if (!node || p.scratch != node->data) {
        same = false;
        break;
      }
      node = node->next;
    }
    detail::secure_wipe(p.scratch);
    if (!same) return false;
    if (wants_expect_override(headers)) {
      if (!node || std::strcmp(node->data, "Expect:") != 0) return false;
      node = node->next;
    }
    return node == nullptr;
  }

  static Slist build_headers(const Headers& headers) {
    Slist list;
    std::string line;
    auto append = [&](const std::string& l) {
      curl_slist* next = curl_slist_append(list.get(), l.c_str());
      if (!next) throw Error(errc::transport, "libcurl", "out of memory building headers");
      (void)list.release();
      list.reset(next);
    };
    for (const auto& [name, value] : headers) {
      header_line(line, name, value);
      append(line);
    }
    detail::secure_wipe(line);
    // No "Expect: 100-continue" round trip for small form bodies.
    if (wants_expect_override(headers)) append("Expect:");
    return list;
  }

  const CurlOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<PooledHandle>> idle_;
};

}  // namespace

std::shared_ptr<Transport> make_curl_transport(CurlOptions options) {
  return std::make_shared<CurlTransport>(std::move(options));
}

}  // namespace oidc
