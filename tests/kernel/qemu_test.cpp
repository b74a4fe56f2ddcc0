// An independent check of the teaching kernel: the same kernel.elf and
// initrd booted by QEMU (qemu-system-i386 -kernel, QEMU's own Multiboot
// loader and its TCG CPU) must print what virtscope prints, and exit with
// the same isa-debug-exit status. Skips cleanly where QEMU is not installed.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct Output {
  int status = -1;
  std::string out;
};

// Runs argv[0] (searched in PATH) with stdin closed; gives up after 60 s.
Output run(const std::vector<std::string>& args) {
  int out[2];
  if (pipe(out)) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  Output r;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    if (std::chrono::steady_clock::now() > give_up) {
      kill(pid, SIGKILL);
      break;
    }
    if (poll(&p, 1, 500) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    r.out.append(buf, size_t(n));
  }
  close(out[0]);
  int ws = 0;
  waitpid(pid, &ws, 0);
  r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  return r;
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
