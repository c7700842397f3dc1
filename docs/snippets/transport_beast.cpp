// run: local-provider
// docs/guides/custom-transport.md: an oidc::Transport on Boost.Beast and Boost.Asio SSL (Debian
// libboost-dev; link OpenSSL's libssl and libcrypto). Run against the embedded provider (argv[1] is
// its base URL, plain http on the loopback, which the library allows): a client credentials grant
// and discovery through it, and the contract's failures (cancelled, deadline, body cap, refused
// connection) each with its errc.
#include <oidc/oidc.hpp>

#include "check.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

// [beast]
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct BeastOptions {
  std::string ca_file;                             // PEM bundle; empty: the system's default paths
  std::chrono::milliseconds timeout{30000};        // cap on any request, whatever HttpRequest::timeout says
  std::size_t max_response_bytes = 1024 * 1024;    // body cap (errc::response_too_large)
  std::string user_agent = "oidc-cpp-beast";
};

class BeastClient {
 public:
  explicit BeastClient(BeastOptions options) : options_(std::move(options)), tls_(asio::ssl::context::tls_client) {
    tls_.set_verify_mode(asio::ssl::verify_peer);  // verification on: the peer's chain, below its host name
    if (options_.ca_file.empty()) {
      tls_.set_default_verify_paths();
    } else {
      tls_.load_verify_file(options_.ca_file);
    }
  }

  // The contract of oidc::Transport: any status is a response; anything short of a complete
  // response is an oidc::Error with a transport code and no body in its message.
  oidc::HttpResponse send(const oidc::HttpRequest& request) const {
    const Url url = parse_url(request.url);
    Exchange x{request, url, std::chrono::steady_clock::now() + std::min(request.timeout, options_.timeout)};
    x.step(oidc::errc::dns, [&](auto done) {
      x.resolver.async_resolve(url.host, url.port, [&x, done](beast::error_code ec, tcp::resolver::results_type r) {
        x.endpoints = std::move(r);
        done(ec);
      });
    });
    x.step(oidc::errc::connect, [&](auto done) { asio::async_connect(x.socket, x.endpoints, done); });
    if (!url.tls) return exchange(x, x.socket);

    asio::ssl::stream<tcp::socket&> stream(x.socket, tls_);
    // SNI, and the certificate must name the host (RFC 6125), not only chain to a trusted root.
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
      throw oidc::Error(oidc::errc::tls, x.operation, "could not set the TLS server name");
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    x.step(oidc::errc::tls, [&](auto done) { stream.async_handshake(asio::ssl::stream_base::client, done); });
    // No TLS shutdown: the response is complete by its framing, and a peer that never answers
    // close_notify would hold the caller until the deadline.
    return exchange(x, stream);
  }

 private:
  struct Url {
    bool tls = false;
    std::string host, port, target;
  };

  // scheme://host[:port]/path?query. Userinfo is refused: nothing in OAuth puts credentials there.
  static Url parse_url(const std::string& s) {
    Url u;
    std::size_t rest = 0;
    if (s.rfind("https://", 0) == 0) {
      u.tls = true;
      rest = 8;
    } else if (s.rfind("http://", 0) == 0) {
      rest = 7;
    } else {
      throw oidc::Error(oidc::errc::config, "HTTP request", "only http and https URLs are supported");
    }
    const std::size_t slash = std::min(s.find_first_of("/?#", rest), s.size());
    const std::string authority = s.substr(rest, slash - rest);
    u.target = slash < s.size() && s[slash] != '#' ? s.substr(slash, s.find('#', slash) - slash) : "/";
    if (u.target.front() == '?') u.target.insert(0, "/");
    if (authority.find('@') != std::string::npos)
      throw oidc::Error(oidc::errc::invalid_request, "HTTP request", "credentials in a URL are not sent");
    const std::size_t close = authority.rfind(']');
    const std::size_t colon = authority.rfind(':');
    const bool has_port = colon != std::string::npos && (close == std::string::npos || colon > close);
    u.host = authority.substr(0, has_port ? colon : authority.size());
    if (!u.host.empty() && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);  // [::1]
    u.port = has_port ? authority.substr(colon + 1) : (u.tls ? "443" : "80");
    if (u.host.empty()) throw oidc::Error(oidc::errc::invalid_request, "HTTP request", "URL without host");
    return u;
  }

  // One request's I/O: every asynchronous step runs on a private io_context until it completes, the
  // request's deadline passes (errc::timeout) or its CancelToken fires (errc::cancelled). Either
  // closes the socket, which ends the operation in flight.
  struct Exchange {
    Exchange(const oidc::HttpRequest& r, const Url& u, std::chrono::steady_clock::time_point d)
        : request(r), url(u), deadline(d), operation(r.method + " " + (u.tls ? "https://" : "http://") + u.host) {}

    template <class Start>
    void step(oidc::errc failure, Start start) {
      bool done = false;
      beast::error_code ec;
      start([&](beast::error_code e, auto&&...) {
        ec = e;
        done = true;
      });
      std::optional<oidc::errc> aborted;
      io.restart();
      while (!done) {
        if (!aborted && request.cancel && request.cancel->cancelled()) aborted = oidc::errc::cancelled;
        if (!aborted && std::chrono::steady_clock::now() >= deadline) aborted = oidc::errc::timeout;
        if (aborted) {
          resolver.cancel();
          beast::error_code ignored;
          socket.close(ignored);
        }
        // Slices short enough that cancel() is seen promptly; a completion returns at once.
        io.run_one_for(std::chrono::milliseconds(50));
      }
      if (aborted) throw oidc::Error(*aborted, operation, *aborted == oidc::errc::timeout ? "deadline passed" : "cancelled");
      if (!ec) return;
      if (ec == http::error::body_limit)
        throw oidc::Error(oidc::errc::response_too_large, operation, "response body over the configured cap");
      if (ec.category() == http::make_error_code(http::error::end_of_stream).category())
        failure = oidc::errc::protocol;  // Beast's parser refused the framing
      throw oidc::Error(failure, operation, ec.message());
    }

    const oidc::HttpRequest& request;
    const Url& url;
    const std::chrono::steady_clock::time_point deadline;
    const std::string operation;  // method, scheme and host: the path and query may carry secrets
    asio::io_context io;
    tcp::resolver resolver{io};
    tcp::resolver::results_type endpoints;
    tcp::socket socket{io};
  };

  template <class Stream>
  oidc::HttpResponse exchange(Exchange& x, Stream& stream) const {
    const oidc::HttpRequest& request = x.request;
    http::request<http::string_body> req;
    req.method_string(request.method);  // validated as an RFC 9110 token by make_transport's adapter
    req.target(x.url.target);
    req.version(11);
    for (const auto& [name, value] : request.headers) req.insert(name, value);  // Headers refuses CR/LF
    if (!request.headers.contains("Host")) {  // a configured Host wins (seed 003 insists on one)
      const std::string host = x.url.host.find(':') == std::string::npos ? x.url.host : "[" + x.url.host + "]";
      req.set(http::field::host, x.url.port == (x.url.tls ? "443" : "80") ? host : host + ":" + x.url.port);
    }
    if (!request.headers.contains("User-Agent")) req.set(http::field::user_agent, options_.user_agent);
    if (request.method != "GET" || !request.body.empty()) {
      req.body() = request.body;
      req.prepare_payload();
    }
    x.step(oidc::errc::transport, [&](auto done) { http::async_write(stream, req, done); });

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    parser.header_limit(16 * 1024);
    x.step(oidc::errc::transport, [&](auto done) { http::async_read_header(stream, buffer, parser, done); });
    // Boost 1.74's parser applies body_limit to chunked and read-until-close bodies but not to an
    // announced Content-Length (measured: a 2866-byte body passed a limit of 16), so check it here.
    if (const auto length = parser.content_length(); length && *length > options_.max_response_bytes)
      throw oidc::Error(oidc::errc::response_too_large, x.operation, "response body over the configured cap");
    x.step(oidc::errc::transport, [&](auto done) { http::async_read(stream, buffer, parser, done); });

    const auto& res = parser.get();
    oidc::HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      const std::string name(field.name_string()), value(field.value());
      // No Accept-Encoding was sent, so an encoded body is not what was asked for (and would
      // dodge the body cap once decoded).
      if (beast::iequals(name, "Content-Encoding") && !beast::iequals(value, "identity"))
        throw oidc::Error(oidc::errc::protocol, x.operation, "unrequested Content-Encoding");
      try {
        out.headers.add(name, value);
      } catch (const oidc::Error&) {  // a control byte in a field: the framing cannot be trusted
        throw oidc::Error(oidc::errc::protocol, x.operation, "malformed response header field");
      }
    }
    out.body = std::move(parser.release().body());
    return out;
  }

  const BeastOptions options_;
  // Not modified after construction (SSL_new only reads it), so shared by concurrent requests;
  // mutable because asio::ssl::stream takes it by non-const reference.
  mutable asio::ssl::context tls_;
};

// make_transport's adapter checks every request (method, URL, header fields) before it gets here.
std::shared_ptr<oidc::Transport> make_beast_transport(BeastOptions options = {}) {
  auto client = std::make_shared<const BeastClient>(std::move(options));
  return oidc::make_transport([client](const oidc::HttpRequest& request) { return client->send(request); });
}
// [beast]

namespace {

// The request must fail with `want`; says what happened instead when it does not.
bool expect_failure(const std::shared_ptr<oidc::Transport>& transport, const oidc::HttpRequest& request,
                    oidc::errc want, const char* what) {
  try {
    const oidc::HttpResponse response = transport->send(request);
    std::cerr << what << ": got HTTP " << response.status << "\n";
  } catch (const oidc::Error& e) {
    if (e.code() == want) return true;
    std::cerr << what << ": " << e.what() << "\n";
  }
  return snippet::expect(false, what);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  bool ok = true;
  const std::string issuer = base_url + "/realms/core";

  // [use]
  oidc::ClientConfig cfg;
  cfg.client_id = "svc";
  cfg.client_secret = oidc::Secret("svc-secret");
  cfg.transport = make_beast_transport();
  const oidc::Client client = oidc::Client::discover(issuer, cfg);
  const oidc::Token token = client.client_credentials();
  // [use]
  ok = snippet::expect(!token.access_token.empty() && token.expiry.has_value(), "a token through Beast") && ok;
  ok = snippet::expect(client.config().token_endpoint == issuer + "/protocol/openid-connect/token", "discovery through Beast") && ok;

  const auto transport = make_beast_transport();
  oidc::HttpRequest get{"GET", issuer + "/.well-known/openid-configuration", {{"Accept", "application/json"}}, {}};
  const oidc::HttpResponse doc = transport->send(get);
  ok = snippet::expect(doc.ok() && doc.body.find("\"issuer\"") != std::string::npos, "a plain GET") && ok;
  oidc::HttpRequest missing = get;
  // The control server's 404 (the provider itself would record an unknown path as a client bug).
  const char* control = std::getenv("OIDC_PROVIDER_CONTROL");
  missing.url = std::string(control != nullptr ? control : base_url.c_str()) + "/no/such/path";
  ok = snippet::expect(transport->send(missing).status == 404, "a 404 is a response, not an error") && ok;

  oidc::HttpRequest cancelled = get;
  cancelled.cancel = oidc::CancelToken();
  cancelled.cancel->cancel();
  ok = expect_failure(transport, cancelled, oidc::errc::cancelled, "a cancelled request: errc::cancelled") && ok;

  oidc::HttpRequest late = get;
  late.timeout = std::chrono::milliseconds(0);
  ok = expect_failure(transport, late, oidc::errc::timeout, "a passed deadline: errc::timeout") && ok;

  BeastOptions small;
  small.max_response_bytes = 16;
  ok = expect_failure(make_beast_transport(small), get, oidc::errc::response_too_large, "the body cap") && ok;

  oidc::HttpRequest closed = get;
  closed.url = "http://127.0.0.1:1/";
  ok = expect_failure(transport, closed, oidc::errc::connect, "a refused connection: errc::connect") && ok;

  oidc::HttpRequest split = get;
  split.method = "GET /x HTTP/1.1\r\nX:";
  ok = expect_failure(transport, split, oidc::errc::invalid_request, "a method that would split the request") && ok;
  return ok ? 0 : 1;
}
