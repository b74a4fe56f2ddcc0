// Running guest programs under container-sim in tests: a host with the
// teaching kernel's initrd (every guest/user workload in /bin) and the
// teaching kernel's test programs, and what came out of a run.
#pragma once

#include <gtest/gtest.h>

#include <cstring>

#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "subprocess.h"
#include "virtscope/container_sim/container_host.h"

namespace vs::container_sim {

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A host with /bin from the initrd, plus /bin/kt_* where the build made them;
// the console collected in `console`.
struct TestHost {
  std::unique_ptr<ContainerHost> host;
  std::string console;

  explicit TestHost(HostConfig config = {}) : host(std::make_unique<ContainerHost>(config)) {
    std::string error;
    EXPECT_TRUE(host->add_initrd(VS_INITRD, error)) << error;
    for (const auto& [name, path] : kt_programs()) {
      EXPECT_TRUE(host->add_file("/bin/" + name, read_bytes(path), error)) << error;
    }
    // Mount points the namespace checks use (they exist on any Linux host too).
    EXPECT_TRUE(host->add_directory("/proc", error)) << error;
    EXPECT_TRUE(host->add_directory("/tmp", error)) << error;
    host->set_console([this](std::string_view s) { console.append(s); });
  }

  static std::vector<std::pair<std::string, std::string>> kt_programs() {
    std::vector<std::pair<std::string, std::string>> v;
#ifdef VS_KT_CHECKS
    v.emplace_back("kt_checks", VS_KT_CHECKS);
#endif
#ifdef VS_KT_SEGV
    v.emplace_back("kt_segv", VS_KT_SEGV);
#endif
#ifdef VS_KT_EFAULT
    v.emplace_back("kt_efault", VS_KT_EFAULT);
#endif
#ifdef VS_KT_HELLO
    v.emplace_back("kt_hello", VS_KT_HELLO);
#endif
    return v;
  }

  uint32_t spawn(std::vector<std::string> argv) {
    std::string error;
    const uint32_t pid = host->spawn(argv, error);
    EXPECT_NE(pid, 0u) << error;
    return pid;
  }

  // Runs a checks program ("ok ..." or "FAIL ..." lines, then "N failures",
  // exit N: tests/container/guest) already in /bin as `argv[0]`, to the
  // end; the console, after checking that nothing failed and that at least
  // `min_oks` checks passed.
  std::string run_checks(const std::vector<std::string>& argv, size_t min_oks, uint64_t budget = 2'000'000'000);
};

// A checks program's output: it exited 0, no "FAIL" line, "0 failures",
// and at least `min_oks` lines starting "ok ".
inline void expect_checks_passed(const std::string& out, std::optional<int> status, size_t min_oks) {
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
  EXPECT_NE(out.find("\n0 failures\n"), std::string::npos) << out;
  size_t oks = 0;
  for (size_t at = 0; (at = out.find("ok ", at)) != std::string::npos; at += 3) oks += at == 0 || out[at - 1] == '\n';
  EXPECT_GE(oks, min_oks) << out;
}

inline std::string TestHost::run_checks(const std::vector<std::string>& argv, size_t min_oks, uint64_t budget) {
  const uint32_t pid = spawn(argv);
  EXPECT_EQ(host->run(budget), HostStop::AllExited) << console;
  expect_checks_passed(console, host->exit_status(pid), min_oks);
  return console;
}

// The same guest ELF run as an ordinary i386 process of this Linux host
// must print what it printed under container-sim (`sim_out`). "" when it
// ran and was compared; otherwise why it could not run here, for the
// caller's GTEST_SKIP (no i386 support, or exit 77: the host forbids the
// namespaces it needs).
inline std::string expect_same_output_as_linux(const std::string& elf, const std::vector<std::string>& args,
                                               const std::string& sim_out) {
  const test::ProcessResult native = test::run_process(elf, args, "", std::vector<std::string>{}, 60);
  if (native.exec_errno != 0) return std::string("this host cannot run i386 programs: ") + std::strerror(native.exec_errno);
  if (native.status == 77) return "the host forbids it: " + native.out;
  EXPECT_FALSE(native.timed_out) << native.out;
  EXPECT_EQ(native.status, 0) << "on Linux:\n" << native.out;
  EXPECT_EQ(sim_out, native.out) << "container-sim above, Linux below";
  return "";
}

// Did a checks program print "ok LINE"?
inline bool has_line(const std::string& out, const std::string& line) {
  return out.find("ok " + line + "\n") != std::string::npos;
}

}  // namespace vs::container_sim
