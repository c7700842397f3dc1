#ifndef OIDC_DETAIL_REDACT_HPP
#define OIDC_DETAIL_REDACT_HPP

// Masking of server text before it reaches a message. Servers echo what they were sent in every
// shape (plain, percent- or form-encoded, JSON-escaped, Base64 in a header they print back), and
// error bodies are often not valid JSON, so nothing here parses: the text is scanned, matches are
// collected as intervals over the whole text, and the output is built in one pass. Linear in the
// text size for a given set of secrets.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "oidc/detail/base64.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/secret.hpp"

namespace oidc::detail {

// Response and request members whose values are credentials.
inline bool is_sensitive_name(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 14> names{
      "access_token", "refresh_token", "id_token",     "client_secret", "password",    "device_code",
      "code",         "code_verifier", "assertion",    "client_assertion", "subject_token", "actor_token",
      "token",        "user_code"};
  for (auto n : names)
    if (n == name) return true;
  return false;
}

// Characters of JWTs, opaque tokens and Base64 bodies, also percent-encoded ('%') and in the standard
// alphabet ('/'). '=' is left out so "name=value" keeps its name; Base64 padding left behind after a
// masked run reveals nothing.
inline bool is_token_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~' || c == '+' || c == '/' || c == '%';
}

inline constexpr std::string_view redaction_mask = "[redacted]";

// How long runs of token characters are treated.
enum class TokenRuns {
  keep,         // only secrets (and credential members) are masked
  mask,         // runs of 20+ token characters are masked: shorter runs are words, not credentials
  keep_words,   // as mask, but runs of lowercase letters and '_' stay: RFC 6749 error codes such as
                // authorization_pending are that long, and callers compare them
  uri,          // as mask, but the authority is kept (user info is masked) and '/' separates path
                // segments: a host name or a long path is not a credential, a query value may be
};

struct MaskRules {
  bool credential_members = true;  // values of "access_token": "..." and access_token=... found by scanning
  TokenRuns token_runs = TokenRuns::mask;
};

// Intervals to mask over a text of `size` bytes. reach_[i] is the furthest end of an interval
// starting at i, so adding is O(1) and sweeping is O(size) however many intervals overlap.
class MaskSet {
 public:
  explicit MaskSet(std::size_t size) : reach_(size, 0) {}
  void add(std::size_t begin, std::size_t end) {
    if (begin < end && begin < reach_.size()) reach_[begin] = std::max(reach_[begin], std::min(end, reach_.size()));
  }
  [[nodiscard]] std::size_t size() const noexcept { return reach_.size(); }

  // Calls emit(begin, end, masked) for each maximal masked or unmasked range, in order, until emit
  // returns false.
  template <class Emit>
  void for_each_range(Emit&& emit) const {
    std::size_t i = 0;
    while (i < reach_.size()) {
      if (reach_[i] > i) {
        std::size_t end = reach_[i];
        for (std::size_t k = i; k < end; ++k) end = std::max(end, reach_[k]);
        if (!emit(i, end, true)) return;
        i = end;
      } else {
        std::size_t k = i + 1;
        while (k < reach_.size() && reach_[k] <= k) ++k;
        if (!emit(i, k, false)) return;
        i = k;
      }
    }
  }

 private:
  std::vector<std::size_t> reach_;
};

namespace redact_impl {

// The text as seen after one or more decodings (JSON string escapes, percent/form encoding), with,
// for each decoded byte, the range of original bytes it came from.
struct Layer {
  std::string_view original;
  std::string decoded;
  std::vector<std::size_t> from, to;  // per decoded byte; unused for the original text itself
  bool is_decoded = false;
  [[nodiscard]] bool is_original() const noexcept { return !is_decoded; }
  [[nodiscard]] std::string_view text() const noexcept { return is_original() ? original : std::string_view(decoded); }
  // Original interval of the decoded bytes [b, e), e > b.
  void mark(MaskSet& set, std::size_t b, std::size_t e) const {
    if (is_original()) set.add(b, e);
    else set.add(from[b], to[e - 1]);
  }
};

// Appends `bytes`, decoded from the parent's bytes [b, e).
inline void emit(Layer& out, const Layer& parent, std::string_view bytes, std::size_t b, std::size_t e) {
  const std::size_t ob = parent.is_original() ? b : parent.from[b];
  const std::size_t oe = parent.is_original() ? e : parent.to[e - 1];
  for (char c : bytes) {
    out.decoded += c;
    out.from.push_back(ob);
    out.to.push_back(oe);
  }
}

inline void begin_layer(Layer& out, const Layer& parent) {
  out.original = parent.original;
  out.is_decoded = true;
  const auto n = parent.text().size();
  out.decoded.reserve(n);
  out.from.reserve(n);
  out.to.reserve(n);
}

inline void append_utf8(std::string& s, std::uint32_t cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

inline int hex4(std::string_view s, std::size_t at) {
  if (at + 4 > s.size()) return -1;
  int v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int h = hex_value(s[at + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// JSON string escapes undone (RFC 8259 §7: \" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs);
// anything else is kept as it is. Does not check that the text is JSON.
inline Layer json_unescaped(const Layer& parent) {
  const auto in = parent.text();
  Layer out;
  begin_layer(out, parent);
  std::string bytes;
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '\\' || i + 1 >= in.size()) {
      emit(out, parent, in.substr(i, 1), i, i + 1);
      ++i;
      continue;
    }
    const char e = in[i + 1];
    bytes.clear();
    std::size_t len = 2;
    switch (e) {
      case '"': case '\\': case '/': case '\'': bytes = e; break;
      case 'b': bytes = '\b'; break;
      case 'f': bytes = '\f'; break;
      case 'n': bytes = '\n'; break;
      case 'r': bytes = '\r'; break;
      case 't': bytes = '\t'; break;
      case 'u': {
        const int hi = hex4(in, i + 2);
        if (hi < 0) break;
        std::uint32_t cp = static_cast<std::uint32_t>(hi);
        len = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 7 < in.size() && in[i + 6] == '\\' && in[i + 7] == 'u') {
          const int lo = hex4(in, i + 8);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<std::uint32_t>(lo) - 0xDC00);
            len = 12;
          }
        }
        append_utf8(bytes, cp);
        break;
      }
      default: break;
    }
    if (bytes.empty()) {
      emit(out, parent, in.substr(i, 1), i, i + 1);
      ++i;
    } else {
      emit(out, parent, bytes, i, i + len);
      i += len;
    }
  }
  return out;
}

// %XX (either case) undone, and '+' read as a space when `plus_is_space` (form encoding).
inline Layer percent_decoded(const Layer& parent, bool plus_is_space) {
  const auto in = parent.text();
  Layer out;
  begin_layer(out, parent);
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      const char c = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      emit(out, parent, std::string_view(&c, 1), i, i + 3);
      i += 3;
    } else if (in[i] == '+' && plus_is_space) {
      emit(out, parent, " ", i, i + 1);
      ++i;
    } else {
      emit(out, parent, in.substr(i, 1), i, i + 1);
      ++i;
    }
  }
  return out;
}

// Every occurrence of each form, overlapping ones included.
inline void mark_forms(const Layer& layer, const std::vector<std::string>& forms, MaskSet& set) {
  const auto text = layer.text();
  for (const auto& form : forms) {
    if (form.empty() || form.size() > text.size()) continue;
    const std::boyer_moore_horspool_searcher searcher(form.begin(), form.end());
    auto it = text.begin();
    while (true) {
      const auto found = std::search(it, text.end(), searcher);
      if (found == text.end()) break;
      const auto at = static_cast<std::size_t>(found - text.begin());
      layer.mark(set, at, at + form.size());
      it = found + 1;
    }
  }
}

inline bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Case-insensitive is_sensitive_name.
inline bool names_credential(std::string_view name) {
  std::array<char, 24> lower{};
  if (name.size() > lower.size()) return false;
  for (std::size_t k = 0; k < name.size(); ++k)
    lower[k] = (name[k] >= 'A' && name[k] <= 'Z') ? static_cast<char>(name[k] - 'A' + 'a') : name[k];
  return is_sensitive_name(std::string_view(lower.data(), name.size()));
}

// Values of credential members, JSON-ish ("name" : "value", cut or not) and form-ish (name=value),
// found in one pass over the words of the text.
inline void mark_credential_members(const Layer& layer, MaskSet& set) {
  const auto t = layer.text();
  const std::size_t n = t.size();
  std::size_t i = 0;
  while (i < n) {
    if (!is_name_char(t[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && is_name_char(t[j])) ++j;
    const auto name = t.substr(i, j - i);
    const std::size_t name_begin = i;
    i = j;
    if (!names_credential(name)) continue;
    const char quote = name_begin > 0 ? t[name_begin - 1] : '\0';
    if ((quote == '"' || quote == '\'') && j < n && t[j] == quote) {
      std::size_t k = j + 1;
      while (k < n && is_space(t[k])) ++k;
      if (k >= n || t[k] != ':') continue;
      ++k;
      while (k < n && is_space(t[k])) ++k;
      if (k >= n) continue;
      if (t[k] == '"' || t[k] == '\'') {
        const char q = t[k];
        const std::size_t b = ++k;
        while (k < n && t[k] != q) k += t[k] == '\\' ? 2 : 1;  // to the closing quote, or the end when cut
        k = std::min(k, n);
        if (k > b) layer.mark(set, b, k);
        i = k;
      } else if (t[k] != '{' && t[k] != '[') {  // a number or bare word where a string belongs
        const std::size_t b = k;
        while (k < n && t[k] != ',' && t[k] != '}' && t[k] != ']' && !is_space(t[k])) ++k;
        if (k > b) layer.mark(set, b, k);
        i = k;
      }
    } else if (j < n && t[j] == '=') {
      std::size_t k = j + 1;
      const std::size_t b = k;
      while (k < n && t[k] != '&' && !is_space(t[k])) ++k;
      if (k > b) layer.mark(set, b, k);
      i = k;
    }
  }
}

inline bool is_word(std::string_view run) noexcept {
  for (char c : run)
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  return true;
}

// Runs of 20+ token characters in [from, to); `slash_separates` for URI path segments.
inline void mark_runs(const Layer& layer, std::size_t from, std::size_t to, bool slash_separates, bool keep_words,
                      MaskSet& set) {
  static constexpr std::size_t long_run = 20;
  const auto t = layer.text();
  std::size_t i = from;
  while (i < to) {
    if (!is_token_char(t[i]) || (slash_separates && t[i] == '/')) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < to && is_token_char(t[j]) && !(slash_separates && t[j] == '/')) ++j;
    if (j - i >= long_run && !(keep_words && is_word(t.substr(i, j - i)))) layer.mark(set, i, j);
    i = j;
  }
}

inline void mark_token_runs(const Layer& layer, TokenRuns rule, MaskSet& set) {
  const auto t = layer.text();
  if (rule == TokenRuns::keep) return;
  if (rule != TokenRuns::uri) {
    mark_runs(layer, 0, t.size(), false, rule == TokenRuns::keep_words, set);
    return;
  }
  // scheme://[userinfo@]authority path [?query] [#fragment]
  std::size_t path = 0;
  const auto scheme_end = t.find("://");
  if (scheme_end != std::string_view::npos && t.find_first_of("/?#") >= scheme_end) {
    const std::size_t authority = scheme_end + 3;
    path = std::min(t.find_first_of("/?#", authority), t.size());
    const auto at = t.substr(authority, path - authority).rfind('@');
    if (at != std::string_view::npos) layer.mark(set, authority, authority + at);
  }
  const std::size_t query = std::min(t.find_first_of("?#", path), t.size());
  mark_runs(layer, path, query, true, false, set);
  mark_runs(layer, query, t.size(), false, false, set);
}

// A UTF-8 sequence cut by the excerpt's end would show as escaped bytes; drop it instead.
inline void drop_partial_utf8(std::string& s) {
  for (std::size_t back = 1; back <= 4 && back <= s.size(); ++back) {
    const auto c = static_cast<unsigned char>(s[s.size() - back]);
    if (c < 0x80) return;
    if (c >= 0xC0) {
      const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (back < len) s.resize(s.size() - back);
      return;
    }
  }
}

inline bool has_any(std::string_view text, std::string_view chars) noexcept {
  return text.find_first_of(chars) != std::string_view::npos;
}

inline void mark_layer(const Layer& layer, const std::vector<std::string>& forms, const MaskRules& rules,
                       MaskSet& set) {
  mark_forms(layer, forms, set);
  if (rules.credential_members) mark_credential_members(layer, set);
  mark_token_runs(layer, rules.token_runs, set);
}

// The layer and, up to `depth` more decodings, what it decodes to; a decoding is tried only when
// the text has something it would change.
inline void mark_decodings(const Layer& layer, const std::vector<std::string>& forms, const MaskRules& rules,
                           int depth, MaskSet& set) {
  mark_layer(layer, forms, rules, set);
  if (depth == 0) return;
  const auto t = layer.text();
  if (has_any(t, "\\")) mark_decodings(json_unescaped(layer), forms, rules, depth - 1, set);
  const bool percent = has_any(t, "%"), plus = has_any(t, "+");
  if (percent || plus) mark_decodings(percent_decoded(layer, true), forms, rules, depth - 1, set);
  if (percent && plus) mark_decodings(percent_decoded(layer, false), forms, rules, depth - 1, set);
}

// Base64 of the secret, both alphabets, padded and not, and the characters that depend only on the
// secret's bytes when it sits inside a longer Base64 string at any of the three byte alignments.
inline void add_base64_forms(std::string_view secret, std::vector<std::string>& out) {
  static constexpr std::size_t min_inner = 6;  // shorter fragments would match ordinary words
  for (const bool url : {false, true}) {
    std::string bare = base64_encode(secret, url);
    bare.erase(std::min(bare.find('='), bare.size()));
    std::string padded = bare + std::string((4 - bare.size() % 4) % 4, '=');
    out.push_back(std::move(padded));
    for (std::size_t a = 0; a < 3; ++a) {
      std::string shifted(a, '\0');
      shifted.append(secret);
      std::string enc = base64_encode(shifted, url);
      const std::size_t first = (8 * a + 5) / 6, last = 8 * (a + secret.size()) / 6;
      if (last >= first + min_inner) out.push_back(enc.substr(first, last - first));
      secure_wipe(shifted);
      secure_wipe(enc);
    }
    out.push_back(std::move(bare));
  }
}

// What is searched for in every layer; wiped when done.
struct Forms {
  std::vector<std::string> list;
  explicit Forms(const std::vector<std::string_view>& secrets) {
    for (auto s : secrets) {
      if (s.empty()) continue;
      list.emplace_back(s);
      add_base64_forms(s, list);
    }
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  Forms(const Forms&) = delete;
  Forms& operator=(const Forms&) = delete;
  ~Forms() {
    for (auto& s : list) secure_wipe(s);
  }
};

}  // namespace redact_impl

// What to mask in `text`: every form of every secret (plain, percent/form-encoded in either hex
// case, JSON-escaped, Base64 in either alphabet, and mixes of these up to two decodings deep),
// credential members found by scanning, and token runs as `rules` say.
inline MaskSet mask_set(std::string_view text, const std::vector<std::string_view>& secrets, MaskRules rules = {}) {
  static constexpr int decodings = 2;  // e.g. form-encoded, then JSON-escaped
  MaskSet set(text.size());
  const redact_impl::Forms forms(secrets);
  redact_impl::Layer original;
  original.original = text;
  redact_impl::mark_decodings(original, forms.list, rules, decodings, set);
  return set;
}

// `text` with each masked range replaced by one mask. Not escaped.
inline std::string masked(std::string_view text, const std::vector<std::string_view>& secrets, MaskRules rules = {}) {
  const auto set = mask_set(text, secrets, rules);
  std::string out;
  out.reserve(std::min<std::size_t>(text.size(), 4096));
  set.for_each_range([&](std::size_t b, std::size_t e, bool mask) {
    if (mask) out += redaction_mask;
    else out.append(text.substr(b, e - b));
    return true;
  });
  return out;
}

// Replaces every occurrence of each secret, in any of its encoded forms, with the mask.
inline void mask_values(std::string& text, const std::vector<std::string_view>& secrets) {
  text = masked(text, secrets, {false, TokenRuns::keep});
}

// printable(text) bounded to `max_bytes` in all, the "..." of a cut included.
inline std::string printable_bounded(std::string_view text, std::size_t max_bytes) {
  static constexpr std::size_t worst_overshoot = 3 + 3;  // a 4-byte unit started at max-1, then "..."
  auto out = printable(text, max_bytes);
  if (out.size() > max_bytes) out = printable(text, max_bytes > worst_overshoot ? max_bytes - worst_overshoot : 1);
  return out;
}

// Server text for a message field: masked as `rules` say, escaped, at most `max_bytes`.
inline std::string redacted_text(std::string_view text, const std::vector<std::string_view>& secrets,
                                 std::size_t max_bytes, MaskRules rules = {}) {
  auto m = masked(text, secrets, rules);
  auto out = printable_bounded(m, max_bytes);
  secure_wipe(m);
  return out;
}

// Makes a short, single-line excerpt of a server body that is safe to put in an error message: the
// whole body is masked first (so a secret straddling the cut is masked too), whitespace runs
// become one space, then the first `max_chars` are escaped; a cut excerpt ends with "...".
inline std::string redacted_snippet(std::string_view body, const std::vector<std::string_view>& secrets,
                                    std::size_t max_chars = 200) {
  const auto set = mask_set(body, secrets);
  std::string text;
  std::size_t consumed = 0;  // body bytes the excerpt stands for
  set.for_each_range([&](std::size_t b, std::size_t e, bool mask) {
    if (mask) {
      if (text.size() + redaction_mask.size() > max_chars) return false;  // a cut mask would read as text
      text += redaction_mask;
      consumed = e;
      return true;
    }
    for (consumed = b; consumed < e && text.size() < max_chars; ++consumed) {
      if (!redact_impl::is_space(body[consumed])) text += body[consumed];
      else if (!text.empty() && text.back() != ' ') text += ' ';
    }
    return consumed == e;
  });
  // Whitespace after the last shown byte is not worth an ellipsis (it would collapse to nothing).
  while (consumed < body.size() && redact_impl::is_space(body[consumed]) && !text.empty() && text.back() == ' ')
    ++consumed;
  const bool cut = consumed < body.size();
  if (cut) redact_impl::drop_partial_utf8(text);
  auto out = printable(text);
  if (out.size() > max_chars) out = printable_bounded(text, max_chars + 3);
  else if (cut) out += "...";
  secure_wipe(text);
  return out;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_REDACT_HPP
