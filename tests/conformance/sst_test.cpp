// Tests for the SingleStepTests runner (conformance/src/sst.cpp) and its
// strict JSON reader (RFC 8259), plus the full 80286 suite and 80386 sample.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "json.h"
#include "virtscope/conformance/sst.h"

namespace vs::conformance {
namespace {

namespace fs = std::filesystem;
using json::Document;
using json::Type;

// ------------------------------------------------------------------ JSON ----

TEST(Json, Scalars_ParseToTheirTypes) {
  Document d;
  ASSERT_TRUE(d.parse(R"([null, true, false, 0, -1, 42, 9223372036854775807, 18446744073709551615,
                         -9223372036854775808, 1.5, -2e3, 0.25E+1, 18446744073709551616])"))
      << d.error();
  const auto r = d.root();
  ASSERT_EQ(r.size(), 13u);
  EXPECT_TRUE(r[0].is_null());
  EXPECT_EQ(r[1].boolean(), true);
  EXPECT_EQ(r[2].boolean(), false);
  EXPECT_EQ(r[3].int64(), 0);
  EXPECT_EQ(r[4].int64(), -1);
  EXPECT_EQ(r[4].uint64(), std::nullopt);
  EXPECT_EQ(r[5].uint64(), 42u);
  EXPECT_EQ(r[6].type(), Type::Int);
  EXPECT_EQ(r[6].int64(), INT64_MAX);
  EXPECT_EQ(r[7].type(), Type::UInt);
  EXPECT_EQ(r[7].uint64(), UINT64_MAX);
  EXPECT_EQ(r[7].int64(), std::nullopt);
  EXPECT_EQ(r[8].int64(), INT64_MIN);
  EXPECT_EQ(r[9].type(), Type::Double);
  EXPECT_EQ(r[9].number(), 1.5);
  EXPECT_EQ(r[10].number(), -2000.0);
  EXPECT_EQ(r[11].number(), 2.5);
  EXPECT_EQ(r[12].type(), Type::Double);  // beyond 64 bits: kept as a double
  EXPECT_EQ(r[12].uint64(), std::nullopt);
  EXPECT_FALSE(r[13].present());
}

TEST(Json, Objects_LookUpMembersInOrder) {
  Document d;
  ASSERT_TRUE(d.parse(R"( { "a" : {"b": [1, {"c": "x"}]}, "empty": {}, "none": [] } )")) << d.error();
  const auto r = d.root();
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.key_at(1), "empty");
  EXPECT_EQ(r.get("a").get("b")[1].get("c").string(), "x");
  EXPECT_EQ(r.get("a").get("b")[0].int64(), 1);
  EXPECT_TRUE(r.get("empty").is_object());
  EXPECT_EQ(r.get("none").size(), 0u);
  EXPECT_FALSE(r.get("missing").present());
  EXPECT_FALSE(r.get("a").get("b").get("c").present());  // get() on an array: absent
}

TEST(Json, StringEscapes_DecodeToUtf8) {
  Document d;
  ASSERT_TRUE(d.parse(R"(["\"\\\/\b\f\n\r\t", "\u0041\u00e9\u20AC", "\ud83d\ude00", "h\u00e9llo \u0000!"])"))
      << d.error();
  const auto r = d.root();
  EXPECT_EQ(r[0].string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(r[1].string(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(r[2].string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(r[3].string(), std::string_view("h\xC3\xA9llo \0!", 9));
  ASSERT_TRUE(d.parse("\"caf\xC3\xA9\""));  // raw UTF-8 passes through
  EXPECT_EQ(d.root().string(), "caf\xC3\xA9");
}

TEST(Json, MalformedInput_ReportsErrorWithOffset) {
  struct Case {
    const char* text;
    size_t offset;
  };
  const Case cases[] = {
      {"", 0},           {"   ", 3},          {"[1,]", 3},         {"{\"a\":1,}", 7},  {"[1 2]", 3},
      {"01", 1},         {"-", 1},            {"1.", 2},           {"1e", 2},          {"+1", 0},
      {"tru", 0},        {"nul", 0},          {"\"abc", 4},        {"\"\\x\"", 2},     {"\"\\u12g4\"", 5},
      {"\"\\ud800\"", 1}, {"\"\\udc00\"", 1}, {"\"a\nb\"", 2},     {"{a:1}", 1},       {"{\"a\" 1}", 5},
      {"[1] [2]", 4},    {"\"\xC3\"", 1},     {"\"\xED\xA0\x80\"", 1}, {"\"\xC0\xAF\"", 1}, {"1e999", 0},
      {"[", 1},          {"{\"a\":", 5},      {"NaN", 0},
  };
  Document d;
  for (const Case& c : cases) {
    EXPECT_FALSE(d.parse(c.text)) << "accepted: " << c.text;
    EXPECT_EQ(d.error_offset(), c.offset) << c.text << " -> " << d.error();
    EXPECT_NE(d.error().find("offset"), std::string::npos) << d.error();
    EXPECT_FALSE(d.root().present());
  }
}

TEST(Json, DepthLimit_RejectsDeeperNesting) {
  Document d;
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(d.parse(ok)) << d.error();
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_FALSE(d.parse(deep));
  EXPECT_NE(d.error().find("nesting"), std::string::npos) << d.error();
  // A huge requested limit is capped, so a million brackets cannot exhaust the stack.
  const std::string hostile(1'000'000, '[');
  EXPECT_FALSE(d.parse(hostile, {.max_depth = 100'000'000}));
  EXPECT_FALSE(d.parse(std::string(100, '{'), {.max_depth = 8}));
}

TEST(Json, TruncatedInput_EveryPrefixFailsCleanly) {
  const std::string full =
      R"({"idx": 0, "name": "add [bx+0Eh],bl", "bytes": [0, 95, 14, 244], "s": "\u00e9\"x",)"
      R"( "f": -1.5e-3, "t": true, "n": null, "initial": {"regs": {"ax": 715}, "ram": [[1086632, 0]]}})";
  Document d;
  ASSERT_TRUE(d.parse(full)) << d.error();
  for (size_t n = 0; n < full.size(); ++n) {
    const bool ok = d.parse(std::string_view(full).substr(0, n));
    // Only a prefix that is itself a complete value may parse; none of these is.
    EXPECT_FALSE(ok) << "prefix of length " << n << " accepted";
    EXPECT_LE(d.error_offset(), n);
  }
}

TEST(Json, Reparse_ReusesTheDocument) {
  Document d;
  ASSERT_TRUE(d.parse(R"({"a": [1, 2, 3]})"));
  ASSERT_FALSE(d.parse("[1,"));
  ASSERT_TRUE(d.parse("[7]"));
  EXPECT_EQ(d.root()[0].int64(), 7);
  EXPECT_EQ(d.root().size(), 1u);
}

// --------------------------------------------------------------- helpers ----

// A scratch directory under the system temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("virtscope-sst-" + std::string(info->name()) + "-" + std::to_string(std::rand()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_gz(const fs::path& path, const std::string& text) {
  gzFile f = gzopen(path.string().c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), unsigned(text.size())), int(text.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// MOV AX,1234h; HLT at 1000:0100 (linear 0x10100), in the SST layout.
std::string mov_test(int idx, unsigned final_ax) {
  return R"({"idx": )" + std::to_string(idx) + R"(, "name": "mov ax,1234h", "bytes": [184, 52, 18, 244],
    "initial": {"regs": {"ax": 0, "bx": 0, "cx": 0, "dx": 0, "cs": 4096, "ss": 8192, "ds": 0, "es": 0,
                         "sp": 256, "bp": 0, "si": 0, "di": 0, "ip": 256, "flags": 2},
                "ram": [[65792, 184], [65793, 52], [65794, 18], [65795, 244]]},
    "final": {"regs": {"ax": )" + std::to_string(final_ax) + R"(, "ip": 260}, "ram": []}, "hash": "x"})";
}

constexpr char kMetadata286[] = R"({"cpu": "286", "opcodes": {"B8": {"status": "normal", "arch": "86"}}})";

// ----------------------------------------------------------------- runner ----

TEST(Sst, SyntheticMov_CountsPassAndFail) {
  TempDir dir;
  write_text(dir.path() / "metadata.json", kMetadata286);
  write_gz(dir.path() / "B8.json.gz", "[" + mov_test(0, 0x1234) + ", " + mov_test(1, 0x4321) + "]");
  std::ostringstream report;
  const SstSummary s = run_sst_dir(dir.path().string(), {}, report);
  EXPECT_TRUE(s.errors.empty()) << report.str();
  EXPECT_EQ(s.passed, 1u) << report.str();
  EXPECT_EQ(s.failed, 1u) << report.str();
  EXPECT_EQ(s.skipped, 0u);
  ASSERT_EQ(s.forms.size(), 1u);
  EXPECT_EQ(s.forms[0].form, "B8");
  EXPECT_EQ(s.forms[0].status, "normal");
  const std::string out = report.str();
  EXPECT_NE(out.find("FAIL B8 #1 \"mov ax,1234h\" bytes b8 34 12 f4"), std::string::npos) << out;
  EXPECT_NE(out.find("ax: expected 0x4321 got 0x1234 (mask 0xffff)"), std::string::npos) << out;
  EXPECT_NE(out.find("\nsst: 1 passed, 1 failed, 0 skipped\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("sst: 1 passed, 1 failed, 0 skipped\n")) << out;
}

TEST(Sst, UnchangedRegisterAndRamAreChecked) {
  // A test that claims BX changed and a RAM byte holds 0x55: both wrong for MOV AX.
  TempDir dir;
  write_text(dir.path() / "metadata.json", kMetadata286);
  std::string t = mov_test(0, 0x1234);
  t.replace(t.find(R"("ram": []})"), 10, R"("ram": [[65536, 85]]})");
  write_gz(dir.path() / "B8.json.gz", "[" + t + "]");
  std::ostringstream report;
  const SstSummary s = run_sst_dir(dir.path().string(), {}, report);
  EXPECT_EQ(s.failed, 1u) << report.str();
  EXPECT_NE(report.str().find("ram[0x010000]: expected 0x55 got 0x00"), std::string::npos) << report.str();
}

TEST(Sst, FilterAndBadFiles_AreHandled) {
  TempDir dir;
  write_text(dir.path() / "metadata.json", kMetadata286);
  write_gz(dir.path() / "B8.json.gz", "[" + mov_test(0, 0x1234) + "]");
  write_gz(dir.path() / "B9.json.gz", "[{\"idx\": 0, ");                 // truncated JSON
  write_text(dir.path() / "BA.json.gz", "not gzip at all");              // corrupt gzip
  std::string far = mov_test(0, 0x1234);
  far.replace(far.find("[65792, 184]"), 12, "[4194304, 184]");           // 4 MiB: outside test memory
  write_gz(dir.path() / "BB.json.gz", "[" + far + "]");

  std::ostringstream only;
  SstOptions b8_only;
  b8_only.forms = "B8";
  const SstSummary s1 = run_sst_dir(dir.path().string(), b8_only, only);
  EXPECT_TRUE(s1.clean()) << only.str();
  EXPECT_EQ(s1.passed, 1u);

  std::ostringstream all;
  const SstSummary s2 = run_sst_dir(dir.path().string(), {}, all);
  EXPECT_EQ(s2.passed, 1u) << all.str();
  EXPECT_EQ(s2.skipped, 1u) << all.str();
  EXPECT_EQ(s2.errors.size(), 2u) << all.str();
  EXPECT_NE(all.str().find("B9.json.gz: invalid JSON"), std::string::npos) << all.str();
  EXPECT_NE(all.str().find("outside the 2 MiB test memory"), std::string::npos) << all.str();
  EXPECT_FALSE(s2.clean());

  std::ostringstream missing;
  const SstSummary s3 = run_sst_dir((dir.path() / "nope").string(), {}, missing);
  EXPECT_EQ(s3.errors.size(), 1u);
  EXPECT_TRUE(missing.str().ends_with("sst: 0 passed, 0 failed, 0 skipped\n"));
}

TEST(Sst, StopAfterFailures_StopsEarly) {
  TempDir dir;
  write_text(dir.path() / "metadata.json", kMetadata286);
  write_gz(dir.path() / "B8.json.gz",
           "[" + mov_test(0, 1) + ", " + mov_test(1, 2) + ", " + mov_test(2, 3) + ", " + mov_test(3, 0x1234) + "]");
  std::ostringstream report;
  SstOptions options;
  options.stop_after_failures = 2;
  const SstSummary s = run_sst_dir(dir.path().string(), options, report);
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.passed, 0u);
  EXPECT_TRUE(s.stopped_early);
}

// --------------------------------------------------------- the real suites ----

fs::path shared_dir() {
  if (const char* env = std::getenv("VIRTSCOPE_SHARED"); env && *env) return env;
  return fs::path(VIRTSCOPE_SOURCE_DIR) / ".." / "shared";
}

void run_suite(const char* name, uint64_t expected_tests) {
  const fs::path dir = shared_dir() / "testdata" / name;
  if (!fs::is_directory(dir)) GTEST_SKIP() << "the SingleStepTests data is not at " << dir.string();
  std::ostringstream report;
  const auto t0 = std::chrono::steady_clock::now();
  const SstSummary s = run_sst_dir(dir.string(), {}, report);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %llu passed, %llu failed, %llu skipped in %.2f s\n", name, (unsigned long long)s.passed,
              (unsigned long long)s.failed, (unsigned long long)s.skipped, secs);
  EXPECT_EQ(s.passed + s.failed + s.skipped, expected_tests) << s.failure_table();
  EXPECT_EQ(s.skipped, 0u) << report.str();
  EXPECT_TRUE(s.clean()) << name << ": " << s.failed << " failing tests; per form:\n" << s.failure_table();
  if (const char* dump = std::getenv("VIRTSCOPE_SST_REPORT"); dump && *dump)
    std::ofstream(fs::path(dump) / (std::string(name) + ".txt")) << report.str();
}

TEST(Sst, Full80286Suite_AllPass) { run_suite("sst80286", 97500); }
TEST(Sst, Sample80386_AllPass) { run_suite("sst80386", 500); }

}  // namespace
}  // namespace vs::conformance
