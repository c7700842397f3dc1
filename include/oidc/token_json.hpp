#ifndef OIDC_TOKEN_JSON_HPP
#define OIDC_TOKEN_JSON_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oidc/detail/json.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/token.hpp"

namespace oidc {

/// \file
/// Saving and restoring a Token as JSON (token_to_json, token_from_json, token_from_json_text).

/// Persisting tokens, say from TokenSourceOptions::on_token, so a device app keeps its refresh
/// token across restarts. Explicit functions rather than nlohmann's to_json/from_json hooks on
/// purpose: `json j = token;` must not silently put token values into something that gets logged.
/// The result holds credentials: store it like a password (file mode 0600, a keyring, ...).
///
/// Times are absolute (Unix seconds), so a restored token expires when the original would have.
inline nlohmann::json token_to_json(const Token& t) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  auto unix_seconds = [](Token::time_point p) { return duration_cast<seconds>(p.time_since_epoch()).count(); };
  nlohmann::json j = {{"access_token", t.access_token.expose()},
                      {"token_type", t.token_type},
                      {"scope", t.scope},
                      {"received_at", unix_seconds(t.received_at)},
                      {"extra", t.extra}};
  if (t.expiry) j["expires_at"] = unix_seconds(*t.expiry);
  if (t.has_refresh_token()) j["refresh_token"] = t.refresh_token.expose();
  if (t.refresh_expiry) j["refresh_expires_at"] = unix_seconds(*t.refresh_expiry);
  if (!t.id_token.empty()) j["id_token"] = t.id_token.expose();
  return j;
}

/// The inverse of token_to_json. Throws oidc::Error(errc::parse) when a member has the wrong type,
/// access_token is missing, a string breaks the rules server values must meet (detail::token_problem:
/// a saved file may have been edited, and access_token goes into headers), or a time is not a whole
/// number of seconds within [1970, detail::max_unix_seconds] (a time_point cannot hold more). The
/// message names the member, never a value.
inline Token token_from_json(const nlohmann::json& j) {
  auto fail = [](const std::string& why) -> Error { return Error(errc::parse, "restoring a saved token", why); };
  if (!j.is_object()) throw fail("not a JSON object");
  auto text = [&](const char* name) -> std::string {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) return {};
    if (!it->is_string()) throw fail(std::string(name) + " is not a string");
    return it->get<std::string>();
  };
  auto time = [&](const char* name) -> std::optional<Token::time_point> {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) throw fail(std::string(name) + " is not a whole number of seconds");
    // Range first: a uint64 above INT64_MAX must not be read as a negative int64.
    const bool in_range = it->is_number_unsigned()
                              ? it->get<std::uint64_t>() <= static_cast<std::uint64_t>(detail::max_unix_seconds)
                              : it->get<std::int64_t>() >= 0;
    const auto instant = in_range ? detail::unix_instant(it->get<std::int64_t>()) : std::nullopt;
    if (!instant) throw fail(std::string(name) + " is outside the range of a time point (1970 to year ~2250)");
    return instant;
  };
  Token t;
  t.access_token = text("access_token");
  if (t.access_token.empty()) throw fail("access_token is missing");
  t.token_type = text("token_type");
  t.scope = text("scope");
  t.refresh_token = text("refresh_token");
  t.id_token = text("id_token");
  if (const auto problem = detail::token_problem(t)) throw fail(*problem);
  t.expiry = time("expires_at");
  t.refresh_expiry = time("refresh_expires_at");
  t.received_at = time("received_at").value_or(Token::time_point{});
  if (const auto it = j.find("extra"); it != j.end() && it->is_object()) t.extra = *it;
  return t;
}

/// token_from_json of saved text (token_to_json(t).dump()), parsed with detail::parse_json: prefer
/// it to nlohmann::json::parse, whose documents have no depth limit. Throws oidc::Error(errc::parse)
/// for text that is not JSON, as well as for everything token_from_json refuses.
inline Token token_from_json_text(std::string_view text) {
  auto parsed = detail::parse_json(text);
  if (!parsed.ok()) throw Error(errc::parse, "restoring a saved token", "saved text: " + parsed.problem_quoting_nothing());
  return token_from_json(parsed.value);
}

}  // namespace oidc

#endif  // OIDC_TOKEN_JSON_HPP
