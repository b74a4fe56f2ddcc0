// A strict JSON reader following RFC 8259: the grammar of §2-§7 exactly (no
// comments, no trailing commas, no leading zeros), UTF-8 text (§8.1), escapes
// with surrogate pairs, and a nesting limit so hostile input cannot exhaust the stack.
#include "json.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace vs::conformance::json {

const char* type_name(Type t) {
  switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::UInt: return "uint";
    case Type::Double: return "double";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
  }
  return "?";
}

// ------------------------------------------------------------------ Value ----

Type Value::type() const { return present() ? doc_->nodes_[node_].type : Type::Null; }

bool Value::is_number() const {
  if (!present()) return false;
  const Type t = type();
  return t == Type::Int || t == Type::UInt || t == Type::Double;
}

std::optional<bool> Value::boolean() const {
  if (!is_bool()) return std::nullopt;
  return doc_->nodes_[node_].b;
}

std::optional<int64_t> Value::int64() const {
  if (!present()) return std::nullopt;
  const auto& n = doc_->nodes_[node_];
  if (n.type == Type::Int) return n.i;
  if (n.type == Type::UInt && n.u <= uint64_t(std::numeric_limits<int64_t>::max())) return int64_t(n.u);
  return std::nullopt;
}

std::optional<uint64_t> Value::uint64() const {
  if (!present()) return std::nullopt;
  const auto& n = doc_->nodes_[node_];
  if (n.type == Type::UInt) return n.u;
  if (n.type == Type::Int && n.i >= 0) return uint64_t(n.i);
  return std::nullopt;
}

std::optional<double> Value::number() const {
  if (!present()) return std::nullopt;
  const auto& n = doc_->nodes_[node_];
  switch (n.type) {
    case Type::Int: return double(n.i);
    case Type::UInt: return double(n.u);
    case Type::Double: return n.d;
    default: return std::nullopt;
  }
}

std::optional<std::string_view> Value::string() const {
  if (!is_string()) return std::nullopt;
  const auto& n = doc_->nodes_[node_];
  return std::string_view(doc_->chars_).substr(n.first, n.count);
}

size_t Value::size() const {
  if (!is_array() && !is_object()) return 0;
  return doc_->nodes_[node_].count;
}

Value Value::operator[](size_t index) const {
  if (!is_array() || index >= size()) return {};
  return Value(doc_, doc_->kids_[doc_->nodes_[node_].first + index]);
}

std::string_view Value::key_at(size_t index) const {
  if (!is_object() || index >= size()) return {};
  return *Value(doc_, doc_->kids_[doc_->nodes_[node_].first + 2 * index]).string();
}

Value Value::value_at(size_t index) const {
  if (!is_object() || index >= size()) return {};
  return Value(doc_, doc_->kids_[doc_->nodes_[node_].first + 2 * index + 1]);
}

Value Value::get(std::string_view key) const {
  const size_t n = size();
  if (!is_object()) return {};
  for (size_t k = 0; k < n; ++k)
    if (key_at(k) == key) return value_at(k);
  return {};
}

// ----------------------------------------------------------------- Parser ----

// Recursive descent over the text; nodes go straight into the Document's
// tables. Every failure records the first offending byte offset and unwinds.
class Parser {
 public:
  Parser(Document& doc, std::string_view text, const ParseLimits& limits)
      : d_(doc), t_(text), max_depth_(limits.max_depth) {}

  bool parse_document() {
    skip_ws();
    if (!parse_value(0)) return false;
    skip_ws();
    if (p_ != t_.size()) return fail("unexpected data after the top-level value");
    return true;
  }

 private:
  bool fail(const char* what) { return fail_at(p_, what); }
  bool fail_at(size_t at, const char* what) {
    if (d_.error_.empty()) {
      d_.error_offset_ = at;
      d_.error_ = std::string(what) + " at offset " + std::to_string(at);
    }
    return false;
  }
  bool at_end() const { return p_ >= t_.size(); }
  char peek() const { return t_[p_]; }

  void skip_ws() {
    while (p_ < t_.size()) {
      const char c = t_[p_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++p_;
    }
  }

  uint32_t new_node(Type type) {
    d_.nodes_.emplace_back();
    d_.nodes_.back().type = type;
    return uint32_t(d_.nodes_.size() - 1);
  }

  bool parse_value(unsigned depth) {
    if (at_end()) return fail("unexpected end of input, expected a value");
    if (d_.nodes_.size() >= std::numeric_limits<uint32_t>::max() - 1) return fail("too many values");
    switch (peek()) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': {
        const uint32_t n = new_node(Type::String);
        return parse_string(n);
      }
      case 't': return parse_literal("true", Type::Bool, true);
      case 'f': return parse_literal("false", Type::Bool, false);
      case 'n': return parse_literal("null", Type::Null, false);
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parse_number();
        return fail("unexpected character, expected a value");
    }
  }

  bool parse_literal(std::string_view word, Type type, bool b) {
    if (t_.substr(p_, word.size()) != word) return fail("invalid literal");
    p_ += word.size();
    const uint32_t n = new_node(type);
    d_.nodes_[n].b = b;
    return true;
  }

  // Moves the children collected on the scratch stack since `mark` into kids_.
  void commit_children(uint32_t node, size_t mark, uint32_t count) {
    d_.nodes_[node].first = uint32_t(d_.kids_.size());
    d_.nodes_[node].count = count;
    d_.kids_.insert(d_.kids_.end(), d_.scratch_.begin() + mark, d_.scratch_.end());
    d_.scratch_.resize(mark);
  }

  bool enter(unsigned depth) {
    if (depth > max_depth_) return fail("nesting deeper than the limit");
    return true;
  }

  bool parse_array(unsigned depth) {
    if (!enter(depth)) return false;
    const uint32_t node = new_node(Type::Array);
    const size_t mark = d_.scratch_.size();
    ++p_;  // '['
    skip_ws();
    uint32_t count = 0;
    if (!at_end() && peek() == ']') {
      ++p_;
      commit_children(node, mark, 0);
      return true;
    }
    for (;;) {
      skip_ws();
      d_.scratch_.push_back(uint32_t(d_.nodes_.size()));
      if (!parse_value(depth)) return false;
      ++count;
      skip_ws();
      if (at_end()) return fail("unexpected end of input inside an array");
      if (peek() == ',') {
        ++p_;
        continue;
      }
      if (peek() == ']') {
        ++p_;
        break;
      }
      return fail("expected ',' or ']' in an array");
    }
    commit_children(node, mark, count);
    return true;
  }

  bool parse_object(unsigned depth) {
    if (!enter(depth)) return false;
    const uint32_t node = new_node(Type::Object);
    const size_t mark = d_.scratch_.size();
    ++p_;  // '{'
    skip_ws();
    uint32_t count = 0;
    if (!at_end() && peek() == '}') {
      ++p_;
      commit_children(node, mark, 0);
      return true;
    }
    for (;;) {
      skip_ws();
      if (at_end()) return fail("unexpected end of input inside an object");
      if (peek() != '"') return fail("expected a member name string");
      const uint32_t key = new_node(Type::String);
      if (!parse_string(key)) return false;
      skip_ws();
      if (at_end()) return fail("unexpected end of input inside an object");
      if (peek() != ':') return fail("expected ':' after a member name");
      ++p_;
      skip_ws();
      d_.scratch_.push_back(key);
      d_.scratch_.push_back(uint32_t(d_.nodes_.size()));
      if (!parse_value(depth)) return false;
      ++count;
      skip_ws();
      if (at_end()) return fail("unexpected end of input inside an object");
      if (peek() == ',') {
        ++p_;
        continue;
      }
      if (peek() == '}') {
        ++p_;
        break;
      }
      return fail("expected ',' or '}' in an object");
    }
    commit_children(node, mark, count);
    return true;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool read_hex4(uint32_t& out) {
    if (t_.size() - p_ < 4) return fail("truncated \\u escape");
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = hex_digit(t_[p_ + k]);
      if (h < 0) return fail_at(p_ + k, "invalid hex digit in \\u escape");
      out = out << 4 | uint32_t(h);
    }
    p_ += 4;
    return true;
  }

  void append_utf8(uint32_t cp) {
    std::string& o = d_.chars_;
    if (cp < 0x80) {
      o.push_back(char(cp));
    } else if (cp < 0x800) {
      o.push_back(char(0xC0 | cp >> 6));
      o.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      o.push_back(char(0xE0 | cp >> 12));
      o.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      o.push_back(char(0x80 | (cp & 0x3F)));
    } else {
      o.push_back(char(0xF0 | cp >> 18));
      o.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      o.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      o.push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  // Length of the well-formed UTF-8 sequence at p_ (Unicode §3.9 Table 3-7),
  // or 0 if it is not one: no overlongs, no surrogates, nothing past U+10FFFF.
  size_t utf8_sequence_length() const {
    const auto b = [&](size_t k) { return uint8_t(p_ + k < t_.size() ? t_[p_ + k] : 0); };
    const uint8_t c = b(0);
    const auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xBF) { return b(k) >= lo && b(k) <= hi; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
  }

  bool parse_string(uint32_t node) {
    ++p_;  // opening quote
    const size_t start = d_.chars_.size();
    for (;;) {
      // Copy the run of plain ASCII in one go (the common case).
      size_t run = p_;
      while (run < t_.size()) {
        const uint8_t c = uint8_t(t_[run]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++run;
      }
      d_.chars_.append(t_.data() + p_, run - p_);
      p_ = run;
      if (at_end()) return fail("unexpected end of input inside a string");
      const uint8_t c = uint8_t(peek());
      if (c == '"') {
        ++p_;
        break;
      }
      if (c < 0x20) return fail("unescaped control character in a string");
      if (c >= 0x80) {
        const size_t len = utf8_sequence_length();
        if (len == 0) return fail("invalid UTF-8 in a string");
        d_.chars_.append(t_.data() + p_, len);
        p_ += len;
        continue;
      }
      // A backslash escape (RFC 8259 §7).
      ++p_;
      if (at_end()) return fail("unexpected end of input in an escape");
      const char e = peek();
      ++p_;
      switch (e) {
        case '"': d_.chars_.push_back('"'); break;
        case '\\': d_.chars_.push_back('\\'); break;
        case '/': d_.chars_.push_back('/'); break;
        case 'b': d_.chars_.push_back('\b'); break;
        case 'f': d_.chars_.push_back('\f'); break;
        case 'n': d_.chars_.push_back('\n'); break;
        case 'r': d_.chars_.push_back('\r'); break;
        case 't': d_.chars_.push_back('\t'); break;
        case 'u': {
          const size_t esc = p_ - 2;
          uint32_t cp = 0;
          if (!read_hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail_at(esc, "unpaired low surrogate escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (t_.substr(p_, 2) != "\\u") return fail_at(esc, "unpaired high surrogate escape");
            p_ += 2;
            if (!read_hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail_at(esc, "unpaired high surrogate escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(cp);
          break;
        }
        default: return fail_at(p_ - 1, "invalid escape character");
      }
    }
    if (d_.chars_.size() - start > std::numeric_limits<uint32_t>::max() ||
        start > std::numeric_limits<uint32_t>::max())
      return fail("string table too large");
    d_.nodes_[node].first = uint32_t(start);
    d_.nodes_[node].count = uint32_t(d_.chars_.size() - start);
    return true;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  // number = [ minus ] int [ frac ] [ exp ]  (RFC 8259 §6).
  bool parse_number() {
    const size_t start = p_;
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++p_;
    }
    if (at_end() || !is_digit(peek())) return fail("expected a digit");
    if (peek() == '0') {
      ++p_;
      if (!at_end() && is_digit(peek())) return fail("leading zero in a number");
    } else {
      while (!at_end() && is_digit(peek())) ++p_;
    }
    bool integral = true;
    if (!at_end() && peek() == '.') {
      integral = false;
      ++p_;
      if (at_end() || !is_digit(peek())) return fail("expected a digit after '.'");
      while (!at_end() && is_digit(peek())) ++p_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++p_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++p_;
      if (at_end() || !is_digit(peek())) return fail("expected a digit in the exponent");
      while (!at_end() && is_digit(peek())) ++p_;
    }
    const char* first = t_.data() + start;
    const char* last = t_.data() + p_;
    const uint32_t n = new_node(Type::Int);
    if (integral) {
      // Accumulate the magnitude; fall back to double only beyond 64 bits.
      uint64_t mag = 0;
      bool overflow = false;
      for (const char* q = first + (negative ? 1 : 0); q < last; ++q) {
        const uint64_t digit = uint64_t(*q - '0');
        if (mag > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
          overflow = true;
          break;
        }
        mag = mag * 10 + digit;
      }
      if (!overflow) {
        if (!negative) {
          if (mag <= uint64_t(std::numeric_limits<int64_t>::max())) {
            d_.nodes_[n].i = int64_t(mag);
          } else {
            d_.nodes_[n].type = Type::UInt;
            d_.nodes_[n].u = mag;
          }
          return true;
        }
        if (mag <= uint64_t(std::numeric_limits<int64_t>::max()) + 1) {
          d_.nodes_[n].i = mag == uint64_t(std::numeric_limits<int64_t>::max()) + 1
                               ? std::numeric_limits<int64_t>::min()
                               : -int64_t(mag);
          return true;
        }
      }
    }
    double value = 0;
    const auto r = std::from_chars(first, last, value);
    if (r.ec == std::errc::result_out_of_range) return fail_at(start, "number out of the range of a double");
    if (r.ec != std::errc() || r.ptr != last) return fail_at(start, "malformed number");
    d_.nodes_[n].type = Type::Double;
    d_.nodes_[n].d = value;
    return true;
  }

  Document& d_;
  std::string_view t_;
  size_t p_ = 0;
  unsigned max_depth_;
};

bool Document::parse(std::string_view text, ParseLimits limits) {
  nodes_.clear();
  kids_.clear();
  chars_.clear();
  scratch_.clear();
  error_.clear();
  error_offset_ = 0;
  ok_ = false;
  // Recursion depth is bounded by the limit; cap it so no caller can ask for
  // a stack-exhausting depth.
  limits.max_depth = std::min(limits.max_depth, 1024u);
  if (text.size() > limits.max_input) {
    error_ = "input of " + std::to_string(text.size()) + " bytes exceeds the limit at offset 0";
    return false;
  }
  Parser parser(*this, text, limits);
  ok_ = parser.parse_document();
  if (!ok_) {
    nodes_.clear();
    kids_.clear();
    chars_.clear();
  }
  return ok_;
}

}  // namespace vs::conformance::json
