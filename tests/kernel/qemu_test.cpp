// An independent check of the teaching kernel: the same kernel.elf and
// initrd booted by QEMU (qemu-system-i386 -kernel, QEMU's own Multiboot
// loader and its TCG CPU) must print what virtscope prints, and exit with
// the same isa-debug-exit status. Skips cleanly where QEMU is not installed.
#include <gtest/gtest.h>

#include "subprocess.h"


#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct Output {
  int status = -1;
  std::string out;
};

// Runs args[0] (searched in PATH) with an empty stdin; gives up after 60 s.
Output run(const std::vector<std::string>& args) {
  const vs::test::ProcessResult r =
      vs::test::run_process(args[0], std::vector<std::string>(args.begin() + 1, args.end()));
  return {r.status, r.out};
}

bool have_qemu() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t at = 0; at <= dirs.size();) {
    const size_t end = std::min(dirs.find(':', at), dirs.size());
    if (std::filesystem::exists(dirs.substr(at, end - at) + "/qemu-system-i386")) return true;
    at = end + 1;
  }
  return false;
}

// The console after the banner (whose RAM figure is each loader's own).
std::string after_banner(const std::string& s) {
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? "" : s.substr(nl + 1);
}

Output on_virtscope(const std::string& append) {
  return run({VS_VIRTSCOPE, "run", "-m", "64", "-kernel", VS_KERNEL, "-initrd", VS_KERNEL_TEST_INITRD, "-append", append,
              "-serial", "stdio", "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"});
}

Output on_qemu(const std::string& append) {
  return run({"qemu-system-i386", "-m", "64", "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot",
              "-kernel", VS_KERNEL, "-initrd", VS_KERNEL_TEST_INITRD, "-append", append, "-serial", "stdio",
              "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"});
}

class OnQemu : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!have_qemu()) GTEST_SKIP() << "qemu-system-i386 is not installed (Debian package qemu-system-x86)";
  }
};

TEST_P(OnQemu, SameConsoleOutputAndExitStatusAsVirtscope) {
  const Output ours = on_virtscope(GetParam());
  const Output qemu = on_qemu(GetParam());
  ASSERT_FALSE(after_banner(ours.out).empty()) << ours.out;
  EXPECT_EQ(after_banner(qemu.out), after_banner(ours.out));
  EXPECT_EQ(qemu.status, ours.status);
}

#if VS_KERNEL_HAVE_USER
INSTANTIATE_TEST_SUITE_P(Workloads, OnQemu,
                         ::testing::Values("run=hello", "run=cpu 100000", "run=fork 20", "run=pipe 50",
                                           "run=pagefault 64", "run=mmap 20", "run=kt_segv", "crash=kernel"));
#else
INSTANTIATE_TEST_SUITE_P(Workloads, OnQemu, ::testing::Values("run=kt_hello", "run=kt_segv", "crash=kernel"));
#endif

}  // namespace
