// A small strict JSON reader (RFC 8259) for the conformance data files: one
// flat node table per document, so parsing a 150 KB test file allocates a few
// buffers that are reused for the next file, never one object per value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vs::conformance::json {

enum class Type : uint8_t { Null, Bool, Int, UInt, Double, String, Array, Object };
const char* type_name(Type);

class Document;

// A read-only view of one value inside a Document; valid while the Document
// lives and is not re-parsed. A default-constructed (or missing) Value is
// "absent": every accessor then answers "not that type".
class Value {
 public:
  Value() = default;
  bool present() const { return doc_ != nullptr; }
  explicit operator bool() const { return present(); }
  Type type() const;
  bool is_null() const { return present() && type() == Type::Null; }
  bool is_bool() const { return present() && type() == Type::Bool; }
  bool is_number() const;
  bool is_string() const { return present() && type() == Type::String; }
  bool is_array() const { return present() && type() == Type::Array; }
  bool is_object() const { return present() && type() == Type::Object; }

  std::optional<bool> boolean() const;
  // Integers: a literal without fraction or exponent that fits. int64() also
  // takes UInt values up to INT64_MAX; uint64() takes non-negative Int values.
  std::optional<int64_t> int64() const;
  std::optional<uint64_t> uint64() const;
  std::optional<double> number() const;  // any number, converted
  std::optional<std::string_view> string() const;

  // Arrays and objects: element count (0 for anything else).
  size_t size() const;
  Value operator[](size_t index) const;        // array element; absent if out of range
  Value get(std::string_view key) const;       // object member (first match); absent if none
  std::string_view key_at(size_t index) const; // object member name by position
  Value value_at(size_t index) const;          // object member value by position

 private:
  friend class Document;
  Value(const Document* doc, uint32_t node) : doc_(doc), node_(node) {}
  const Document* doc_ = nullptr;
  uint32_t node_ = 0;
};

struct ParseLimits {
  unsigned max_depth = 64;               // nested arrays/objects
  size_t max_input = size_t(1) << 30;    // bytes of text
};

class Document {
 public:
  // Parses `text`; on failure returns false, error() says what and where
  // (byte offset), and root() is absent. Buffers from earlier parses are reused.
  bool parse(std::string_view text, ParseLimits limits = {});
  Value root() const { return ok_ ? Value(this, 0) : Value(); }
  const std::string& error() const { return error_; }
  size_t error_offset() const { return error_offset_; }

 private:
  friend class Value;
  friend class Parser;
  struct Node {
    Type type = Type::Null;
    uint32_t count = 0;  // Array/Object: children; String: byte length
    uint32_t first = 0;  // Array/Object: index into kids_; String: offset into chars_
    union {
      bool b;
      int64_t i;
      uint64_t u;
      double d;
    };
    Node() : u(0) {}
  };
  // Object members are stored as (key string node, value node) pairs in kids_.
  std::vector<Node> nodes_;
  std::vector<uint32_t> kids_;
  std::string chars_;
  std::vector<uint32_t> scratch_;  // children of the containers being parsed
  bool ok_ = false;
  std::string error_;
  size_t error_offset_ = 0;
};

}  // namespace vs::conformance::json
