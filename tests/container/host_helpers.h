// Running guest programs under container-sim in tests: a host with the
// teaching kernel's initrd (every guest/user workload in /bin) and the
// teaching kernel's test programs, and what came out of a run.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
};

}  // namespace vs::container_sim
