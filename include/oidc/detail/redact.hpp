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
#include <iterator>
#include <memory>
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
constexpr bool is_token_char(char c) noexcept {
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

// Offsets into a masked text; 32 bits halve the memory (and cache misses) of a large body.
// mask_set masks whatever lies beyond (no transport lets such a body through).
using offset = std::uint32_t;
inline constexpr std::size_t max_scanned_bytes = 0xFFFFFFF0u;

// Intervals to mask over a text of `size` bytes. Each source (one pattern in one decoding, one
// scan) yields its intervals in order; a source is merged into the sorted rest when it ends, so
// the set costs O(intervals x sources), and memory is per match, not per byte.
class MaskSet {
 public:
  struct Interval {
    offset begin, end;
    bool operator<(const Interval& o) const noexcept { return begin < o.begin; }
  };

  explicit MaskSet(std::size_t size) : size_(size) {}
  void add(std::size_t begin, std::size_t end) {
    if (end > size_) end = size_;
    if (begin < end) intervals_.push_back({static_cast<offset>(begin), static_cast<offset>(end)});
  }
  // Ends a source: its intervals join the sorted ones.
  void merge() {
    const auto mid = intervals_.begin() + static_cast<std::ptrdiff_t>(sorted_);
    if (!std::is_sorted(mid, intervals_.end())) std::sort(mid, intervals_.end());
    std::inplace_merge(intervals_.begin(), mid, intervals_.end());
    sorted_ = intervals_.size();
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  // Calls emit(begin, end, masked) for each maximal masked or unmasked range, in order, until emit
  // returns false.
  template <class Emit>
  void for_each_range(Emit&& emit) {
    merge();
    std::size_t pos = 0, k = 0;
    const std::size_t count = intervals_.size();
    const Interval* iv = intervals_.data();
    while (k < count) {
      std::size_t begin = iv[k].begin, end = iv[k].end;
      for (++k; k < count && iv[k].begin <= end; ++k)
        if (iv[k].end > end) end = iv[k].end;
      if (begin < pos) begin = pos;
      if (end <= begin) continue;
      if (begin > pos && !emit(pos, begin, false)) return;
      if (!emit(begin, end, true)) return;
      pos = end;
    }
    if (pos < size_) emit(pos, size_, false);
  }

 private:
  std::vector<Interval> intervals_;
  std::size_t sorted_ = 0;
  std::size_t size_;
};

namespace redact_impl {

// The text as seen after one or more decodings (JSON string escapes, percent/form encoding), with,
// for each decoded byte, the range of original bytes it came from.
struct Layer {
  std::string_view original;
  std::string decoded;
  std::unique_ptr<offset[]> from_storage, to_storage;
  offset* from = nullptr;  // per decoded byte; null for the original text itself
  offset* to = nullptr;
  [[nodiscard]] bool is_original() const noexcept { return from == nullptr; }
  [[nodiscard]] std::string_view text() const noexcept { return is_original() ? original : std::string_view(decoded); }
  // Original interval of the decoded bytes [b, e), e > b.
  void mark(MaskSet& set, std::size_t b, std::size_t e) const {
    if (is_original()) set.add(b, e);
    else set.add(from[b], to[e - 1]);
  }
};

// Builds a layer from its parent: decodings only shrink text, so the parent's size bounds it.
class LayerBuilder {
 public:
  explicit LayerBuilder(const Layer& parent) : parent_(parent) {
    const auto n = parent.text().size();
    out_.original = parent.original;
    out_.decoded.resize(n);
    out_.from_storage.reset(new offset[n + 1]);
    out_.to_storage.reset(new offset[n + 1]);
    out_.from = out_.from_storage.get();
    out_.to = out_.to_storage.get();
  }
  // The parent's bytes [b, e) unchanged.
  void copy(std::size_t b, std::size_t e) {
    const auto t = parent_.text();
    if (e == b) return;
    std::copy(t.data() + b, t.data() + e, &out_.decoded[n_]);
    offset* from = out_.from + n_;
    offset* to = out_.to + n_;
    if (parent_.is_original()) {
      for (auto k = static_cast<offset>(b); k < e; ++k) *from++ = k, *to = k + 1, ++to;
    } else {
      std::copy(parent_.from + b, parent_.from + e, from);
      std::copy(parent_.to + b, parent_.to + e, to);
    }
    n_ += e - b;
  }
  // `bytes`, decoded from the parent's bytes [b, e).
  void put(std::string_view bytes, std::size_t b, std::size_t e) {
    const offset ob = parent_.is_original() ? static_cast<offset>(b) : parent_.from[b];
    const offset oe = parent_.is_original() ? static_cast<offset>(e) : parent_.to[e - 1];
    for (char c : bytes) {
      out_.decoded[n_] = c;
      out_.from[n_] = ob;
      out_.to[n_] = oe;
      ++n_;
    }
  }
  Layer finish() {
    out_.decoded.resize(n_);
    return std::move(out_);
  }

 private:
  const Layer& parent_;
  Layer out_;
  std::size_t n_ = 0;
};

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
  LayerBuilder out(parent);
  std::string bytes;
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t esc = std::min(in.find('\\', i), in.size());
    out.copy(i, esc);
    i = esc;
    if (i + 1 >= in.size()) break;
    bytes.clear();
    std::size_t len = 2;
    switch (const char e = in[i + 1]) {
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
    if (bytes.empty()) {  // not an escape: the backslash stands for itself
      len = 1;
      bytes = '\\';
    }
    out.put(bytes, i, i + len);
    i += len;
  }
  if (i < in.size()) out.copy(i, in.size());
  return out.finish();
}

// %XX (either case) undone, and '+' read as a space when `plus_is_space` (form encoding).
inline Layer percent_decoded(const Layer& parent, bool plus_is_space) {
  const auto in = parent.text();
  LayerBuilder out(parent);
  std::size_t i = 0;
  std::size_t next_percent = in.find('%');
  std::size_t next_plus = plus_is_space ? in.find('+') : std::string_view::npos;
  while (i < in.size()) {
    if (next_percent < i) next_percent = in.find('%', i);
    if (next_plus < i) next_plus = in.find('+', i);
    const std::size_t at = std::min({next_percent, next_plus, in.size()});
    out.copy(i, at);
    i = at;
    if (i >= in.size()) break;
    if (in[i] == '+') {
      out.put(" ", i, i + 1);
      i += 1;
    } else if (i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      const char c = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      out.put(std::string_view(&c, 1), i, i + 3);
      i += 3;
    } else {
      out.copy(i, i + 1);
      i += 1;
    }
  }
  return out.finish();
}

// Every occurrence of each form, overlapping ones included, and a form cut by the end of the text
// (a server or the transport's size cap truncated the body mid-echo): its first 4 or more bytes
// at the very end are masked too.
inline void mark_forms(const Layer& layer, const std::vector<std::string>& forms, MaskSet& set) {
  static constexpr std::size_t min_cut_prefix = 4;
  const auto text = layer.text();
  for (const auto& form : forms) {
    if (form.empty()) continue;
    for (auto at = text.find(form); at != std::string_view::npos; at = text.find(form, at + 1))
      layer.mark(set, at, at + form.size());
    for (std::size_t k = std::min(form.size() - 1, text.size()); k >= min_cut_prefix; --k)
      if (text.compare(text.size() - k, k, form, 0, k) == 0) {
        layer.mark(set, text.size() - k, text.size());
        break;
      }
    set.merge();
  }
}

// Byte classes as plain tables: unoptimised builds would otherwise pay a call per byte.
struct ByteClass {
  bool token[256];
  bool name[256];
  bool space[256];
};
constexpr ByteClass make_byte_class() {
  ByteClass t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    t.token[c] = is_token_char(ch);
    t.name[c] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    t.space[c] = ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
  }
  return t;
}
inline constexpr ByteClass byte_class = make_byte_class();

inline bool is_space(char c) noexcept { return byte_class.space[static_cast<unsigned char>(c)]; }

// Case-insensitive is_sensitive_name, of the name or of any of its suffixes: in binary or garbled
// text a credential name may be glued to the bytes before it ("\x1b[2Jaccess_token=..."). Masking
// a "barcode=" value too is the cheaper mistake.
inline bool names_credential(std::string_view name) {
  std::array<char, 24> lower{};
  if (name.empty() || name.size() > lower.size()) return false;
  for (std::size_t k = 0; k < name.size(); ++k)
    lower[k] = (name[k] >= 'A' && name[k] <= 'Z') ? static_cast<char>(name[k] - 'A' + 'a') : name[k];
  for (std::size_t from = 0; from < name.size(); ++from)
    if (is_sensitive_name(std::string_view(lower.data() + from, name.size() - from))) return true;
  return false;
}

// The name ending just before `end`, and where it starts.
inline std::string_view name_before(std::string_view t, std::size_t end) {
  static constexpr std::size_t longest = 24;  // longer words are no credential name
  std::size_t b = end;
  while (b > 0 && end - b <= longest && byte_class.name[static_cast<unsigned char>(t[b - 1])]) --b;
  return t.substr(b, end - b);
}

// Values of credential members, found by scanning rather than parsing: JSON-ish "name" : "value"
// (either quote; to the closing unescaped quote, or to the end of a cut text; a bare scalar to the
// next , } ] or space) and form-ish name=value (to '&' or whitespace). Driven by the ':' and '='
// bytes, which memchr finds.
inline void mark_credential_members(const Layer& layer, MaskSet& set) {
  const auto t = layer.text();
  const std::size_t n = t.size();
  for (auto eq = t.find('='); eq != std::string_view::npos; eq = t.find('=', eq + 1)) {
    const auto name = name_before(t, eq);
    if (!names_credential(name)) continue;
    std::size_t k = eq + 1;
    while (k < n && t[k] != '&' && !is_space(t[k])) ++k;
    if (k > eq + 1) layer.mark(set, eq + 1, k);
  }
  set.merge();
  for (auto colon = t.find(':'); colon != std::string_view::npos; colon = t.find(':', colon + 1)) {
    std::size_t close = colon;
    while (close > 0 && is_space(t[close - 1])) --close;
    if (close < 2 || (t[close - 1] != '"' && t[close - 1] != '\'')) continue;
    const char quote = t[close - 1];
    const auto name = name_before(t, close - 1);
    const std::size_t open = close - 1 - name.size();
    if (open == 0 || t[open - 1] != quote || !names_credential(name)) continue;
    std::size_t k = colon + 1;
    while (k < n && is_space(t[k])) ++k;
    if (k >= n) continue;
    if (t[k] == '"' || t[k] == '\'') {
      const char q = t[k];
      const std::size_t b = ++k;
      while (k < n && t[k] != q) k += t[k] == '\\' ? 2 : 1;
      k = std::min(k, n);
      if (k > b) layer.mark(set, b, k);
    } else if (t[k] != '{' && t[k] != '[') {  // a number or bare word where a string belongs
      const std::size_t b = k;
      while (k < n && t[k] != ',' && t[k] != '}' && t[k] != ']' && !is_space(t[k])) ++k;
      if (k > b) layer.mark(set, b, k);
    }
  }
  set.merge();
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
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  bool in_run[256];
  std::copy(std::begin(byte_class.token), std::end(byte_class.token), in_run);
  if (slash_separates) in_run[static_cast<unsigned char>('/')] = false;
  std::size_t i = from;
  while (i < to) {
    if (!in_run[p[i]]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < to && in_run[p[j]]) ++j;
    if (j - i >= long_run && !(keep_words && is_word(t.substr(i, j - i)))) layer.mark(set, i, j);
    i = j;
  }
  set.merge();
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

inline bool has(std::string_view text, char c) noexcept { return text.find(c) != std::string_view::npos; }

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
  if (has(t, '\\')) mark_decodings(json_unescaped(layer), forms, rules, depth - 1, set);
  const bool percent = has(t, '%'), plus = has(t, '+');
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

// `s` as a JSON serializer writes it inside a string: quote, backslash and the short control
// escapes, other controls as \u00xx (`upper`: \u001B, as some serializers write).
inline std::string json_escape_literal(std::string_view s, bool upper) {
  const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out;
}

// What is searched for in every layer; wiped when done.
struct Forms {
  std::vector<std::string> list;
  explicit Forms(const std::vector<std::string_view>& secrets) {
    for (auto s : secrets) {
      if (s.empty()) continue;
      list.emplace_back(s);
      // Decoding reads "%4A%2BA" (a stray '%' before the form-encoded "4A+A") as "J+A", so the
      // encoded forms are searched as they are too, in both hex cases.
      std::string encoded = form_encode_component(s);
      if (encoded != s) {
        std::string lower = encoded;
        for (std::size_t i = 0; i + 2 < lower.size(); ++i)
          if (lower[i] == '%') {
            for (std::size_t k = i + 1; k <= i + 2; ++k)
              if (lower[k] >= 'A' && lower[k] <= 'F') lower[k] = static_cast<char>(lower[k] - 'A' + 'a');
            i += 2;
          }
        list.push_back(std::move(encoded));
        list.push_back(std::move(lower));
      }
      // Likewise the JSON-escaped form: a stray backslash before it shifts the unescaping layer's
      // pairs (an escaped backslash read as the start of \u0000), so it is searched as it is too.
      for (const bool upper : {false, true}) {
        std::string escaped = json_escape_literal(s, upper);
        if (escaped != s) list.push_back(std::move(escaped));
      }
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
  if (text.size() > max_scanned_bytes) {
    set.add(max_scanned_bytes, text.size());
    text = text.substr(0, max_scanned_bytes);
  }
  const redact_impl::Forms forms(secrets);
  redact_impl::Layer original;
  original.original = text;
  redact_impl::mark_decodings(original, forms.list, rules, decodings, set);
  return set;
}

// `text` with each masked range replaced by one mask. Not escaped.
inline std::string masked(std::string_view text, const std::vector<std::string_view>& secrets, MaskRules rules = {}) {
  auto set = mask_set(text, secrets, rules);
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
  auto set = mask_set(body, secrets);
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
