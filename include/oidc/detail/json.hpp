#ifndef OIDC_DETAIL_JSON_HPP
#define OIDC_DETAIL_JSON_HPP

// Parsing JSON that a server sent. nlohmann's own parse() builds documents of any depth, and its
// copy constructor and dump() recurse, so a body nested 100 000 deep overflows the stack; objects
// with a repeated member silently keep the last value. parse_json() builds the document through the
// SAX interface instead, refusing while parsing anything deeper than a limit and any repeated member
// name, and hands the document out by move. nlohmann's parser (3.11) and its destructor are
// iterative, so nothing on this path recurses over an untrusted document.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/printable.hpp"

namespace oidc::detail {

// Nesting depth allowed in a server document: `{}` and `[]` are depth 1. OAuth and OIDC documents
// need 3 or 4; 64 leaves room for extensions and keeps every later recursive walk (copy, dump,
// comparison) of an accepted document shallow.
inline constexpr std::size_t json_max_depth = 64;

enum class JsonFailure {
  none,
  not_json,          // syntax error, trailing bytes, invalid UTF-8, a number out of double range
  too_deep,          // nesting beyond the limit
  duplicate_member,  // an object names a member twice
};

struct JsonParseResult {
  nlohmann::json value;                    // the document; null unless ok()
  JsonFailure failure = JsonFailure::none;
  std::string problem;                     // for messages; never contains a member value
  std::size_t position = 0;                // byte offset of a not_json failure

  [[nodiscard]] bool ok() const noexcept { return failure == JsonFailure::none; }

  // problem without the duplicate's name, for saved text: it is this library's own, so a stray
  // name there is another writer's text and may be one of its secrets.
  [[nodiscard]] std::string problem_quoting_nothing() const {
    return failure == JsonFailure::duplicate_member ? std::string("an object names a member twice") : problem;
  }
};

// Builds the DOM from SAX events with an explicit stack of open containers (no recursion).
class BoundedJsonBuilder {
 public:
  using json = nlohmann::json;

  BoundedJsonBuilder(JsonParseResult& out, std::size_t max_depth) : out_(out), max_depth_(max_depth) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& v) { return put(json::binary(std::move(v))); }

  bool start_object(std::size_t /*size*/) { return open(json::value_t::object); }
  bool start_array(std::size_t /*size*/) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& name) {
    auto& members = open_.back()->get_ref<json::object_t&>();
    const auto [it, inserted] = members.emplace(std::move(name), nullptr);
    if (!inserted) {
      // A document is either refused or accepted whole: which duplicate "wins" differs between
      // parsers, so accepting one would let two readers of the same body see different values.
      out_.failure = JsonFailure::duplicate_member;
      out_.problem = "duplicate member \"" + printable(it->first, 64) + "\"";
      return false;
    }
    slot_ = &it->second;
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/, const json::exception& e) {
    // nlohmann's message quotes the text it last read, which may be a credential: say only where.
    out_.failure = JsonFailure::not_json;
    out_.position = position;
    out_.problem = std::string(e.id == 406 ? "a number is out of range" : "not valid JSON") + " (at byte " +
                   std::to_string(position) + ")";
    return false;
  }

  [[nodiscard]] std::size_t depth() const noexcept { return open_.size(); }

 private:
  json* put(json&& v) {
    if (open_.empty()) {
      out_.value = std::move(v);
      return &out_.value;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      auto& elements = parent.get_ref<json::array_t&>();
      elements.push_back(std::move(v));
      return &elements.back();
    }
    *slot_ = std::move(v);
    return slot_;
  }

  bool open(json::value_t type) {
    if (open_.size() >= max_depth_) {
      out_.failure = JsonFailure::too_deep;
      out_.problem = "nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    // Pointers into a parent stay valid: only the innermost open container grows.
    open_.push_back(put(json(type)));
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  JsonParseResult& out_;
  std::size_t max_depth_;
  std::vector<json*> open_;
  json* slot_ = nullptr;  // the member the next value of the innermost object goes to
};

// Parses one JSON document (the whole text; trailing bytes are an error). `max_depth` can only
// lower json_max_depth. Never throws for bad input; the result says why it was refused.
inline JsonParseResult parse_json(std::string_view text, std::size_t max_depth = json_max_depth) {
  JsonParseResult out;
  BoundedJsonBuilder builder(out, std::min(max_depth, json_max_depth));
  const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
  if (!ok) {
    if (out.failure == JsonFailure::none) {  // a handler refusal always sets a failure; be safe
      out.failure = JsonFailure::not_json;
      out.problem = "not valid JSON";
    }
    out.value = nullptr;  // the partial document is destroyed here (iteratively, by nlohmann)
  }
  return out;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_JSON_HPP
