#ifndef OIDC_DISCOVERY_HPP
#define OIDC_DISCOVERY_HPP

/// \file
/// OpenID Connect Discovery 1.0 and RFC 8414 authorization server metadata: from an issuer URL to
/// the endpoints and capabilities the client uses, every value through the validation boundary.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/client_auth.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/detail/request.hpp"
#include "oidc/detail/single_flight.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/endpoints.hpp"
#include "oidc/error.hpp"
#include "oidc/fetch_options.hpp"
#include "oidc/http.hpp"

namespace oidc {

/// How a document's issuer must relate to the configured one. The default is exact equality
/// (OIDC Discovery §4.3, RFC 8414 §3.3): no normalisation of case, trailing slash or port.
///
/// `IssuerPolicy::templated("{tenantid}")` is an explicit opt-in for multi-tenant endpoints whose
/// document names a template, as Entra ID's `https://login.microsoftonline.com/common/v2.0` does
/// with `"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"`. The template matches when
/// it contains the placeholder exactly once, as a whole path segment after the host, and replacing
/// it with the configured issuer's segment at that place gives the configured issuer exactly; that
/// segment must be a non-empty run of letters, digits, '.', '-' or '_'. An exact match is always
/// accepted too. ProviderMetadata::issuer then holds the template: an ID token's iss must be
/// checked against it with the token's own tenant (tid), never against the template text.
class IssuerPolicy {
 public:
  IssuerPolicy() = default;  ///< Exact equality.
  static IssuerPolicy exact() { return {}; }  ///< Exact equality, spelled out.
  /// A template policy for a placeholder such as `"{tenantid}"`.
  /// \throws oidc::Error `errc::config` unless the placeholder is "{name}" with a non-empty name of
  ///         letters, digits and '_'.
  static IssuerPolicy templated(std::string placeholder) {
    bool ok = placeholder.size() > 2 && placeholder.front() == '{' && placeholder.back() == '}';
    for (std::size_t i = 1; ok && i + 1 < placeholder.size(); ++i)
      ok = detail::is_alpha_digit(placeholder[i]) || placeholder[i] == '_';
    if (!ok) throw Error(errc::config, "issuer policy", "the placeholder must look like {tenantid}");
    IssuerPolicy p;
    p.placeholder_ = std::move(placeholder);
    return p;
  }

  [[nodiscard]] bool is_templated() const noexcept { return !placeholder_.empty(); }  ///< Made by templated().
  /// The placeholder, braces included; empty for exact().
  [[nodiscard]] const std::string& placeholder() const noexcept { return placeholder_; }

  /// Whether a document naming \p document_issuer may describe the \p configured issuer, by the
  /// rules above.
  [[nodiscard]] bool matches(std::string_view document_issuer, std::string_view configured) const {
    if (document_issuer == configured) return true;
    if (placeholder_.empty()) return false;
    const auto pos = document_issuer.find(placeholder_);
    if (pos == std::string_view::npos ||
        document_issuer.find(placeholder_, pos + placeholder_.size()) != std::string_view::npos)
      return false;
    const auto scheme_end = document_issuer.find("://");
    const auto host_end = scheme_end == std::string_view::npos ? scheme_end : document_issuer.find('/', scheme_end + 3);
    const auto after = pos + placeholder_.size();
    if (host_end == std::string_view::npos || pos <= host_end || document_issuer[pos - 1] != '/' ||
        (after < document_issuer.size() && document_issuer[after] != '/'))
      return false;
    const auto prefix = document_issuer.substr(0, pos);
    const auto suffix = document_issuer.substr(after);
    if (configured.size() <= prefix.size() + suffix.size() || configured.substr(0, prefix.size()) != prefix ||
        configured.substr(configured.size() - suffix.size()) != suffix)
      return false;
    const auto segment = configured.substr(prefix.size(), configured.size() - prefix.size() - suffix.size());
    for (char c : segment)
      if (!detail::is_alpha_digit(c) && c != '.' && c != '-' && c != '_') return false;
    return true;
  }

 private:
  std::string placeholder_;  // empty: exact
};

/// How discover() and DiscoveryCache fetch and judge a document: FetchOptions (transport, clock,
/// timeout, size limit, ...) plus the issuer rules.
struct DiscoveryOptions : FetchOptions {
  IssuerPolicy issuer_policy{};  ///< How the document's issuer must match the configured one; default exact.
  /// OIDC Discovery §3 requires response_types_supported, subject_types_supported and
  /// id_token_signing_alg_values_supported. discover() relaxes this for a document found at the
  /// RFC 8414 location, which serves plain OAuth servers too; parse_provider_metadata() applies it as set.
  bool require_openid_metadata = true;
};

/// What discovery found: the endpoints and capabilities (Endpoints' members, which keep the
/// metadata names), a few lists only discovery fills, and the whole document for anything else.
/// Every URL and list has passed the checks described at parse_provider_metadata().
struct ProviderMetadata : Endpoints {
  std::vector<std::string> subject_types_supported;   ///< OIDC Discovery §3: `public`, `pairwise`.
  std::vector<std::string> response_modes_supported;  ///< Such as `query`, `fragment`, `form_post`.
  std::vector<std::string> claims_supported;          ///< Claim names the server may supply.
  std::vector<std::string> introspection_endpoint_auth_methods_supported;  ///< RFC 8414 §2.
  std::vector<std::string> revocation_endpoint_auth_methods_supported;     ///< RFC 8414 §2.
  /// The document as received (within the JSON depth limit, no duplicate member); unknown members
  /// are only here, unvalidated.
  nlohmann::json raw = nlohmann::json::object();
};

namespace detail {

// Bounds of the capability lists: real ones hold a few dozen entries of a few dozen bytes.
inline constexpr std::size_t metadata_list_max_entries = 512;
inline constexpr std::size_t metadata_entry_max_bytes = 256;

struct MetadataFields {
  static constexpr std::pair<const char*, std::string Endpoints::*> urls[] = {
      {"authorization_endpoint", &Endpoints::authorization_endpoint},
      {"token_endpoint", &Endpoints::token_endpoint},
      {"device_authorization_endpoint", &Endpoints::device_authorization_endpoint},
      {"userinfo_endpoint", &Endpoints::userinfo_endpoint},
      {"revocation_endpoint", &Endpoints::revocation_endpoint},
      {"introspection_endpoint", &Endpoints::introspection_endpoint},
      {"jwks_uri", &Endpoints::jwks_uri},
      {"pushed_authorization_request_endpoint", &Endpoints::pushed_authorization_request_endpoint},
      {"end_session_endpoint", &Endpoints::end_session_endpoint},
  };
  static constexpr std::pair<const char*, bool Endpoints::*> flags[] = {
      {"require_pushed_authorization_requests", &Endpoints::require_pushed_authorization_requests},
      {"authorization_response_iss_parameter_supported", &Endpoints::authorization_response_iss_parameter_supported},
  };
  static constexpr std::pair<const char*, std::vector<std::string> Endpoints::*> lists[] = {
      {"grant_types_supported", &Endpoints::grant_types_supported},
      {"response_types_supported", &Endpoints::response_types_supported},
      {"scopes_supported", &Endpoints::scopes_supported},
      {"token_endpoint_auth_methods_supported", &Endpoints::token_endpoint_auth_methods_supported},
      {"token_endpoint_auth_signing_alg_values_supported", &Endpoints::token_endpoint_auth_signing_alg_values_supported},
      {"code_challenge_methods_supported", &Endpoints::code_challenge_methods_supported},
      {"id_token_signing_alg_values_supported", &Endpoints::id_token_signing_alg_values_supported},
      {"userinfo_signing_alg_values_supported", &Endpoints::userinfo_signing_alg_values_supported},
  };
  static constexpr std::pair<const char*, std::vector<std::string> ProviderMetadata::*> extra_lists[] = {
      {"subject_types_supported", &ProviderMetadata::subject_types_supported},
      {"response_modes_supported", &ProviderMetadata::response_modes_supported},
      {"claims_supported", &ProviderMetadata::claims_supported},
      {"introspection_endpoint_auth_methods_supported", &ProviderMetadata::introspection_endpoint_auth_methods_supported},
      {"revocation_endpoint_auth_methods_supported", &ProviderMetadata::revocation_endpoint_auth_methods_supported},
  };
};

[[noreturn]] inline void bad_member(const std::string& operation, const char* name, const std::string& problem,
                                    errc code = errc::parse) {
  throw Error(code, operation, std::string("member \"") + name + "\" " + problem);
}

// An endpoint URL from the document: a string passing check_server_uri (absolute https, or http
// to loopback unless allow_insecure_http; printable ASCII; bounded) and without a fragment
// (RFC 8414 §2 / RFC 6749 §3.1: endpoint URIs must not have one).
inline std::string metadata_url(const nlohmann::json& v, const char* name, bool allow_insecure_http,
                                const std::string& operation) {
  if (!v.is_string()) bad_member(operation, name, "is not a string");
  const auto& s = v.get_ref<const std::string&>();
  if (const auto problem = check_server_uri(s, allow_insecure_http)) {
    // Acceptable but for its scheme: say so with the code the request path uses.
    const bool insecure = !allow_insecure_http && !check_server_uri(s, true);
    bad_member(operation, name, *problem, insecure ? errc::insecure_url : errc::parse);
  }
  if (s.find('#') != std::string::npos) bad_member(operation, name, "has a fragment");
  return s;
}

inline std::vector<std::string> metadata_list(const nlohmann::json& v, const char* name, const std::string& operation) {
  if (!v.is_array()) bad_member(operation, name, "is not an array of strings");
  if (v.size() > metadata_list_max_entries)
    bad_member(operation, name, "has more than " + std::to_string(metadata_list_max_entries) + " entries");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& e : v) {
    if (!e.is_string()) bad_member(operation, name, "is not an array of strings");
    const auto& s = e.get_ref<const std::string&>();
    if (!is_printable_text(s, metadata_entry_max_bytes))
      bad_member(operation, name,
                 "has an entry that is empty, longer than " + std::to_string(metadata_entry_max_bytes) +
                     " bytes, or not printable text");
    out.push_back(s);
  }
  return out;
}

// The document object into typed metadata; `raw` keeps it.
inline ProviderMetadata metadata_from_json(nlohmann::json doc, std::string_view expected_issuer,
                                           const DiscoveryOptions& options, const std::string& operation) {
  ProviderMetadata m;
  const auto iss = doc.find("issuer");
  if (iss == doc.end() || !iss->is_string()) bad_member(operation, "issuer", "is absent or not a string");
  const auto& issuer = iss->get_ref<const std::string&>();
  if (!options.issuer_policy.matches(issuer, expected_issuer))
    throw Error(errc::issuer_mismatch, operation,
                "the document's issuer \"" + printable(issuer, 200) + "\" is not the configured issuer \"" +
                    printable(expected_issuer, 200) + "\"");
  m.issuer = issuer;
  for (const auto& [name, member] : MetadataFields::urls)
    if (const auto it = doc.find(name); it != doc.end() && !it->is_null())
      m.*member = metadata_url(*it, name, options.allow_insecure_http, operation);
  for (const auto& [name, member] : MetadataFields::flags)
    if (const auto it = doc.find(name); it != doc.end()) {
      if (!it->is_boolean()) bad_member(operation, name, "is not a boolean");
      m.*member = it->get<bool>();
    }
  for (const auto& [name, member] : MetadataFields::lists)
    if (const auto it = doc.find(name); it != doc.end()) m.*member = metadata_list(*it, name, operation);
  for (const auto& [name, member] : MetadataFields::extra_lists)
    if (const auto it = doc.find(name); it != doc.end()) m.*member = metadata_list(*it, name, operation);
  if (options.require_openid_metadata)
    for (const char* name :
         {"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"})
      if (!doc.contains(name)) bad_member(operation, name, "is required by OpenID Connect Discovery 1.0 §3");
  m.raw = std::move(doc);
  return m;
}

}  // namespace detail

/// A discovery response into metadata (OIDC Discovery §4.2, RFC 8414 §3.2).
///
/// The response must be 2xx (a 3xx is an error too: redirects are not followed),
/// application/json (parameters such as charset tolerated), at most options.max_document_bytes, a
/// JSON object within the JSON limits (depth, no duplicate member); its issuer must match
/// \p expected_issuer under options.issuer_policy; every endpoint must be an absolute https URL
/// (http only to loopback unless options.allow_insecure_http) of printable ASCII without a
/// fragment; lists must be arrays of at most 512 printable strings of at most 256 bytes; flags
/// booleans. Unknown members are ignored (kept in ProviderMetadata::raw).
///
/// \throws oidc::Error `errc::http_status`, `errc::response_too_large`, `errc::issuer_mismatch`,
///         `errc::insecure_url` for an http endpoint beyond loopback, else `errc::parse` naming the
///         member.
[[nodiscard]] inline ProviderMetadata parse_provider_metadata(const HttpResponse& response,
                                                              std::string_view expected_issuer,
                                                              const DiscoveryOptions& options,
                                                              const std::string& operation = "discovery") {
  detail::check_document_response(response, operation, options.max_document_bytes, {"application/json"});
  return detail::metadata_from_json(detail::document_object(response, operation), expected_issuer, options, operation);
}

namespace detail {

// RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path, whose
// terminating '/' is removed: https://host/realms/core -> https://host/.well-known/oauth-authorization-server/realms/core.
inline std::string oauth_metadata_url(std::string_view issuer) {
  const auto authority_start = issuer.find("://") + 3;
  const auto path_start = std::min(issuer.find('/', authority_start), issuer.size());
  std::string_view path = issuer.substr(path_start);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(issuer.substr(0, path_start)) + "/.well-known/oauth-authorization-server" + std::string(path);
}

// OIDC Discovery §4: the issuer, without its trailing '/', plus /.well-known/openid-configuration.
inline std::string openid_configuration_url(std::string_view issuer) {
  while (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

// The issuer must be an acceptable server URL (require_secure_url) without query or fragment
// (OIDC Discovery §2, RFC 8414 §2).
inline void check_issuer_url(std::string_view issuer, bool allow_insecure_http, const std::string& operation) {
  require_secure_url(issuer, allow_insecure_http, operation);
  if (issuer.find_first_of("?#") != std::string_view::npos)
    throw Error(errc::config, operation, "the issuer must not have a query or fragment");
}

struct FetchedMetadata {
  ProviderMetadata metadata;
  std::optional<std::chrono::seconds> max_age;  // the response's Cache-Control
};

// Statuses after which the RFC 8414 location is tried: the OpenID location does not exist there.
// Anything else (5xx, a timeout, a bad document) is an error: an outage or a broken document must
// not silently switch which document is believed.
inline bool is_absent_status(int status) noexcept { return status == 404 || status == 405 || status == 410; }

inline FetchedMetadata fetch_provider_metadata(std::string_view issuer, const DiscoveryOptions& options,
                                               const ResolvedFetch& fetch) {
  const std::string operation = "discovery";
  check_issuer_url(issuer, options.allow_insecure_http, operation);
  const auto ctx = fetch.context();
  auto r = get(ctx, openid_configuration_url(issuer), operation);
  if (!is_absent_status(r.status)) return {parse_provider_metadata(r, issuer, options, operation), cache_max_age(r)};
  const std::string fallback = "discovery (RFC 8414 metadata; no OpenID configuration, HTTP " +
                               std::to_string(r.status) + ")";
  r = get(ctx, oauth_metadata_url(issuer), fallback);
  DiscoveryOptions lenient = options;
  lenient.require_openid_metadata = false;
  return {parse_provider_metadata(r, issuer, lenient, fallback), cache_max_age(r)};
}

}  // namespace detail

/// Fetches and parses the metadata of \p issuer (OIDC Discovery §4, RFC 8414 §3).
///
/// GET issuer + "/.well-known/openid-configuration" (no double slash for an issuer ending in '/');
/// on 404, 405 or 410 only, the RFC 8414 location (`/.well-known/oauth-authorization-server`
/// between host and path), where the OpenID-only required members may be absent. Any other
/// failure is an error: an outage or a broken document must not switch which document is believed.
/// Nothing is cached; DiscoveryCache does that.
/// \throws oidc::Error `errc::config` / `errc::insecure_url` for an issuer that is not a secure URL
///         or has a query or fragment; transport errors; what parse_provider_metadata() throws.
[[nodiscard]] inline ProviderMetadata discover(std::string_view issuer, const DiscoveryOptions& options = {}) {
  const detail::ResolvedFetch fetch(options);
  return detail::fetch_provider_metadata(issuer, options, fetch).metadata;
}

/// Copies into \p into every endpoint, flag and list that \p into does not already set: endpoints set
/// by hand win (so does a flag already true, and a non-empty list). The lists only
/// ProviderMetadata has are not copied.
inline void apply_metadata(const ProviderMetadata& metadata, Endpoints& into) {
  if (into.issuer.empty()) into.issuer = metadata.issuer;
  for (const auto& field : detail::MetadataFields::urls)
    if ((into.*field.second).empty()) into.*field.second = metadata.*field.second;
  for (const auto& field : detail::MetadataFields::flags)
    if (!(into.*field.second)) into.*field.second = metadata.*field.second;
  for (const auto& field : detail::MetadataFields::lists)
    if ((into.*field.second).empty()) into.*field.second = metadata.*field.second;
}

/// The client authentication to use at the token endpoint when the user chose none: with a secret,
/// client_secret_basic if listed (an absent list means client_secret_basic, RFC 8414 §2), else
/// client_secret_post, else nullopt (the server wants a method this needs more for, such as
/// private_key_jwt); without a secret, none.
[[nodiscard]] inline std::optional<ClientAuthMethod> choose_client_auth_method(
    const std::vector<std::string>& token_endpoint_auth_methods_supported, bool has_secret) {
  if (!has_secret) return ClientAuthMethod::none;
  const auto listed = [&](std::string_view m) {
    for (const auto& s : token_endpoint_auth_methods_supported)
      if (s == m) return true;
    return false;
  };
  if (token_endpoint_auth_methods_supported.empty() || listed("client_secret_basic"))
    return ClientAuthMethod::client_secret_basic;
  if (listed("client_secret_post")) return ClientAuthMethod::client_secret_post;
  return std::nullopt;
}

/// How long DiscoveryCache keeps a document, and how it retries.
struct DiscoveryCacheOptions {
  /// \name Lifetime
  /// A document is refetched after max_age, or the response's Cache-Control max-age when shorter,
  /// but never sooner than min_age (max-age=0 must not mean a fetch per call).
  ///@{
  std::chrono::seconds max_age{std::chrono::hours{24}};   ///< Longest lifetime; default 24 h.
  std::chrono::seconds min_age{std::chrono::minutes{5}};  ///< Shortest lifetime; default 5 min.
  ///@}
  /// When refetching fails, the previous document is served until it is this old; then the error.
  std::chrono::seconds max_stale{std::chrono::hours{24 * 7}};
  /// How long a caller waits for a fetch another caller started (real time); then
  /// `errc::deadline_exceeded`, unless a previous document can be served.
  std::chrono::milliseconds max_wait{30000};
  /// \name Backoff
  /// The n-th failure in a row waits min_backoff * 2^(n-1), at most max_backoff, shortened by a
  /// random fraction of up to backoff_jitter (a configuration error waits max_backoff at once);
  /// meanwhile the previous document, or the last error, is served.
  ///@{
  std::chrono::milliseconds min_backoff{1000};                     ///< First wait after a failure.
  std::chrono::milliseconds max_backoff{std::chrono::minutes{5}};  ///< Longest wait.
  double backoff_jitter = 0.25;                                    ///< Largest cut, as a fraction; clamped to [0, 1].
  std::function<double()> random_fraction{};  ///< In [0, 1); empty: random. Tests make it exact.
  ///@}
};

/// Discovery documents shared per issuer, each refetched single flight when its lifetime ends.
/// Entries are kept for the cache's lifetime (issuers are configuration, not input). Thread-safe.
class DiscoveryCache {
 public:
  /// Every issuer is fetched with \p options (as discover() does) and kept by \p cache's rules.
  explicit DiscoveryCache(DiscoveryOptions options = {}, DiscoveryCacheOptions cache = {})
      : options_(std::move(options)), fetch_(options_) {
    policy_.min_refetch = cache.max_age;  // no reason besides expiry to refetch
    policy_.min_lifetime = std::min(cache.min_age, cache.max_age);
    policy_.max_lifetime = cache.max_age;
    policy_.max_stale = std::max(cache.max_stale, cache.max_age);
    policy_.max_wait = cache.max_wait;
    policy_.backoff = {cache.min_backoff, cache.max_backoff, cache.backoff_jitter, std::move(cache.random_fraction)};
  }

  /// The metadata of \p issuer: cached while fresh; otherwise fetched, one fetch at a time however
  /// many threads ask (the others wait up to max_wait for it). Never null.
  /// \throws oidc::Error what discover() throws when there is no document to serve, and
  ///         `errc::deadline_exceeded` when the wait for another caller's fetch ran out.
  [[nodiscard]] std::shared_ptr<const ProviderMetadata> get(std::string_view issuer) const {
    Entry* entry = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto& slot = entries_[std::string(issuer)];
      if (!slot) slot = std::make_unique<Entry>();
      entry = slot.get();  // stable: entries are never erased
    }
    const std::string iss(issuer);
    return entry->get(
        *fetch_.clock, policy_,
        [&] {
          auto f = detail::fetch_provider_metadata(iss, options_, fetch_);
          return Entry::Fetched{std::make_shared<const ProviderMetadata>(std::move(f.metadata)), f.max_age};
        },
        [](const ProviderMetadata&) { return false; }, "discovery");
  }

  /// Fetches started so far, over all issuers: for tests and metrics.
  [[nodiscard]] std::uint64_t fetches() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::uint64_t n = 0;
    for (const auto& e : entries_) n += e.second->fetches();
    return n;
  }

 private:
  using Entry = detail::RefreshingValue<ProviderMetadata>;

  DiscoveryOptions options_;
  detail::ResolvedFetch fetch_;
  Entry::Policy policy_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
};

}  // namespace oidc

#endif  // OIDC_DISCOVERY_HPP
