// JSON Lines and Chrome trace-event export (JSON: RFC 8259; Chrome: the "Trace
// Event Format" document, JSON array form, instant events and metadata events).
#include "virtscope/trace/export.h"

#include <charconv>
#include <ostream>

namespace vs::trace {
namespace {

// Set by trace/CMakeLists.txt to the project root with a trailing '/'.
#ifndef VS_TRACE_SOURCE_ROOT
#define VS_TRACE_SOURCE_ROOT ""
#endif

void append_uint(std::string& out, uint64_t v) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, result.ptr);
}

// The inside of a JSON string literal: quotes, backslashes and control characters escaped
// (RFC 8259 §7). Other bytes pass through; source paths are UTF-8. Runs of
// plain characters are copied in one append, which is most of every string.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto needs_escape = [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return c == '"' || c == '\\' || byte < 0x20 || byte == 0x7f;
  };
  size_t plain_from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!needs_escape(c)) continue;
    out.append(s.data() + plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        const char escaped[] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xf]};
        out.append(escaped, sizeof escaped);
      }
    }
  }
  out.append(s.data() + plain_from, s.size() - plain_from);
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

// ,"key":value — keys come from events.def or this file, values are numbers.
void append_field(std::string& out, std::string_view key, uint64_t value) {
  out += ',';
  append_json_string(out, key);
  out += ':';
  append_uint(out, value);
}

// The fields events.def names for this kind, in order, unused ones skipped.
void append_named_args(std::string& out, const Event& ev) {
  const EventKindInfo& info = kind_info(ev.kind);
  for (size_t i = 0; i < 4; ++i) {
    if (info.fields[i][0] == '\0') continue;
    append_field(out, info.fields[i], ev.arg[i]);
  }
}

// ,"src":"path:line"
void append_source(std::string& out, const Event& ev) {
  out += ",\"src\":\"";
  append_escaped(out, exported_source_path(ev.file));
  out += ':';
  append_uint(out, ev.line);
  out += '"';
}

void append_jsonl(std::string& out, const Event& ev) {
  out += "{\"seq\":";
  append_uint(out, ev.seq);
  append_field(out, "icount", ev.when.icount);
  append_field(out, "cycles", ev.when.cycles);
  out += ",\"kind\":";
  append_json_string(out, kind_info(ev.kind).name);
  append_field(out, "vm", ev.vm);
  append_field(out, "pid", ev.pid);
  append_named_args(out, ev);
  append_source(out, ev);
  out += "}\n";
}

void append_chrome_instant(std::string& out, const Event& ev) {
  out += "{\"name\":";
  append_json_string(out, kind_info(ev.kind).name);
  out += ",\"cat\":\"virtscope\",\"ph\":\"i\",\"s\":\"t\"";
  append_field(out, "ts", ev.when.icount);  // 1 µs in the viewer = 1 instruction
  append_field(out, "pid", ev.vm);
  append_field(out, "tid", ev.pid);
  out += ",\"args\":{\"seq\":";
  append_uint(out, ev.seq);
  append_field(out, "cycles", ev.when.cycles);
  append_named_args(out, ev);
  append_source(out, ev);
  out += "}}";
}

bool ends_with_ignoring_case(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = (s[i] >= 'A' && s[i] <= 'Z') ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != suffix[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view exported_source_path(const char* file) {
  if (file == nullptr) return "";
  const std::string_view path(file);
  const std::string_view root(VS_TRACE_SOURCE_ROOT);
  if (!root.empty() && path.starts_with(root)) return path.substr(root.size());
  return path;
}

void write_jsonl(const Event& ev, std::ostream& out) {
  std::string line;
  append_jsonl(line, ev);
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
}

TraceWriter::Format TraceWriter::format_for_path(std::string_view path) {
  return ends_with_ignoring_case(path, ".json") ? Format::ChromeTrace : Format::JsonLines;
}

TraceWriter::TraceWriter(std::ostream& out, Format f) : out_(out), format_(f) {
  if (format_ == Format::ChromeTrace) {
    out_ << "[\n";
    write_process_name(0);
  }
}

TraceWriter::~TraceWriter() {
  try {
    finish();
  } catch (...) {
    // A stream set to throw must not take the process down from a destructor.
  }
}

// A metadata event so the viewer labels the VM's track instead of "pid 0".
void TraceWriter::write_process_name(uint16_t vm) {
  named_vms_.insert(vm);
  buf_.clear();
  if (vm != 0) buf_ += ",\n";
  buf_ += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":";
  append_uint(buf_, vm);
  buf_ += ",\"tid\":0,\"args\":{\"name\":";
  if (vm == 0) {
    append_json_string(buf_, "virtscope");
  } else {
    std::string name = "virtscope vm ";
    append_uint(name, vm);
    append_json_string(buf_, name);
  }
  buf_ += "}}";
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
}

void TraceWriter::write(const Event& ev) {
  if (finished_) return;
  if (format_ == Format::JsonLines) {
    buf_.clear();
    append_jsonl(buf_, ev);
  } else {
    if (!named_vms_.contains(ev.vm)) write_process_name(ev.vm);
    buf_.assign(",\n");
    append_chrome_instant(buf_, ev);
  }
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  ++written_;
}

void TraceWriter::finish() {
  if (finished_) return;
  finished_ = true;
  if (format_ == Format::ChromeTrace) out_ << "\n]\n";
  out_.flush();
}

bool TraceWriter::ok() const { return !out_.fail(); }

}  // namespace vs::trace
