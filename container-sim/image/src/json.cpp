// JSON per RFC 8259 (grammar in §2-§7). See json.h for what "strict" means.
#include "virtscope/container_image/json.h"

#include <cstdio>

namespace vs::container_image {

Json Json::make_bool(bool b) {
  Json j;
  j.type = Type::Bool;
  j.boolean = b;
  return j;
}
Json Json::make_int(int64_t n) {
  Json j;
  j.type = Type::Number;
  j.text = std::to_string(n);
  return j;
}
Json Json::make_string(std::string s) {
  Json j;
  j.type = Type::String;
  j.text = std::move(s);
  return j;
}
Json Json::make_array() {
  Json j;
  j.type = Type::Array;
  return j;
}
Json Json::make_object() {
  Json j;
  j.type = Type::Object;
  return j;
}
Json Json::make_strings(const std::vector<std::string>& list) {
  Json j = make_array();
  for (const std::string& s : list) j.items.push_back(make_string(s));
  return j;
}

Json& Json::add(std::string key, Json value) {
  members.push_back(JsonMember{std::move(key), std::move(value)});
  return *this;
}

const Json* Json::find(std::string_view key) const {
  if (type != Type::Object) return nullptr;
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

std::optional<int64_t> Json::as_int() const {
  if (type != Type::Number || text.empty()) return std::nullopt;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size() || text.size() - i > 18) return std::nullopt;  // 18 digits always fit
  int64_t v = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;  // a fraction or exponent
    v = v * 10 + (text[i] - '0');
  }
  return text[0] == '-' ? -v : v;
}

namespace {

void dump_string(const std::string& s, std::string& out) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<uint8_t>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<uint8_t>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void dump_value(const Json& j, std::string& out) {
  switch (j.type) {
    case Json::Type::Null: out += "null"; break;
    case Json::Type::Bool: out += j.boolean ? "true" : "false"; break;
    case Json::Type::Number: out += j.text; break;
    case Json::Type::String: dump_string(j.text, out); break;
    case Json::Type::Array:
      out += '[';
      for (size_t i = 0; i < j.items.size(); ++i) {
        if (i) out += ',';
        dump_value(j.items[i], out);
      }
      out += ']';
      break;
    case Json::Type::Object:
      out += '{';
      for (size_t i = 0; i < j.members.size(); ++i) {
        if (i) out += ',';
        dump_string(j.members[i].key, out);
        out += ':';
        dump_value(j.members[i].value, out);
      }
      out += '}';
      break;
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool parse(Json& out, std::string& error) {
    skip_space();
    if (!value(out, 0)) return fail_out(error);
    skip_space();
    if (pos_ != s_.size()) {
      fail("unexpected text after the JSON value");
      return fail_out(error);
    }
    return true;
  }

 private:
  static constexpr int kMaxDepth = 200;

  bool fail(const std::string& what) {
    if (message_.empty()) {
      size_t line = 1, column = 1;
      for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
        if (s_[i] == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
      message_ = "JSON " + std::to_string(line) + ":" + std::to_string(column) + ": " + what;
    }
    return false;
  }
  bool fail_out(std::string& error) {
    error = message_;
    return false;
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail("invalid literal (expected '" + std::string(word) + "')");
    pos_ += word.size();
    return true;
  }

  bool value(Json& out, int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than 200 levels");
    if (pos_ >= s_.size()) return fail("unexpected end of input, a value was expected");
    const char c = s_[pos_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out.type = Json::Type::String;
      return string(out.text);
    }
    if (c == 't') {
      out = Json::make_bool(true);
      return literal("true");
    }
    if (c == 'f') {
      out = Json::make_bool(false);
      return literal("false");
    }
    if (c == 'n') {
      out = Json{};
      return literal("null");
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    return fail(std::string("unexpected character '") + c + "'");
  }

  bool digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool number(Json& out) {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') return fail("number with a leading zero");
    } else if (!digits()) {
      return fail("'-' without digits");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digits()) return fail("no digits after the decimal point");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("no digits in the exponent");
    }
    out.type = Json::Type::Number;
    out.text = std::string(s_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(uint32_t& v) {
    if (pos_ + 4 > s_.size()) return fail("truncated \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return fail("bad hex digit in \\u escape");
    }
    return true;
  }

  static void put_utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // RFC 8259 §7, with \uD800-\uDBFF followed by \uDC00-\uDFFF as one code point.
  bool string(std::string& out) {
    ++pos_;  // the opening quote
    out.clear();
    for (;;) {
      if (pos_ >= s_.size()) return fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<uint8_t>(c) < 0x20) return fail("control character inside a string (must be escaped)");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (s_.substr(pos_, 2) != "\\u" || (pos_ += 2, !hex4(low)) || low < 0xDC00 || low > 0xDFFF)
              return fail("unpaired UTF-16 surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("unpaired UTF-16 surrogate in \\u escape");
          }
          put_utf8(cp, out);
          break;
        }
        default: return fail(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  bool array(Json& out, int depth) {
    ++pos_;
    out = Json::make_array();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      Json item;
      if (!value(item, depth + 1)) return false;
      out.items.push_back(std::move(item));
      skip_space();
      if (pos_ >= s_.size()) return fail("unterminated array");
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return fail("expected ',' or ']' in array");
      ++pos_;
    }
  }

  bool object(Json& out, int depth) {
    ++pos_;
    out = Json::make_object();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a string key in object");
      std::string key;
      if (!string(key)) return false;
      if (out.find(key)) return fail("duplicate key \"" + key + "\"");
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':' after object key");
      ++pos_;
      skip_space();
      Json member;
      if (!value(member, depth + 1)) return false;
      out.add(std::move(key), std::move(member));
      skip_space();
      if (pos_ >= s_.size()) return fail("unterminated object");
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return fail("expected ',' or '}' in object");
      ++pos_;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string message_;
};

}  // namespace

std::string Json::dump() const {
  std::string out;
  dump_value(*this, out);
  return out;
}

bool json_parse(std::string_view text, Json& out, std::string& error) {
  out = Json{};
  return Parser(text).parse(out, error);
}

bool json_get_string(const Json& object, std::string_view key, bool required, std::string& out,
                     std::string& error) {
  const Json* v = object.find(key);
  if (!v || v->type == Json::Type::Null) {
    if (!required) return true;
    error = "missing required field \"" + std::string(key) + "\"";
    return false;
  }
  if (v->type != Json::Type::String) {
    error = "field \"" + std::string(key) + "\" must be a string";
    return false;
  }
  out = v->text;
  return true;
}

bool json_get_strings(const Json& object, std::string_view key, std::vector<std::string>& out,
                      std::string& error) {
  out.clear();
  const Json* v = object.find(key);
  if (!v || v->type == Json::Type::Null) return true;  // OPTIONAL fields may be null (config.md)
  if (v->type != Json::Type::Array) {
    error = "field \"" + std::string(key) + "\" must be an array of strings";
    return false;
  }
  for (const Json& item : v->items) {
    if (item.type != Json::Type::String) {
      error = "field \"" + std::string(key) + "\" must contain only strings";
      return false;
    }
    out.push_back(item.text);
  }
  return true;
}

}  // namespace vs::container_image
