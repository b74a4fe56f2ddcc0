// Process semantics under container-sim: fork, wait, pipes, exec, kill,
// preemption, demand paging, a faulting process killed alone, bad pointers,
// the console, and every frame given back.
#include <gtest/gtest.h>

#include "host_helpers.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

constexpr uint64_t kBudget = 2'000'000'000;

#ifdef VS_KT_CHECKS
// The teaching kernel's own feature checks (tests/kernel/guest/checks.c):
// ENOSYS, getpid, uname, nanosleep against clock_gettime, brk, pipe + dup2
// + fork + waitpid, EPIPE, WNOHANG, kill of a spinning child (only the tick
// can preempt it), ESRCH, execve with argv and envp, ECHILD, open/read,
// ENOENT, mmap/munmap, EINVAL for a file mapping.
TEST(ContainerProcess, KernelChecks_AllPass) {
  TestHost t;
  const uint32_t pid = t.spawn({"kt_checks"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.console.find("FAIL"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("ok execve passes argv and envp"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("\n0 failures\n"), std::string::npos) << t.console;
  EXPECT_EQ(t.host->exit_status(pid), 0);
}
#endif

#ifdef VS_KT_SEGV
// A child stores outside every region: it alone is killed with SIGSEGV,
// the kernel says so on the console in the teaching kernel's words, and its
// parent reads wait status 11; a process beside them runs to the end.
TEST(ContainerProcess, FaultingChild_KilledWithSignal11_OthersContinue) {
  TestHost t;
  const uint32_t segv = t.spawn({"kt_segv"});
  const uint32_t cpu = t.spawn({"cpu", "200000"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_NE(t.console.find("pid 3 (kt_segv): segmentation fault at 0x10000000, eip 0x08049010: killed\n"),
            std::string::npos)
      << t.console;
  EXPECT_EQ(t.host->exit_status(segv), 11 << 8);  // the parent exited with the wait status it read
  EXPECT_NE(t.console.find("cpu: 200000 iterations"), std::string::npos) << t.console;
  EXPECT_EQ(t.host->exit_status(cpu), 0);
}
#endif

TEST(ContainerProcess, SpawnedProcessFaults_HostSeesSignal11) {
  TestHost t;
  // A program whose first instruction writes to address 0x10 (unmapped).
  std::vector<uint8_t> elf(0x1000 + 16, 0);
  const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
  std::copy(std::begin(ident), std::end(ident), elf.begin());
  auto put16 = [&](size_t at, uint16_t v) { elf[at] = uint8_t(v), elf[at + 1] = uint8_t(v >> 8); };
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) elf[at + size_t(i)] = uint8_t(v >> (8 * i));
  };
  put16(16, 2), put16(18, 3), put32(20, 1), put32(24, 0x08048000 + 0x1000), put32(28, 52);
  put16(40, 52), put16(42, 32), put16(44, 1);
  put32(52, 1), put32(56, 0), put32(60, 0x08048000), put32(68, 0x1010), put32(72, 0x1010), put32(76, 5);
  const uint8_t code[] = {0xC7, 0x05, 0x10, 0, 0, 0, 1, 0, 0, 0};  // movl $1, 0x10
  std::copy(std::begin(code), std::end(code), elf.begin() + 0x1000);
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/null-store", elf, error)) << error;
  const uint32_t pid = t.spawn({"null-store"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 11);
  EXPECT_EQ(t.console, "pid 1 (null-store): segmentation fault at 0x00000010, eip 0x08049000: killed\n");
}

#ifdef VS_KT_EFAULT
TEST(ContainerProcess, BadUserPointers_AreEfault) {
  TestHost t;
  const uint32_t pid = t.spawn({"kt_efault"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 0) << "exit code = which call did not return -14";
}
#endif

TEST(ContainerProcess, Orphan_AdoptedAndReapedByPid1) {
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/orphan", read_bytes(VS_CT_ORPHAN), error)) << error;
  std::vector<trace::Event> exits;
  t.host->log().subscribe(trace::KindSet::of({trace::EventKind::ProcessExit}),
                          [&](const trace::Event& e) { exits.push_back(e); });
  const uint32_t pid = t.spawn({"orphan"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 7 << 8) << "7: adopted by pid 1; 8: getppid was not 1; 99: wait4";
  ASSERT_EQ(exits.size(), 3u);
  EXPECT_EQ(exits[0].arg[0], 2u);  // the child first
  EXPECT_EQ(exits[1].arg[0], 3u);  // then the grandchild, whose parent is now pid 1
  EXPECT_EQ(exits[1].arg[2], 1u);
  EXPECT_GT(t.host->counters().preemptions, 0u);  // the spin outlived its time slice
}

TEST(ContainerProcess, ForkWaitPipe_TwoProcessesPingPong) {
  TestHost t;
  const uint32_t pid = t.spawn({"pipe", "300"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.console, "pipe: 300 round trips\n");
  EXPECT_EQ(t.host->exit_status(pid), 0);
  // Every round trip blocks each side once in read(): switches, not spins.
  EXPECT_GE(t.host->counters().context_switches, 600u);
}

TEST(ContainerProcess, ShellExecsPrograms_AndExitCode) {
  TestHost t;
  t.host->queue_input("hello\ncpu 1000\nnope\nexit 3\n");
  const uint32_t pid = t.spawn({"sh"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.console,
            "$ hello, world\n"
            "$ cpu: 1000 iterations, checksum 0x" +
                t.console.substr(t.console.find("checksum 0x") + 11, 8) +
                "\n"
                "$ sh: nope: not found\n"
                "sh: nope exited with status 127\n"
                "$ ");
  EXPECT_EQ(t.host->exit_status(pid), 3 << 8);
}

TEST(ContainerProcess, ConsoleReadWithoutInput_HostStopsIdle) {
  TestHost t;
  t.spawn({"sh"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::Idle);
  EXPECT_EQ(t.console, "$ ");
  t.host->close_input();  // end of file: sh prints a newline and exits 0
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.console, "$ \n");
}

TEST(ContainerProcess, TwoCpuBoundProcesses_ShareTheCpuByTicks) {
  TestHost t;
  t.spawn({"cpu", "3000000"});
  t.spawn({"cpu", "3000000"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  const HostCounters& c = t.host->counters();
  EXPECT_GT(c.preemptions, 10u);
  EXPECT_GT(c.context_switches, 10u);
  // Both print the same line: neither starved.
  const std::string line = t.console.substr(0, t.console.find('\n') + 1);
  EXPECT_EQ(t.console, line + line);
}

TEST(ContainerProcess, AllExited_EveryFrameGivenBack) {
  TestHost t;
  t.spawn({"fork", "20"});
  t.spawn({"pagefault", "100"});
  t.spawn({"mmap", "20"});
  EXPECT_EQ(t.host->processes().size(), 3u);
  EXPECT_GT(t.host->counters().frames_in_use, 0u);
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->counters().frames_in_use, 0u);
  EXPECT_GE(t.host->counters().demand_zero_pages, 100u + 20u * 4u);
  EXPECT_TRUE(t.host->processes().empty());
}

TEST(ContainerProcess, Budget_StopsAndResumes) {
  TestHost t;
  const uint32_t pid = t.spawn({"cpu", "100000"});
  EXPECT_EQ(t.host->run(1000), HostStop::Budget);
  EXPECT_EQ(t.host->counters().instructions, 1000u);
  ASSERT_EQ(t.host->processes().size(), 1u);
  EXPECT_EQ(t.host->processes()[0].state, 'R');
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 0);
}

TEST(ContainerProcess, OutOfMemory_ProcessKilledHostSurvives) {
  HostConfig small;
  small.ram_bytes = 2u << 20;  // 1 MiB of frames above the low megabyte
  TestHost t(small);
  const uint32_t big = t.spawn({"pagefault", "1000"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(big), 9);  // SIGKILL, as the teaching kernel does
  EXPECT_NE(t.console.find("out of memory at 0x"), std::string::npos) << t.console;
  const uint32_t small_one = t.spawn({"hello"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(small_one), 0);
}

}  // namespace
}  // namespace vs::container_sim
