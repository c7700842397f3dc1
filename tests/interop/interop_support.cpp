#include "interop_support.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace oidc_interop {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string form_component(const std::string& s) {
  std::string out;
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

RawResponse raw_request(const std::string& url, const std::string& ca_file, const std::string& form,
                        const std::string& basic_user, const std::string& basic_password) {
  CURL* h = curl_easy_init();
  if (!h) throw std::runtime_error("curl_easy_init failed");
  RawResponse r;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (!form.empty()) curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.c_str());
  // RFC 6749 §2.3.1: both parts form-encoded before Basic.
  const std::string user = form_component(basic_user), password = form_component(basic_password);
  if (!basic_user.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
  }
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("raw request to ") + url + ": " + curl_easy_strerror(rc));
  return r;
}

Provider::Provider() {
  const char* state = std::getenv("OIDC_INTEROP_STATE");
  if (!state || !*state)
    throw std::runtime_error(
        "OIDC_INTEROP_STATE is not set: run the interop suite through CTest (ctest -L interop), whose "
        "fixture starts oidc-provider");
  state_dir_ = state;
  const auto info = nlohmann::json::parse(read_file(state_dir_ + "/provider.json"));
  issuer_ = info.at("issuer").get<std::string>();
  ca_file_ = state_dir_ + "/ca.pem";
  const auto r = raw_request(issuer_ + "/.well-known/openid-configuration", ca_file_);
  if (r.status != 200) throw std::runtime_error("discovery answered HTTP " + std::to_string(r.status));
  metadata_ = nlohmann::json::parse(r.body);
}

const Provider& Provider::get() {
  static const Provider provider;  // a failure throws from every test that asks, not only the first
  return provider;
}

std::map<std::string, int> Provider::token_requests() const {
  const auto r = raw_request(issuer_ + "/__test/stats", ca_file_);
  if (r.status != 200) throw std::runtime_error("/__test/stats answered HTTP " + std::to_string(r.status));
  return nlohmann::json::parse(r.body).get<std::map<std::string, int>>();
}

nlohmann::json Provider::introspect(const std::string& token) const {
  const auto r = raw_request(endpoint("introspection_endpoint"), ca_file_, "token=" + form_component(token),
                             kResourceServer.id, kResourceServer.secret);
  if (r.status != 200) throw std::runtime_error("introspection answered HTTP " + std::to_string(r.status));
  return nlohmann::json::parse(r.body);
}

void Provider::revoke(const std::string& token, const ClientSpec& client) const {
  const std::string form = "token=" + form_component(token);
  const auto r = *client.secret
                     ? raw_request(endpoint("revocation_endpoint"), ca_file_, form, client.id, client.secret)
                     : raw_request(endpoint("revocation_endpoint"), ca_file_, form + "&client_id=" + client.id);
  if (r.status != 200) throw std::runtime_error("revocation answered HTTP " + std::to_string(r.status) + ": " + r.body);
}

}  // namespace oidc_interop
