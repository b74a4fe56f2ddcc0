// The teaching kernel (guest/kernel) booted on an in-process Machine:
// programs run at ring 3 and print what they should, pid 1's exit status
// reaches isa-debug-exit, faults in user mode kill only the process, bad
// user pointers give -EFAULT, a kernel-mode fault panics with one line.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "virtscope/trace/event.h"
#include "virtscope/vmm/machine.h"

namespace vs::vmm {
namespace {

constexpr uint64_t kBudget = 400'000'000;

struct Run {
  std::string serial;
  std::unique_ptr<Machine> machine;
  MachineStop stop = MachineStop::Budget;
};

std::unique_ptr<Run> boot(const std::string& append, const std::string& input = "", uint64_t budget = kBudget) {
  auto r = std::make_unique<Run>();
  MachineConfig c;
  c.ram_bytes = 64u << 20;
  c.kernel = VS_KERNEL;
  c.initrd = {VS_KERNEL_TEST_INITRD};
  c.append = append;
  c.debug_exit = true;
  std::string* serial = &r->serial;
  c.serial_out[0] = [serial](uint8_t b) { serial->push_back(char(b)); };
  std::string error;
  r->machine = Machine::create(c, error);
  EXPECT_TRUE(r->machine) << error;
  if (!r->machine) return r;
  if (!input.empty()) r->machine->queue_serial_input(input);
  r->stop = r->machine->run(budget);
  return r;
}

// The banner's first line, then what the programs print.
std::string after_banner(const std::string& serial) {
  const size_t nl = serial.find('\n');
  return nl == std::string::npos ? "" : serial.substr(nl + 1);
}

int status(const Run& r) { return r.machine->exit_status(); }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Mkinitrd, NewcArchive_IsDeterministicWithPaddedEntriesAndTrailer) {
  const std::string dir = ::testing::TempDir() + "virtscope_mkinitrd_" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  std::ofstream(dir + "/a") << "hello";
  const std::string cmd = std::string(VS_MKINITRD) + " " + dir + "/out1 bin/a=" + dir + "/a";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_EQ(std::system((std::string(VS_MKINITRD) + " " + dir + "/out2 bin/a=" + dir + "/a").c_str()), 0);
  const std::string a = read_all(dir + "/out1");
  EXPECT_EQ(a, read_all(dir + "/out2"));
  // ino 1, mode 0100755, uid 0, gid 0, nlink 1, mtime 0, size 5, 4 device
  // fields, namesize 6 ("bin/a" + NUL), check 0.
  const std::string header = "070701" "00000001" "000081ED" "00000000" "00000000" "00000001" "00000000"
                             "00000005" "00000000" "00000000" "00000000" "00000000" "00000006" "00000000";
  ASSERT_GE(a.size(), 124u);
  EXPECT_EQ(a.substr(0, 110), header);
  EXPECT_EQ(a.substr(110, 6), std::string("bin/a\0", 6));  // 110 + 6 is already a multiple of 4
  EXPECT_EQ(a.substr(116, 8), std::string("hello\0\0\0", 8));  // data padded to 4
  EXPECT_NE(a.find("TRAILER!!!"), std::string::npos);
  EXPECT_EQ(a.size() % 4, 0u);
  std::system(("rm -rf " + dir).c_str());
}

TEST(Kernel, Boot_PrintsBannerAndRunsAsmHello) {
  auto r = boot("run=kt_hello");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  EXPECT_EQ(status(*r), (0 << 1) | 1);
  EXPECT_EQ(r->serial.substr(0, r->serial.find('\n')).find("virtscope teaching kernel: 64 MiB, initrd "), 0u)
      << r->serial;
  EXPECT_EQ(after_banner(r->serial), "hello from ring 3\n");
}

TEST(Kernel, FirstUserInstruction_UnderFiveMillionInstructions) {
  MachineConfig c;
  c.ram_bytes = 64u << 20;
  c.kernel = VS_KERNEL;
  c.initrd = {VS_KERNEL_TEST_INITRD};
  c.append = "run=kt_hello";
  c.debug_exit = true;
  std::string error;
  auto m = Machine::create(c, error);
  ASSERT_TRUE(m) << error;
  uint64_t first_user = 0;
  m->log().subscribe(trace::KindSet::of({trace::EventKind::ModeChange}), [&](const trace::Event& e) {
    if (e.arg[3] == 3 && first_user == 0) first_user = e.when.icount;
  });
  ASSERT_EQ(m->run(kBudget), MachineStop::GuestExit);
  std::printf("[ figure ] instructions to the first user instruction: %llu; kt_hello end to end: %llu\n",
              (unsigned long long)first_user, (unsigned long long)m->instructions());
  RecordProperty("first_user_instruction", std::to_string(first_user));
  EXPECT_GT(first_user, 0u);
  EXPECT_LT(first_user, 5'000'000u);
}

TEST(Kernel, UserSegfault_KillsChildWithSignal11AndKernelGoesOn) {
  auto r = boot("run=kt_segv");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  // The parent (pid 1) got wait status 11 (signalled by SIGSEGV) and exits with it.
  EXPECT_EQ(status(*r), (11 << 1) | 1) << r->serial;
  EXPECT_EQ(after_banner(r->serial), "pid 2 (kt_segv): segmentation fault at 0x10000000, eip 0x08049010: killed\n");
}

TEST(Kernel, BadUserPointers_GiveEfaultNotAPanic) {
  auto r = boot("run=kt_efault");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  EXPECT_EQ(status(*r), (0 << 1) | 1) << r->serial;
}

TEST(Kernel, KernelModeFault_PanicsWithOneLineAndStatus7f) {
  auto r = boot("crash=kernel run=kt_hello");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  EXPECT_EQ(status(*r), (0x7f << 1) | 1);
  const std::string out = after_banner(r->serial);
  EXPECT_EQ(out.find("panic: page fault at eip 0x"), 0u) << out;
  EXPECT_NE(out.find("(cr2 0x00000000, error 0x2)\n"), std::string::npos) << out;
}

TEST(Kernel, ConsoleLineDiscipline_EchoesErasesAndReturnsTheLine) {
  auto r = boot("run=kt_echo", "ab\x7f" "c\r");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  EXPECT_EQ(after_banner(r->serial), "ab\b \bc\nac\n");
  EXPECT_EQ(status(*r), (3 << 1) | 1);
}

TEST(Kernel, MissingProgram_Panics) {
  auto r = boot("run=nosuch");
  ASSERT_EQ(r->stop, MachineStop::GuestExit);
  EXPECT_EQ(status(*r), (0x7f << 1) | 1);
  EXPECT_EQ(after_banner(r->serial), "panic: cannot run /bin/nosuch (error 2)\n");
}

#if VS_KERNEL_HAVE_USER
TEST(KernelWorkloads, Hello_PrintsAndExitsZero) {
  auto r = boot("run=hello");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  EXPECT_EQ(status(*r), 1);
  EXPECT_EQ(after_banner(r->serial), "hello, world\n");
  std::printf("[ figure ] hello end to end: %llu instructions\n", (unsigned long long)r->machine->instructions());
}

// Runs `program N` as pid 1 and returns what it printed after the banner.
std::string workload(const std::string& program, uint32_t n, int* exit_status) {
  auto r = boot("run=" + program + " " + std::to_string(n));
  EXPECT_EQ(r->stop, MachineStop::GuestExit) << program << ": " << r->serial;
  *exit_status = status(*r);
  return after_banner(r->serial);
}

TEST(KernelWorkloads, Cpu_PrintsTheChecksum) {
  // The same computation as guest/user/cpu.c, on the host.
  uint32_t x = 0x2545f491u, acc = 0;
  for (uint32_t i = 0; i < 1000; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const uint32_t v = acc ^ (x * 0x9e3779b1u);
    acc = ((v << 7) | (v >> 25)) + i;
  }
  char want[80];
  std::snprintf(want, sizeof want, "cpu: 1000 iterations, checksum 0x%08x\n", acc);
  int st = 0;
  EXPECT_EQ(workload("cpu", 1000, &st), want);
  EXPECT_EQ(st, 1);
}

TEST(KernelWorkloads, Syscall_Write_Fork_Mmap_Pipe_PrintTheirResultLines) {
  int st = 0;
  EXPECT_EQ(workload("syscall", 100, &st), "syscall: 100 getpid calls\n");
  EXPECT_EQ(st, 1);
  EXPECT_EQ(workload("write", 5, &st), ".....\nwrite: 5 writes\n");
  EXPECT_EQ(st, 1);
  EXPECT_EQ(workload("fork", 10, &st), "fork: 10 children, exit codes ok\n");
  EXPECT_EQ(st, 1);
  EXPECT_EQ(workload("mmap", 10, &st), "mmap: 10 map/unmap cycles\n");
  EXPECT_EQ(st, 1);
  EXPECT_EQ(workload("pipe", 10, &st), "pipe: 10 round trips\n");
  EXPECT_EQ(st, 1);
}

TEST(KernelWorkloads, Pagefault_TouchesEveryPageOfAnAnonymousMapping) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < 100; i++) sum += uint8_t(i * 31u + 7u);
  int st = 0;
  EXPECT_EQ(workload("pagefault", 100, &st), "pagefault: 100 pages touched, sum " + std::to_string(sum) + "\n");
  EXPECT_EQ(st, 1);
}

TEST(KernelWorkloads, Shell_RunsTwoProgramsThenExit3) {
  auto r = boot("run=sh", "hello\ncpu 1000\nexit 3\n");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  EXPECT_EQ(status(*r), (3 << 1) | 1) << r->serial;
  const std::string out = after_banner(r->serial);
  EXPECT_NE(out.find("hello, world\n"), std::string::npos) << out;
  EXPECT_NE(out.find("cpu: 1000 iterations, checksum 0x"), std::string::npos) << out;
}

TEST(KernelWorkloads, Checks_EverySyscallBehavesAsLinux) {
  auto r = boot("run=kt_checks");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  const std::string out = after_banner(r->serial);
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
  EXPECT_NE(out.find("args: argc 3 argv1 args argv2 two env KEY=value\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n0 failures\n"), std::string::npos) << out;
  EXPECT_EQ(status(*r), 1) << out;
}

TEST(KernelWorkloads, ShellDefault_IsPid1WithoutRun) {
  auto r = boot("", "exit 5\n");
  ASSERT_EQ(r->stop, MachineStop::GuestExit) << r->serial;
  EXPECT_EQ(status(*r), (5 << 1) | 1) << r->serial;
}
#endif

}  // namespace
}  // namespace vs::vmm
