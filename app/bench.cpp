// `virtscope bench`: interpreter speed on a fixed guest loop (bench/alu_loop.S)
// of integer ALU operations, loads, stores and branches. Host time is measured
// here in the app, never inside the core (virtual time is instruction count).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bare_machine.h"

extern const unsigned char bench_alu_loop[];
extern const unsigned bench_alu_loop_size;

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
}  // namespace

int run_bench(int argc, char** argv) {
  uint64_t iterations = 14'000'000;  // about 200 million instructions
  bool record = false;
  for (int i = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = std::strtoull(argv[++i], nullptr, 0);
    else if (!std::strcmp(argv[i], "--record-events")) record = true;
    else {
      std::fprintf(stderr, "usage: virtscope bench [--iterations N] [--record-events]\n");
      return 2;
    }
  }
  if (iterations == 0 || iterations > 0xFFFFFFFFull) {
    std::fprintf(stderr, "virtscope bench: --iterations must be 1..4294967295\n");
    return 2;
  }
  const BenchResult r = run_alu_loop(iterations, record);
  std::printf("instructions: %llu\nseconds: %.3f\n", (unsigned long long)r.instructions, r.seconds);
  std::printf("bench alu: %.1f MIPS%s\n", r.mips(), record ? " (exceptions and interrupts recorded)" : "");
  return 0;
}

}  // namespace vs::app
