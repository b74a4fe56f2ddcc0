// The interpreter's threaded block engine (Cpu::run: cached blocks, chained
// handlers, block-to-block chaining) must give exactly the state that
// executing the same program one instruction at a time (Cpu::step) gives.
// Lockstep campaigns check step() against silicon and Unicorn; this checks
// run() against step() on the same generated programs.
#include <gtest/gtest.h>

#include <cstring>

#include "virtscope/conformance/stream_gen.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/trace/event.h"

using namespace vs;
using namespace vs::conformance;

namespace {

struct LoadedProgram {
  cpu::FlatMemory ram{8u << 20};
  cpu::NullIo io;
  trace::EventLog log;
  cpu::Cpu cpu{ram, io, log};

  explicit LoadedProgram(const Program& p) {
    for (const auto& [base, bytes] : p.mem.pages)
      if (base + 4096 <= ram.size()) std::memcpy(ram.data() + base, bytes.data(), 4096);
    const uint32_t end = p.eip_of(p.insns.size()) + p.code_segment_base();
    ram.data()[end] = 0xF4;  // HLT after the last instruction
    cpu::CpuState s = cpu.state();
    s.cr0 |= cpu::cr0::PE;
    for (int i = 0; i < 6; ++i) {
      s.seg[i] = cpu::Segment{p.start.seg[i], 0, 0xFFFFFFFF, uint16_t(i == cpu::CS ? 0xC09B : 0xC093)};
    }
    for (int i = 0; i < 8; ++i) s.gpr[i] = p.start.gpr[i];
    s.eip = p.start.eip;
    s.eflags = p.start.eflags;
    s.cpl = 0;
    s.halted = false;
    cpu.set_state(s);
  }
};

}  // namespace

TEST(ThreadedEngine, RunMatchesStepOnGeneratedPrograms) {
  GeneratorOptions options;
  options.faults = false;  // no IDT here: a fault would end both runs early
  StreamGenerator gen(2026, StartMode::Ring0Flat32, default_layout(StartMode::Ring0Flat32), options);
  size_t compared = 0;
  for (int program = 0; program < 40; ++program) {
    const Program p = gen.generate(300);
    ASSERT_TRUE(gen.error().empty()) << gen.error();
    LoadedProgram threaded(p), stepped(p);
    const cpu::RunStop a = threaded.cpu.run(100000);
    cpu::RunStop b = cpu::RunStop::Budget;
    for (int i = 0; i < 100000 && b == cpu::RunStop::Budget; ++i) b = stepped.cpu.step();
    ASSERT_EQ(a, b) << "program " << program;
    // Both must have run the whole program to the HLT after it.
    ASSERT_EQ(a, cpu::RunStop::Halted) << "program " << program << " stopped: " << cpu::run_stop_name(a);
    EXPECT_GE(threaded.cpu.instructions(), p.insns.size());
    const cpu::CpuState x = threaded.cpu.state(), y = stepped.cpu.state();
    for (int r = 0; r < 8; ++r) EXPECT_EQ(x.gpr[r], y.gpr[r]) << "program " << program << " gpr " << r;
    EXPECT_EQ(x.eip, y.eip) << "program " << program;
    EXPECT_EQ(x.eflags, y.eflags) << "program " << program;
    EXPECT_EQ(threaded.cpu.instructions(), stepped.cpu.instructions()) << "program " << program;
    const uint32_t data = p.layout.data_base;
    EXPECT_EQ(0, std::memcmp(threaded.ram.data() + data, stepped.ram.data() + data, p.layout.data_size))
        << "program " << program << ": data window differs";
    compared += p.insns.size();
  }
  EXPECT_GT(compared, 10000u);
}
