// A small JSON (RFC 8259) value with a deterministic writer and a strict
// parser, enough for OCI image configs, manifests and index.json.
//
// Determinism: objects keep their members in the order they were added, and
// dump() writes compact JSON (no whitespace), so the same value always gives
// the same bytes and the same digest. Numbers keep their literal text
// (as_int() reads integers). The parser rejects anything RFC 8259 does not
// allow (trailing commas, single quotes, control characters in strings,
// leading zeros, duplicate keys, text after the value) and reports
// line:column; nesting deeper than 200 is refused rather than overflowing
// the stack.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vs::container_image {

struct JsonMember;  // {key, value}: an object's member (below)

struct Json {
  enum class Type : uint8_t { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;                               // Bool
  std::string text;                                   // String: the value (UTF-8); Number: the literal
  std::vector<Json> items;                            // Array
  // Object, in insertion order. Not std::pair<std::string, Json>: a pair
  // needs Json complete where it is named, which libc++ and clang enforce;
  // std::vector of a declared struct does not (C++17 [vector.overview]).
  std::vector<JsonMember> members;

  static Json make_bool(bool b);
  static Json make_int(int64_t n);
  static Json make_string(std::string s);
  static Json make_array();
  static Json make_object();
  static Json make_strings(const std::vector<std::string>& list);  // array of strings

  // Object: adds a member (the caller keeps keys unique); returns *this.
  Json& add(std::string key, Json value);
  // Object: the member `key`, or null when absent or not an object.
  const Json* find(std::string_view key) const;
  // Number holding an integer that fits int64_t.
  std::optional<int64_t> as_int() const;

  std::string dump() const;  // compact, deterministic
};

struct JsonMember {
  std::string key;
  Json value;
};

bool json_parse(std::string_view text, Json& out, std::string& error);

// Readers for the typed fields of OCI documents: each fails with
// "<what>: ..." when the member is missing (if required) or has the wrong type.
bool json_get_string(const Json& object, std::string_view key, bool required, std::string& out,
                     std::string& error);
bool json_get_strings(const Json& object, std::string_view key, std::vector<std::string>& out,
                      std::string& error);

}  // namespace vs::container_image
