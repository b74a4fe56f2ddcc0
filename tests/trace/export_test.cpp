// Tests of trace export: JSON Lines and the Chrome trace-event format (JSON
// array form). A small RFC 8259 checker below stands in for a JSON library.
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>
#include <string>
#include <string_view>

#include "virtscope/trace/event.h"
#include "virtscope/trace/export.h"

namespace vs::trace {
namespace {

// A minimal recursive-descent JSON validator (RFC 8259 grammar): true when
// `text` is exactly one JSON value surrounded by optional whitespace.
class JsonChecker {
 public:
  static bool valid(std::string_view text) {
    JsonChecker c{text};
    c.skip_space();
    if (!c.value(0)) return false;
    c.skip_space();
    return c.pos_ == text.size();
  }

 private:
  explicit JsonChecker(std::string_view t) : s_(t) {}

  bool value(int depth) {
    if (depth > 64 || pos_ >= s_.size()) return false;
    switch (s_[pos_]) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }
  bool object(int depth) {
    ++pos_;
    skip_space();
    if (eat('}')) return true;
    for (;;) {
      skip_space();
      if (!string()) return false;
      skip_space();
      if (!eat(':')) return false;
      skip_space();
      if (!value(depth + 1)) return false;
      skip_space();
      if (eat('}')) return true;
      if (!eat(',')) return false;
    }
  }
  bool array(int depth) {
    ++pos_;
    skip_space();
    if (eat(']')) return true;
    for (;;) {
      skip_space();
      if (!value(depth + 1)) return false;
      skip_space();
      if (eat(']')) return true;
      if (!eat(',')) return false;
    }
  }
  bool string() {
    if (!eat('"')) return false;
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (pos_ >= s_.size()) return false;
      const char e = s_[pos_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i)
          if (pos_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_++]))) return false;
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    const size_t start = pos_;
    eat('-');
    if (eat('0')) {
    } else if (!digits()) {
      return false;
    }
    if (eat('.') && !digits()) return false;
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!eat('+')) eat('-');
      if (!digits()) return false;
    }
    return pos_ > start;
  }
  bool digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    return pos_ > start;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

Event make_event(uint64_t seq, EventKind kind, uint64_t icount, uint16_t vm, uint32_t pid,
                 uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, const char* file, uint32_t line) {
  return Event{seq, {icount, icount * 3}, kind, vm, pid, {a0, a1, a2, a3}, file, line};
}

TEST(JsonChecker, RejectsBrokenJson) {
  EXPECT_TRUE(JsonChecker::valid(R"([{"a":1,"b":[true,null,"x\"y"]}])"));
  EXPECT_FALSE(JsonChecker::valid(R"([{"a":1,}])"));
  EXPECT_FALSE(JsonChecker::valid(R"([{"a":1})"));
  EXPECT_FALSE(JsonChecker::valid("[\"tab\there\"]"));
  EXPECT_FALSE(JsonChecker::valid("[1],"));
}

TEST(Jsonl, Line_IsOneObjectWithFieldsNamedFromDef) {
  const Event ev = make_event(3, EventKind::Exception, 100, 1, 7, 14, 2, 0x1000, 8, "cpu/src/x.cpp", 42);
  std::ostringstream out;
  write_jsonl(ev, out);
  const std::string line = out.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
  EXPECT_TRUE(JsonChecker::valid(line)) << line;
  for (const char* expected : {"\"seq\":3", "\"icount\":100", "\"cycles\":300", "\"kind\":\"Exception\"",
                               "\"vm\":1", "\"pid\":7", "\"vector\":14", "\"error_code\":2",
                               "\"eip\":4096", "\"cs\":8", "\"src\":\"cpu/src/x.cpp:42\""})
    EXPECT_NE(line.find(expected), std::string::npos) << expected << " missing from " << line;
}

TEST(Jsonl, UnusedFields_AreLeftOut) {
  const Event ev = make_event(0, EventKind::Halt, 5, 0, 0, 0x7c00, 0, 99, 99, "a.cpp", 1);
  std::ostringstream out;
  write_jsonl(ev, out);
  EXPECT_EQ(out.str(),
            "{\"seq\":0,\"icount\":5,\"cycles\":15,\"kind\":\"Halt\",\"vm\":0,\"pid\":0,"
            "\"eip\":31744,\"cs\":0,\"src\":\"a.cpp:1\"}\n");
}

TEST(Jsonl, AwkwardSourcePath_IsEscaped) {
  const Event ev = make_event(0, EventKind::Halt, 0, 0, 0, 0, 0, 0, 0, "we\"ird\\pa\nth\x01.cpp", 9);
  std::ostringstream out;
  write_jsonl(ev, out);
  EXPECT_TRUE(JsonChecker::valid(out.str())) << out.str();
  EXPECT_NE(out.str().find(R"(we\"ird\\pa\nth\u0001.cpp:9)"), std::string::npos) << out.str();
}

TEST(Jsonl, MissingSourceFile_StillValid) {
  const Event ev = make_event(0, EventKind::Halt, 0, 0, 0, 0, 0, 0, 0, nullptr, 0);
  std::ostringstream out;
  write_jsonl(ev, out);
  EXPECT_TRUE(JsonChecker::valid(out.str())) << out.str();
}

TEST(Jsonl, SourcePath_IsRelativeToProjectRoot) {
  EventLog log;
  log.record(KindSet::all());
  log.emit(EventKind::Halt, {});
  std::ostringstream out;
  write_jsonl(log.recorded().at(0), out);
  EXPECT_NE(out.str().find("\"src\":\"tests/trace/export_test.cpp:"), std::string::npos) << out.str();
}

TEST(TraceWriter, FormatForPath_ChoosesByExtension) {
  EXPECT_EQ(TraceWriter::format_for_path("run.json"), TraceWriter::Format::ChromeTrace);
  EXPECT_EQ(TraceWriter::format_for_path("RUN.JSON"), TraceWriter::Format::ChromeTrace);
  EXPECT_EQ(TraceWriter::format_for_path("run.jsonl"), TraceWriter::Format::JsonLines);
  EXPECT_EQ(TraceWriter::format_for_path("run.trace"), TraceWriter::Format::JsonLines);
  EXPECT_EQ(TraceWriter::format_for_path(""), TraceWriter::Format::JsonLines);
}

TEST(TraceWriter, ChromeTrace_TwoEvents_ExactText) {
  std::ostringstream out;
  {
    TraceWriter w(out, TraceWriter::Format::ChromeTrace);
    w.write(make_event(0, EventKind::Exception, 100, 0, 0, 14, 2, 0x1000, 8, "cpu/src/exceptions.cpp", 10));
    w.write(make_event(1, EventKind::PortOut, 105, 1, 7, 0x3f8, 1, 'A', 0, "devices/src/uart.cpp", 20));
    EXPECT_EQ(w.written(), 2u);
  }  // the destructor closes the array
  const std::string expected =
      "[\n"
      R"({"name":"process_name","ph":"M","pid":0,"tid":0,"args":{"name":"virtscope"}},)" "\n"
      R"({"name":"Exception","cat":"virtscope","ph":"i","s":"t","ts":100,"pid":0,"tid":0,)"
      R"("args":{"seq":0,"cycles":300,"vector":14,"error_code":2,"eip":4096,"cs":8,"src":"cpu/src/exceptions.cpp:10"}},)" "\n"
      R"({"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"virtscope vm 1"}},)" "\n"
      R"({"name":"PortOut","cat":"virtscope","ph":"i","s":"t","ts":105,"pid":1,"tid":7,)"
      R"("args":{"seq":1,"cycles":315,"port":1016,"size":1,"value":65,"src":"devices/src/uart.cpp:20"}})" "\n"
      "]\n";
  EXPECT_EQ(out.str(), expected);
  EXPECT_TRUE(JsonChecker::valid(out.str()));
}

TEST(TraceWriter, ChromeTrace_Empty_IsValidArray) {
  std::ostringstream out;
  TraceWriter w(out, TraceWriter::Format::ChromeTrace);
  w.finish();
  EXPECT_TRUE(JsonChecker::valid(out.str())) << out.str();
  EXPECT_EQ(out.str().front(), '[');
}

TEST(TraceWriter, Finish_IsIdempotentAndLaterWritesIgnored) {
  std::ostringstream out;
  TraceWriter w(out, TraceWriter::Format::ChromeTrace);
  w.write(make_event(0, EventKind::Halt, 1, 0, 0, 0, 0, 0, 0, "a.cpp", 1));
  w.finish();
  const std::string once = out.str();
  w.finish();
  w.write(make_event(1, EventKind::Halt, 2, 0, 0, 0, 0, 0, 0, "a.cpp", 1));
  EXPECT_EQ(out.str(), once);
  EXPECT_EQ(w.written(), 1u);
  EXPECT_TRUE(JsonChecker::valid(once)) << once;
}

TEST(TraceWriter, SubscribedToLog_StreamsEverythingPastAFullRing) {
  EventLog log(2);
  log.record(KindSet::all());
  std::ostringstream chrome, jsonl;
  TraceWriter cw(chrome, TraceWriter::Format::ChromeTrace);
  TraceWriter jw(jsonl, TraceWriter::Format::JsonLines);
  log.subscribe(KindSet::all(), [&](const Event& e) { cw.write(e); });
  log.subscribe(KindSet::all(), [&](const Event& e) { jw.write(e); });
  for (uint64_t i = 0; i < 10; ++i) {
    log.set_context(static_cast<uint16_t>(i % 3), static_cast<uint32_t>(i));
    log.emit(EventKind::Interrupt, {i, i}, 32 + i, 0, 0x100 + i, 8);
  }
  cw.finish();
  jw.finish();
  EXPECT_EQ(log.recorded().size(), 2u);
  EXPECT_EQ(cw.written(), 10u);
  EXPECT_TRUE(cw.ok());
  EXPECT_TRUE(JsonChecker::valid(chrome.str())) << chrome.str();
  EXPECT_NE(chrome.str().find("\"virtscope vm 2\""), std::string::npos);

  std::istringstream lines(jsonl.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(JsonChecker::valid(line)) << line;
    EXPECT_NE(line.find("\"seq\":" + std::to_string(n) + ","), std::string::npos) << line;
    EXPECT_NE(line.find("\"kind\":\"Interrupt\""), std::string::npos) << line;
    ++n;
  }
  EXPECT_EQ(n, 10);
}

TEST(TraceWriter, FailedStream_IsReportedNotFatal) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  TraceWriter w(out, TraceWriter::Format::JsonLines);
  w.write(make_event(0, EventKind::Halt, 0, 0, 0, 0, 0, 0, 0, "a.cpp", 1));
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace vs::trace
