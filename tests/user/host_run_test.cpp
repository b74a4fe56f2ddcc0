// The workloads of guest/user and the tiny libc, run as ordinary Linux i386
// processes on this host: the same static ELF files the teaching kernel
// loads. Linux is the reference for the syscall ABI the libc assumes, so a
// workload that prints the right line here and a wrong one under virtscope
// points at the kernel or the emulator, not at the program.
//
// Expected results are computed here independently (the cpu checksum, the
// pagefault sum) from the formulas the workloads document.
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "subprocess.h"

#include <cstdint>
#include <string>
#include <vector>

namespace {

const std::string kUserDir = VS_USER_DIR;

std::string elf(const std::string& workload) { return kUserDir + "/user_" + workload + ".elf"; }

using Result = vs::test::ProcessResult;

// Runs `path` with `args` (argv[1..]) and environment `env` (empty by
// default, as the teaching kernel's execve gives), `input` on its stdin.
Result run(const std::string& path, const std::vector<std::string>& args, const std::string& input = "",
           const std::vector<std::string>& env = {}) {
  return vs::test::run_process(path, args, input, env);
}

// Why this host cannot run i386 ELF files, or "" when it can: the kernel
// needs IA-32 emulation (CONFIG_IA32_EMULATION), else execve says ENOEXEC.
const std::string& why_no_i386() {
  static const std::string reason = [] {
    const Result r = run(elf("hello"), {});
    if (r.exec_errno != 0) return "execve(" + elf("hello") + "): " + strerror(r.exec_errno);
    if (r.signal != 0) return "the i386 process died from signal " + std::to_string(r.signal);
    return std::string();
  }();
  return reason;
}

#define REQUIRE_I386()                                                        \
  do {                                                                        \
    if (!why_no_i386().empty()) GTEST_SKIP() << "no i386 processes: " << why_no_i386(); \
  } while (0)

// A workload that should succeed: exit 0, nothing on stderr, exactly `out`.
void expect_success(const std::string& workload, const std::vector<std::string>& args, const std::string& out) {
  const Result r = run(elf(workload), args);
  EXPECT_EQ(r.exec_errno, 0) << strerror(r.exec_errno);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, out);
}

// The cpu workload's formula (guest/user/cpu.c), written again here.
uint32_t cpu_checksum(uint32_t n) {
  uint32_t x = 0x2545f491u, acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const uint32_t m = acc ^ (x * 0x9e3779b1u);
    acc = ((m << 7) | (m >> 25)) + i;
  }
  return acc;
}

std::string hex8(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

TEST(UserHost, Hello_PrintsHelloWorld) {
  REQUIRE_I386();
  expect_success("hello", {}, "hello, world\n");
}

TEST(UserHost, Cpu_ChecksumFollowsTheFormula) {
  REQUIRE_I386();
  expect_success("cpu", {"1"}, "cpu: 1 iterations, checksum " + hex8(cpu_checksum(1)) + "\n");
  expect_success("cpu", {"1000"}, "cpu: 1000 iterations, checksum " + hex8(cpu_checksum(1000)) + "\n");
  expect_success("cpu", {"3000000"}, "cpu: 3000000 iterations, checksum " + hex8(cpu_checksum(3000000)) + "\n");
}

TEST(UserHost, Syscall_CountsGetpidCalls) {
  REQUIRE_I386();
  expect_success("syscall", {"10000"}, "syscall: 10000 getpid calls\n");
}

TEST(UserHost, Write_PrintsOneDotPerWrite) {
  REQUIRE_I386();
  expect_success("write", {"50"}, std::string(50, '.') + "\nwrite: 50 writes\n");
}

TEST(UserHost, Fork_ChildExitCodesComeBackThroughWaitpid) {
  REQUIRE_I386();
  expect_success("fork", {"300"}, "fork: 300 children, exit codes ok\n");  // codes wrap at 0x7f
}

TEST(UserHost, Pagefault_SumsTheBytesWrittenToEachPage) {
  REQUIRE_I386();
  for (uint32_t n : {1u, 1000u, 20000u}) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += uint8_t(i * 31u + 7u);  // guest/user/pagefault.c mark()
    expect_success("pagefault", {std::to_string(n)},
                   "pagefault: " + std::to_string(n) + " pages touched, sum " + std::to_string(sum) + "\n");
  }
}

TEST(UserHost, Mmap_MapsAndUnmapsRepeatedly) {
  REQUIRE_I386();
  expect_success("mmap", {"2000"}, "mmap: 2000 map/unmap cycles\n");
}

TEST(UserHost, Pipe_ChildEchoesEveryByteIncremented) {
  REQUIRE_I386();
  expect_success("pipe", {"1000"}, "pipe: 1000 round trips\n");
}

// disk N PATH: the FNV-1a checksum of a file's first N sectors, as of the
// disk's; past the end it says so and exits 1.
TEST(UserHost, Disk_ChecksumsTheFirstNSectorsOfAFile) {
  REQUIRE_I386();
  char path[] = "/tmp/vs_disk_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string bytes(8 * 512, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = char(i * 13 + 5);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
  close(fd);
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < 3 * 512; ++i) hash = (hash ^ uint8_t(bytes[i])) * 16777619u;
  expect_success("disk", {"3", path}, "disk: 3 sectors, checksum " + hex8(hash) + "\n");
  const Result past = run(elf("disk"), {"9", path});
  EXPECT_EQ(past.status, 1);
  unlink(path);
}

TEST(UserHost, MissingOrInvalidCount_UsageOnStderrAndStatus2) {
  REQUIRE_I386();
  const std::vector<std::vector<std::string>> bad = {{}, {""}, {"abc"}, {"0"}, {"12x"}, {"-5"}, {"99999999999"}, {"1", "2"}};
  for (const char* w : {"cpu", "syscall", "write", "fork", "pagefault", "mmap", "pipe"}) {
    for (const auto& args : bad) {
      const Result r = run(elf(w), args);
      const std::string what = std::string(w) + " with " + std::to_string(args.size()) + " args" +
                               (args.empty() ? "" : ", first \"" + args[0] + "\"");
      EXPECT_EQ(r.status, 2) << what;
      EXPECT_EQ(r.out, "") << what;
      EXPECT_EQ(r.err.rfind("usage: " + std::string(w) + " N", 0), 0u) << what << ": " << r.err;
    }
  }
}

TEST(UserHost, Sh_RunsProgramsReportsFailuresAndExitsWithTheGivenCode) {
  REQUIRE_I386();
  const std::string input = elf("hello") + "\n" + elf("cpu") + " 1000\n\nnosuch\n" + elf("cpu") +
                            "\n  " + elf("write") + "   3  \nexit 3\nhello\n";
  const Result r = run(elf("sh"), {}, input);
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_EQ(r.out, "$ hello, world\n"
                   "$ cpu: 1000 iterations, checksum " + hex8(cpu_checksum(1000)) + "\n"
                   "$ "          // the empty line
                   "$ "          // nosuch
                   "$ "          // cpu without N
                   "$ ...\nwrite: 3 writes\n"
                   "$ ");        // exit 3: nothing after it is read
  EXPECT_EQ(r.err, "sh: nosuch: not found\n"
                   "sh: nosuch exited with status 127\n"
                   "usage: cpu N (N from 1 to 1000000000)\n"
                   "sh: " + elf("cpu") + " exited with status 2\n");
}

TEST(UserHost, Sh_EndOfInput_PrintsNewlineAndExitsZero) {
  REQUIRE_I386();
  Result r = run(elf("sh"), {}, "");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "$ \n");
  r = run(elf("sh"), {}, "help\n");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("$ builtins: exit [code], help\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("pagefault N"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 3), "$ \n");
}

TEST(UserHost, Sh_CarriageReturnEndsALineAndCrLfIsOneLine) {
  REQUIRE_I386();
  Result r = run(elf("sh"), {}, elf("hello") + "\r\n" + elf("hello") + "\rexit 5\r\n");
  EXPECT_EQ(r.status, 5) << r.err;
  EXPECT_EQ(r.out, "$ hello, world\n$ hello, world\n$ ");
}

TEST(UserHost, Sh_TooManyWordsOrTooLongALine_AreRefused) {
  REQUIRE_I386();
  std::string words;
  for (int i = 0; i < 17; i++) words += "w ";
  const Result r = run(elf("sh"), {}, words + "\n" + std::string(300, 'x') + "\nexit\n");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "$ $ $ ");
  EXPECT_EQ(r.err, "sh: too many words (at most 16)\nsh: line too long (at most 255 characters)\n");
}

TEST(UserHost, LibcCheck_EveryCheckPasses) {
  REQUIRE_I386();
  const Result r = run(VS_LIBC_CHECK, {"one", "two"}, "", {"VS_CHECK=1"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("libc_check: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" checks ok\n"), std::string::npos) << r.out;
}

TEST(UserHost, NonExecutableFile_IsReportedNotSkipped) {
  // The harness itself: execve of something that is not an ELF must come
  // back as an exec error, which is what the skip above relies on.
  const Result r = run(kUserDir + "/../../CMakeCache.txt", {});
  EXPECT_NE(r.exec_errno, 0);
}

}  // namespace
