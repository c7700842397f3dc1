// oidc_local_provider: the embedded provider (local_provider.hpp) as a process, for tests that
// drive another executable (the oidc-token CLI) against it.
//
// Prints one line, `ready <provider_base_url> <control_base_url>`, on stdout, then serves until
// stdin reaches end of file or SIGTERM/SIGINT arrives. LocalProvider answers every path itself, so
// test control is a second loopback server (cpp-httplib) whose endpoints map onto its public API:
//
//   POST /approve?user_code=X[&user=alice]   approve a pending device code (404 if none)
//   GET  /pending                            {"user_codes": [...]}
//   POST /auto_approve?polls=N               auto_approve_after_polls(N) (negative: off)
//   POST /slow_down?on=1|0                   enforce_slow_down
//   POST /device?interval=N&expires_in=M     device polling interval / code lifetime
//   POST /advance?seconds=N                  advance_clock
//   POST /client  {json}                     add_client (realm, client_id, secret, grant_types,
//                                            expires_in, refresh_expires_in, required_host,
//                                            issue_refresh_token, default_scope)
//   POST /user?realm=R&username=U&password=P   add_user
//   POST /enqueue {"path", "status", "body", "content_type"}   a canned response (FIFO per path)
//   GET  /counts                             {"token": {grant_type: n}, "revocation": n,
//                                             "device_authorization": n, "rejections": n}
//   GET  /requests                           every recorded request (method, path, headers, form)
//   POST /clear                              clear_requests
//   GET  /echo                               answers the request's Authorization header as body
//                                            (a resource server for `oidc-token curl`)
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "local_provider.hpp"

namespace {

using oidc_testing::ClientRegistration;
using oidc_testing::LocalProvider;
using Json = nlohmann::json;

int int_param(const httplib::Request& req, const char* name, int fallback) {
  if (!req.has_param(name)) return fallback;
  try {
    return std::stoi(req.get_param_value(name));
  } catch (const std::exception&) {
    return fallback;
  }
}

void reply(httplib::Response& res, const Json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

Json counts(const LocalProvider& provider) {
  Json token = Json::object();
  int revocation = 0, device = 0;
  for (const auto& r : provider.requests()) {
    const auto& p = r.path;
    auto ends_with = [&p](const std::string& tail) {
      return p.size() >= tail.size() && p.compare(p.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (ends_with("/revoke")) {
      ++revocation;
    } else if (ends_with("/auth/device") || ends_with("/device_authorization")) {
      ++device;
    } else if (ends_with("/token")) {
      auto grant = r.form_value("grant_type").value_or("");
      token[grant] = token.value(grant, 0) + 1;
    }
  }
  return {{"token", token},
          {"revocation", revocation},
          {"device_authorization", device},
          {"rejections", provider.rejections().size()}};
}

Json recorded(const LocalProvider& provider) {
  Json out = Json::array();
  for (const auto& r : provider.requests()) {
    Json headers = Json::array();
    for (const auto& h : r.headers) headers.push_back({h.first, h.second});
    Json form = Json::array();
    for (const auto& f : r.form) form.push_back({f.first, f.second});
    out.push_back({{"method", r.method}, {"path", r.path}, {"headers", headers}, {"form", form}});
  }
  return out;
}

void add_routes(httplib::Server& control, LocalProvider& provider) {
  control.Post("/approve", [&](const httplib::Request& req, httplib::Response& res) {
    auto user = req.has_param("user") ? req.get_param_value("user") : std::string(LocalProvider::kAliceUsername);
    bool ok = provider.approve(req.get_param_value("user_code"), user);
    reply(res, {{"approved", ok}}, ok ? 200 : 404);
  });
  control.Get("/pending", [&](const httplib::Request&, httplib::Response& res) {
    reply(res, {{"user_codes", provider.pending_user_codes()}});
  });
  control.Post("/auto_approve", [&](const httplib::Request& req, httplib::Response& res) {
    provider.auto_approve_after_polls(int_param(req, "polls", -1));
    reply(res, Json::object());
  });
  control.Post("/slow_down", [&](const httplib::Request& req, httplib::Response& res) {
    provider.enforce_slow_down(int_param(req, "on", 1) != 0);
    reply(res, Json::object());
  });
  control.Post("/device", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("interval")) provider.set_device_poll_interval(int_param(req, "interval", 5));
    if (req.has_param("expires_in")) provider.set_device_code_expires_in(int_param(req, "expires_in", 600));
    reply(res, Json::object());
  });
  control.Post("/advance", [&](const httplib::Request& req, httplib::Response& res) {
    provider.advance_clock(std::chrono::seconds(int_param(req, "seconds", 0)));
    reply(res, Json::object());
  });
  control.Post("/client", [&](const httplib::Request& req, httplib::Response& res) {
    auto j = Json::parse(req.body, nullptr, false);
    if (!j.is_object()) return reply(res, {{"error", "body is not a JSON object"}}, 400);
    ClientRegistration c;
    c.realm = j.value("realm", std::string(LocalProvider::kCoreRealm));
    c.client_id = j.value("client_id", std::string());
    c.secret = j.value("secret", std::string());
    c.grant_types = j.value("grant_types", std::vector<std::string>{});
    c.expires_in = j.value("expires_in", 300);
    c.refresh_expires_in = j.value("refresh_expires_in", 1800);
    c.required_host = j.value("required_host", std::string());
    c.issue_refresh_token = j.value("issue_refresh_token", true);
    c.default_scope = j.value("default_scope", std::string());
    provider.add_client(std::move(c));
    reply(res, Json::object());
  });
  control.Post("/user", [&](const httplib::Request& req, httplib::Response& res) {
    provider.add_user(req.get_param_value("realm"), req.get_param_value("username"), req.get_param_value("password"));
    reply(res, Json::object());
  });
  control.Post("/enqueue", [&](const httplib::Request& req, httplib::Response& res) {
    auto j = Json::parse(req.body, nullptr, false);
    if (!j.is_object()) return reply(res, {{"error", "body is not a JSON object"}}, 400);
    auto canned = LocalProvider::Response::json(j.value("status", 200), j.value("body", std::string()));
    canned.content_type = j.value("content_type", canned.content_type);
    provider.enqueue(j.value("path", std::string()), std::move(canned));
    reply(res, Json::object());
  });
  control.Get("/counts", [&](const httplib::Request&, httplib::Response& res) { reply(res, counts(provider)); });
  control.Get("/requests", [&](const httplib::Request&, httplib::Response& res) { reply(res, recorded(provider)); });
  control.Post("/clear", [&](const httplib::Request&, httplib::Response& res) {
    provider.clear_requests();
    reply(res, Json::object());
  });
  control.Get("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.get_header_value("Authorization"), "text/plain");
  });
}

}  // namespace

int main() {
  // Signals are taken synchronously by sigwait below: blocked before any thread starts, so
  // neither server thread is interrupted by them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Short keep-alive: the destructor waits that long for a client's idle connection.
  oidc_testing::LocalProviderOptions options;
  options.keep_alive_timeout_seconds = 2;
  LocalProvider provider(options);
  // The CLI polls on the real clock; the library's floor is 1 s.
  provider.set_device_poll_interval(1);

  httplib::Server control;
  add_routes(control, provider);
  int control_port = control.bind_to_any_port("127.0.0.1");
  if (control_port <= 0) {
    std::cerr << "oidc_local_provider: cannot bind the control server\n";
    return 1;
  }
  std::thread control_thread([&] { control.listen_after_bind(); });
  while (!control.is_running()) std::this_thread::yield();

  std::cout << "ready " << provider.base_url() << " http://127.0.0.1:" << control_port << std::endl;

  // End of stdin (the test closed its pipe or died) stops the provider like SIGTERM does.
  std::thread stdin_watch([] {
    char buf[256];
    while (::read(STDIN_FILENO, buf, sizeof buf) > 0) {
    }
    ::kill(::getpid(), SIGTERM);
  });
  stdin_watch.detach();

  int sig = 0;
  sigwait(&stop_signals, &sig);
  control.stop();
  control_thread.join();
  return 0;
}
