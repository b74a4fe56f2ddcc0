// `virtscope bench`: interpreter speed on fixed guest loops. `alu`
// (bench/alu_loop.S): integer ALU operations, loads, stores and branches.
// `mem` (bench/paging_loop.S): a sweep over 8 MiB with paging on, far more
// pages than the TLB holds. `cr3` and `io`: the host cost of one CR3 reload
// and of one OUT to a port nobody answers, net of the loop around them.
// Host time is measured here in the app, never inside the core (virtual time
// is instruction count).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "bare_machine.h"
#include "virtscope/devices/bus.h"
#include "virtscope/mmu/mmu.h"

extern const unsigned char bench_alu_loop[];
extern const unsigned bench_alu_loop_size;
extern const unsigned char bench_paging_loop[];
extern const unsigned bench_paging_loop_size;

namespace vs::app {

namespace {
struct BenchResult {
  uint64_t instructions = 0;
  double seconds = 0;
  double mips() const { return seconds > 0 ? instructions / seconds / 1e6 : 0; }
};

BenchResult run_alu_loop(uint64_t iterations, bool record_exceptions) {
  BareMachine m(4u << 20);
  m.load(0x1000, bench_alu_loop, bench_alu_loop_size);
  m.enter_flat32(0x1000, 0x300000);
  if (record_exceptions)
    m.log.record(trace::KindSet::of({trace::EventKind::Exception, trace::EventKind::Interrupt}));
  cpu::CpuState s = m.cpu.state();
  s.gpr[cpu::ECX] = uint32_t(iterations);
  s.gpr[cpu::ESI] = 0x100000;
  m.cpu.set_state(s);
  const auto t0 = std::chrono::steady_clock::now();
  cpu::RunStop stop;
  do stop = m.cpu.run(1'000'000'000); while (stop == cpu::RunStop::Budget);
  const auto t1 = std::chrono::steady_clock::now();
  BenchResult r;
  r.instructions = m.cpu.instructions();
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (stop != cpu::RunStop::Halted) std::fprintf(stderr, "bench: guest stopped unexpectedly (%s)\n", cpu::run_stop_name(stop));
  return r;
}
// The CPU with the platform's memory map, port bus and paging MMU (no other
// devices): what the paging benchmarks need.
struct PagingMachine {
  PagingMachine()
      : memory(32u << 20),
        mmu(memory, log, [this] { return cpu ? cpu->instructions() : 0; }),
        cpu(std::make_unique<cpu::Cpu>(memory, ports, log, config())) {
    cpu->set_translator(&mmu);
  }
  static cpu::CpuConfig config() {
    cpu::CpuConfig c;
    c.cpuid_features |= mmu::Mmu::kCpuidFeatures;
    return c;
  }
  devices::PhysicalMemory memory;
  devices::PortBus ports;
  trace::EventLog log;
  mmu::Mmu mmu;
  std::unique_ptr<cpu::Cpu> cpu;
};

enum class PagingLoop : uint32_t { Mem = 0, Cr3 = 1, Io = 2, Base = 3 };

BenchResult run_paging_loop(PagingLoop which, uint64_t iterations) {
  PagingMachine m;
  m.memory.load(0x1000, std::span<const uint8_t>(bench_paging_loop, bench_paging_loop_size));
  cpu::CpuState s = m.cpu->state();
  cpu::enter_flat_protected_mode(s, 0x1000);
  s.gpr[cpu::ESP] = 0x80000;
  s.gpr[cpu::EAX] = uint32_t(which);
  s.gpr[cpu::ECX] = uint32_t(iterations);
  m.cpu->set_state(s);
  // Setting up the page tables is not part of the measurement: the guest
  // halts once they are built; the clock starts when it is woken.
  if (m.cpu->run(1'000'000) != cpu::RunStop::Halted) std::fprintf(stderr, "bench: the guest's set-up did not finish\n");
  s = m.cpu->state();
  s.halted = false;
  m.cpu->set_state(s);
  const uint64_t start = m.cpu->instructions();
  const auto t0 = std::chrono::steady_clock::now();
  cpu::RunStop stop;
  do stop = m.cpu->run(1'000'000'000); while (stop == cpu::RunStop::Budget);
  const auto t1 = std::chrono::steady_clock::now();
  if (stop != cpu::RunStop::Halted) std::fprintf(stderr, "bench: guest stopped unexpectedly (%s)\n", cpu::run_stop_name(stop));
  BenchResult r;
  r.instructions = m.cpu->instructions() - start;
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  return r;
}

// Nanoseconds one loop body costs beyond the empty loop's.
double net_ns_per_iteration(PagingLoop which, uint64_t iterations) {
  const BenchResult with = run_paging_loop(which, iterations);
  const BenchResult base = run_paging_loop(PagingLoop::Base, iterations);
  return (with.seconds - base.seconds) * 1e9 / double(iterations);
}
}  // namespace

int run_bench(int argc, char** argv) {
  if (argc > 0 && !std::strcmp(argv[0], "containers")) return run_bench_containers(argc - 1, argv + 1);
  uint64_t iterations = 0;  // 0: each benchmark's default
  bool record = false;
  std::string which = "all";
  for (int i = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = std::strtoull(argv[++i], nullptr, 0);
    else if (!std::strcmp(argv[i], "--record-events")) record = true;
    else if (i == 0 && (!std::strcmp(argv[i], "alu") || !std::strcmp(argv[i], "mem") || !std::strcmp(argv[i], "cr3") ||
                        !std::strcmp(argv[i], "io") || !std::strcmp(argv[i], "all")))
      which = argv[i];
    else {
      std::fprintf(stderr, "usage: virtscope bench [alu|mem|cr3|io|all] [--iterations N] [--record-events]\n");
      return 2;
    }
  }
  if (iterations > 0xFFFFFFFFull) {
    std::fprintf(stderr, "virtscope bench: --iterations must be 1..4294967295\n");
    return 2;
  }
  auto n = [&](uint64_t fallback) { return iterations ? iterations : fallback; };
  if (which == "alu" || which == "all") {
    const BenchResult r = run_alu_loop(n(14'000'000), record);  // about 200 million instructions
    std::printf("instructions: %llu\nseconds: %.3f\n", (unsigned long long)r.instructions, r.seconds);
    std::printf("bench alu: %.1f MIPS%s\n", r.mips(), record ? " (exceptions and interrupts recorded)" : "");
  }
  if (which == "mem" || which == "all") {
    const BenchResult r = run_paging_loop(PagingLoop::Mem, n(2'000));  // 2048 pages x 11 instructions each
    std::printf("bench mem: %.1f MIPS (%llu instructions, %.3f s, one TLB miss per 11 instructions)\n", r.mips(),
                (unsigned long long)r.instructions, r.seconds);
  }
  if (which == "cr3" || which == "all")
    std::printf("bench cr3: %.1f ns per CR3 reload\n", net_ns_per_iteration(PagingLoop::Cr3, n(10'000'000)));
  if (which == "io" || which == "all")
    std::printf("bench io: %.1f ns per OUT to an unused port\n", net_ns_per_iteration(PagingLoop::Io, n(20'000'000)));
  return 0;
}

}  // namespace vs::app
