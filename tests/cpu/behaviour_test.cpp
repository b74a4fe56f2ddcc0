// Behaviour of the interpreter on small guest programs: the demo tour end to
// end, determinism, the sensitive-instruction lessons (POPF/CLI at CPL 3),
// self-modifying code, exceptions through the IVT/IDT, triple fault, an
// unsupported task switch, port I/O events and opt-in instruction events.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "virtscope/cpu/cpu.h"
#include "virtscope/trace/event.h"

extern const unsigned char guest_tour[];
extern const unsigned guest_tour_size;

using namespace vs;
using namespace vs::cpu;

namespace {

class RecordingIo final : public IoBus {
 public:
  uint32_t in(uint16_t port, unsigned) override { return port; }
  void out(uint16_t port, unsigned, uint32_t v) override {
    if (port == 0xE9) console.push_back(char(v));
    writes.push_back({port, v});
  }
  std::string console;
  std::vector<std::pair<uint16_t, uint32_t>> writes;
};

// Stops the run at the first exception and remembers it.
class StopOnException final : public CpuHooks {
 public:
  HookAction on_exception(uint8_t v, bool, uint32_t e) override {
    vector = v;
    error = e;
    return HookAction::Stop;
  }
  int vector = -1;
  uint32_t error = 0;
};

struct Bench {
  FlatMemory ram{1u << 20};
  RecordingIo io;
  trace::EventLog log;
  Cpu cpu{ram, io, log};

  void poke(uint32_t at, std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes) ram.data()[at++] = b;
  }
  // Real mode, all segments 0, IVT at 0.
  void real_mode(uint16_t ip) {
    CpuState s = cpu.state();
    for (auto& seg : s.seg) seg = Segment{};
    s.seg[CS].attr = 0x9B;
    s.eip = ip;
    s.gpr[ESP] = 0x8000;
    s.idtr = {0, 0x3FF};
    cpu.set_state(s);
  }
  // Flat 32-bit protected mode at `cpl` (descriptor caches set directly).
  void flat32(uint32_t eip, unsigned cpl, uint32_t eflags = 0x2) {
    CpuState s = cpu.state();
    s.cr0 |= cr0::PE;
    for (auto& seg : s.seg) {
      seg.selector = uint16_t(0x10 | cpl);
      seg.base = 0;
      seg.limit = 0xFFFFFFFF;
      seg.attr = uint16_t(0xC093 | cpl << 5);
    }
    s.seg[CS].selector = uint16_t(0x08 | cpl);
    s.seg[CS].attr = uint16_t(0xC09B | cpl << 5);
    s.eip = eip;
    s.gpr[ESP] = 0x9000;
    s.eflags = eflags;
    s.cpl = uint8_t(cpl);
    s.halted = false;
    cpu.set_state(s);
  }
};

std::vector<std::string> tour_events() {
  Bench b;
  for (unsigned i = 0; i < guest_tour_size; ++i) b.ram.data()[0x7C00 + i] = guest_tour[i];
  b.real_mode(0x7C00);
  std::vector<std::string> events;
  b.log.subscribe(trace::KindSet::all(), [&](const trace::Event& e) {
    events.push_back(std::to_string(e.when.icount) + " " + trace::kind_info(e.kind).name + " " +
                     std::to_string(e.arg[0]) + " " + std::to_string(e.arg[1]) + " " + std::to_string(e.arg[2]));
  });
  EXPECT_EQ(b.cpu.run(100000), RunStop::Halted);
  return events;
}

}  // namespace

TEST(Cpu, TourGuest_RunsFromRealModeToRing3AndHalts) {
  Bench b;
  for (unsigned i = 0; i < guest_tour_size; ++i) b.ram.data()[0x7C00 + i] = guest_tour[i];
  b.real_mode(0x7C00);
  uint64_t exceptions = 0;
  b.log.subscribe(trace::KindSet::of({trace::EventKind::Exception}), [&](const trace::Event&) { ++exceptions; });
  ASSERT_EQ(b.cpu.run(100000), RunStop::Halted);
  EXPECT_NE(b.io.console.find("real mode"), std::string::npos);
  EXPECT_NE(b.io.console.find("#DE: the kernel caught"), std::string::npos);
  EXPECT_NE(b.io.console.find("ring 3: hello"), std::string::npos);
  EXPECT_NE(b.io.console.find("#GP: ring 3 tried CLI"), std::string::npos);
  EXPECT_NE(b.io.console.find("exit:"), std::string::npos);
  EXPECT_EQ(exceptions, 2u);  // #DE and #GP, nothing else
  EXPECT_EQ(b.cpu.state().cpl, 0);
}

TEST(Cpu, SameInputs_GiveTheSameEventStream) {
  const auto a = tour_events(), b = tour_events();
  ASSERT_GT(a.size(), 100u);
  EXPECT_EQ(a, b);
}

// The trap-and-emulate lesson: at CPL 3 with IOPL 0, POPF silently keeps IF
// (no exception), while CLI faults (SDM Vol. 2 "POPF", "CLI").
TEST(Cpu, PopfAtCpl3_SilentlyKeepsInterruptFlag) {
  Bench b;
  b.poke(0x1000, {0x6A, 0x00, 0x9D});  // push 0; popf
  b.flat32(0x1000, 3, 0x202);          // IF = 1
  StopOnException hook;
  b.cpu.set_hooks(&hook);
  b.cpu.run(2);
  EXPECT_EQ(hook.vector, -1);
  EXPECT_TRUE(b.cpu.state().eflags & flag::IF);
}

TEST(Cpu, CliAtCpl3_RaisesGeneralProtection) {
  Bench b;
  b.poke(0x1000, {0xFA});  // cli
  b.flat32(0x1000, 3, 0x202);
  StopOnException hook;
  b.cpu.set_hooks(&hook);
  EXPECT_EQ(b.cpu.run(1), RunStop::Hook);
  EXPECT_EQ(hook.vector, 13);
  EXPECT_EQ(b.cpu.state().eip, 0x1000u);  // a fault: EIP stays on the instruction
}

TEST(Cpu, PushCsAtCpl3_RevealsRpl3) {
  Bench b;
  b.poke(0x1000, {0x0E});  // push cs
  b.flat32(0x1000, 3);
  b.cpu.run(1);
  EXPECT_EQ(b.ram.data()[0x9000 - 4] & 3, 3);
}

TEST(Cpu, SelfModifyingCode_NextExecutionSeesTheNewBytes) {
  Bench b;
  b.poke(0x1000, {0xB9, 0x02, 0x00, 0x00, 0x00,              // mov ecx, 2
                  0x90,                                      // 1005: nop (becomes inc eax)
                  0xC6, 0x05, 0x05, 0x10, 0x00, 0x00, 0x40,  // mov byte [0x1005], 0x40
                  0x49,                                      // dec ecx
                  0x75, 0xF5,                                // jnz 0x1005
                  0xF4});                                    // hlt
  b.flat32(0x1000, 0);
  ASSERT_EQ(b.cpu.run(100), RunStop::Halted);
  EXPECT_EQ(b.cpu.state().gpr[EAX], 1u);
}

TEST(Cpu, RealModeSoftwareInterrupt_GoesThroughTheIvtAndReturns) {
  Bench b;
  b.poke(0x21 * 4, {0x00, 0x20, 0x00, 0x00});  // IVT[0x21] = 0000:2000
  b.poke(0x2000, {0xB8, 0x34, 0x12, 0xCF});    // mov ax, 0x1234; iret
  b.poke(0x1000, {0xCD, 0x21, 0xF4});          // int 0x21; hlt
  b.real_mode(0x1000);
  ASSERT_EQ(b.cpu.run(10), RunStop::Halted);
  EXPECT_EQ(b.cpu.state().gpr[EAX] & 0xFFFF, 0x1234u);
  EXPECT_EQ(b.cpu.state().eip, 0x1003u);
  EXPECT_EQ(b.cpu.state().gpr[ESP], 0x8000u);
}

TEST(Cpu, RealModeDivideError_PushesTheFaultingIp) {
  Bench b;
  b.poke(0, {0x00, 0x30, 0x00, 0x00});  // IVT[0] = 0000:3000
  b.poke(0x3000, {0xF4});               // hlt
  b.poke(0x1000, {0x31, 0xC9, 0xF7, 0xF1});  // xor cx, cx; div cx
  b.real_mode(0x1000);
  ASSERT_EQ(b.cpu.run(10), RunStop::Halted);
  EXPECT_EQ(b.ram.data()[0x8000 - 6] | b.ram.data()[0x8000 - 5] << 8, 0x1002);  // IP of DIV
}

TEST(Cpu, ExceptionWithNoUsableIdt_TripleFaultsAndResets) {
  Bench b;
  b.poke(0x1000, {0x0F, 0x0B});  // ud2
  b.flat32(0x1000, 0);
  CpuState s = b.cpu.state();
  s.idtr = {0, 0};  // no gates at all
  b.cpu.set_state(s);
  uint64_t resets = 0;
  b.log.subscribe(trace::KindSet::of({trace::EventKind::Reset}), [&](const trace::Event& e) { resets += e.arg[0] == 1; });
  EXPECT_EQ(b.cpu.run(10), RunStop::Shutdown);
  EXPECT_EQ(resets, 1u);
}

TEST(Cpu, TaskSwitch_StopsAsUnsupportedWithAnEvent) {
  Bench b;
  // GDT at 0x500: null, code, data, then a 32-bit available TSS at 0x18.
  const uint8_t gdt[] = {0, 0, 0, 0, 0, 0, 0, 0,
                         0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0,
                         0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0,
                         0x67, 0, 0, 0x60, 0, 0x89, 0, 0};
  for (unsigned i = 0; i < sizeof gdt; ++i) b.ram.data()[0x500 + i] = gdt[i];
  b.poke(0x1000, {0xEA, 0, 0, 0, 0, 0x18, 0});  // jmp far 0x18:0
  b.flat32(0x1000, 0);
  CpuState s = b.cpu.state();
  s.gdtr = {0x500, 0x1F};
  b.cpu.set_state(s);
  uint64_t unsupported = 0;
  b.log.subscribe(trace::KindSet::of({trace::EventKind::Unsupported}), [&](const trace::Event&) { ++unsupported; });
  EXPECT_EQ(b.cpu.run(10), RunStop::Unsupported);
  EXPECT_EQ(unsupported, 1u);
  ASSERT_NE(b.cpu.unsupported_feature(), nullptr);
  EXPECT_NE(std::string(b.cpu.unsupported_feature()).find("task switch"), std::string::npos);
}

TEST(Cpu, LockPrefixOnARegisterDestination_IsInvalidOpcode) {
  Bench b;
  b.poke(0x1000, {0xF0, 0x01, 0xC0});  // lock add eax, eax
  b.flat32(0x1000, 0);
  StopOnException hook;
  b.cpu.set_hooks(&hook);
  b.cpu.run(1);
  EXPECT_EQ(hook.vector, 6);
}

TEST(Cpu, PortOutput_IsAnEventWithPortAndValue) {
  Bench b;
  b.poke(0x1000, {0xB0, 0x41, 0xE6, 0x80, 0xF4});  // mov al, 'A'; out 0x80, al; hlt
  b.flat32(0x1000, 0);
  std::vector<trace::Event> seen;
  b.log.subscribe(trace::KindSet::of({trace::EventKind::PortOut}), [&](const trace::Event& e) { seen.push_back(e); });
  ASSERT_EQ(b.cpu.run(10), RunStop::Halted);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].arg[0], 0x80u);
  EXPECT_EQ(seen[0].arg[2], 0x41u);
  EXPECT_EQ(seen[0].when.icount, 1u);  // stamped with the instructions retired before it
}

TEST(Cpu, InstructionEvents_AreOptIn) {
  Bench b;
  b.poke(0x1000, {0x90, 0x90, 0x90, 0xF4});
  b.flat32(0x1000, 0);
  uint64_t retired = 0;
  b.log.subscribe(trace::KindSet::of({trace::EventKind::InsnRetired}), [&](const trace::Event&) { ++retired; });
  ASSERT_EQ(b.cpu.run(10), RunStop::Halted);
  EXPECT_EQ(retired, 4u);
  EXPECT_EQ(b.cpu.instructions(), 4u);
}

TEST(Cpu, CpuidReportsTheVirtscopeSignatureAndNoFpu) {
  Bench b;
  b.poke(0x1000, {0x31, 0xC0, 0x0F, 0xA2, 0xF4});  // xor eax,eax; cpuid; hlt
  b.flat32(0x1000, 0);
  ASSERT_EQ(b.cpu.run(10), RunStop::Halted);
  const CpuState s = b.cpu.state();
  std::string vendor;
  for (uint32_t r : {s.gpr[EBX], s.gpr[EDX], s.gpr[ECX]})
    for (int i = 0; i < 4; ++i) vendor.push_back(char(r >> (8 * i)));
  EXPECT_EQ(vendor, kCpuidVendor);
  b.poke(0x1000, {0xB8, 1, 0, 0, 0, 0x0F, 0xA2, 0xF4});  // mov eax,1; cpuid; hlt
  b.flat32(0x1000, 0);
  ASSERT_EQ(b.cpu.run(10), RunStop::Halted);
  EXPECT_EQ(b.cpu.state().gpr[EDX] & cpuid_edx::FPU, 0u);
}

TEST(Cpu, X87EscapeWithoutFpu_RaisesDeviceNotAvailableWhenEmSet) {
  Bench b;
  b.poke(0x1000, {0xD9, 0xE8});  // fld1
  b.flat32(0x1000, 0);
  CpuState s = b.cpu.state();
  s.cr0 |= cr0::EM;
  b.cpu.set_state(s);
  StopOnException hook;
  b.cpu.set_hooks(&hook);
  b.cpu.run(1);
  EXPECT_EQ(hook.vector, 7);
}

// POPF setting TF in the middle of threaded execution must still trap after
// the next instruction (the chain re-checks at every block boundary).
TEST(Cpu, PopfSettingTrapFlag_SingleStepsTheNextInstruction) {
  Bench b;
  b.poke(0x1000, {0x68, 0x02, 0x01, 0x00, 0x00,  // push 0x102 (TF)
                  0x9D,                          // popf
                  0x90,                          // nop: traps after it
                  0x90, 0xF4});
  b.flat32(0x1000, 0);
  StopOnException hook;
  b.cpu.set_hooks(&hook);
  EXPECT_EQ(b.cpu.run(100), RunStop::Hook);
  EXPECT_EQ(hook.vector, 1);
  EXPECT_EQ(b.cpu.state().eip, 0x1007u);  // #DB is a trap: EIP after the NOP
}

// A cached block longer than a later, smaller CS limit must not run past it.
TEST(Cpu, CachedBlockPastANewCsLimit_FaultsAtTheLimit) {
  Bench b;
  b.poke(0x1000, {0x90, 0x90, 0x90, 0x90, 0xF4});
  b.flat32(0x1000, 0);
  ASSERT_EQ(b.cpu.run(100), RunStop::Halted);  // decodes and caches the block
  CpuState s = b.cpu.state();
  s.eip = 0x1000;
  s.halted = false;
  s.seg[CS].limit = 0x1002;  // the last NOP and the HLT now lie past the limit
  b.cpu.set_state(s);
  StopOnException hook;
  b.cpu.set_hooks(&hook);
  EXPECT_EQ(b.cpu.run(100), RunStop::Hook);
  EXPECT_EQ(hook.vector, 13);
  EXPECT_EQ(b.cpu.state().eip, 0x1003u);
}

namespace {
class FixedVectorPic final : public InterruptController {
 public:
  uint8_t acknowledge() override {
    ++acks;
    return 0x20;
  }
  int acks = 0;
};
}  // namespace

// INTR raised with IF=1 is taken at the next instruction boundary through the
// controller's vector; with no controller attached it is ignored.
TEST(Cpu, ExternalInterrupt_IsAcknowledgedAndDeliveredThroughTheIvt) {
  Bench b;
  b.poke(0x20 * 4, {0x00, 0x30, 0x00, 0x00});  // IVT[0x20] = 0000:3000
  b.poke(0x3000, {0xF4});                      // hlt in the handler
  b.poke(0x1000, {0xFB, 0x90, 0x90, 0xEB, 0xFE});  // sti; nop; nop; jmp $
  b.real_mode(0x1000);
  b.cpu.set_irq(true);
  EXPECT_EQ(b.cpu.run(50), RunStop::Budget);  // no controller: the line is ignored
  FixedVectorPic pic;
  b.cpu.set_interrupt_controller(&pic);
  EXPECT_EQ(b.cpu.run(50), RunStop::Halted);
  EXPECT_EQ(pic.acks, 1);
  EXPECT_EQ(b.cpu.state().eip, 0x3001u);
}

// CALL through a 32-bit call gate from ring 3 to ring 0: the CPU takes the
// ring-0 stack from the TSS, copies the gate's parameter, and RETF imm
// returns to ring 3 releasing it (SDM Vol. 3 §5.8.5, Figure 5-13).
TEST(Cpu, CallGateToRing0_SwitchesStackCopiesParameterAndReturns) {
  Bench b;
  const uint8_t gdt[] = {
      0, 0, 0, 0, 0, 0, 0, 0,
      0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0,  // 0x08 code, ring 0
      0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0,  // 0x10 data, ring 0
      0xFF, 0xFF, 0, 0, 0, 0xFA, 0xCF, 0,  // 0x18 code, ring 3
      0xFF, 0xFF, 0, 0, 0, 0xF2, 0xCF, 0,  // 0x20 data, ring 3
      0x67, 0, 0x00, 0x06, 0, 0x8B, 0, 0,  // 0x28 busy 32-bit TSS at 0x600
      0x00, 0x20, 0x08, 0x00, 0x01, 0xEC, 0, 0};  // 0x30 call gate, DPL 3 -> 0x08:0x2000, 1 parameter
  for (unsigned i = 0; i < sizeof gdt; ++i) b.ram.data()[0x500 + i] = gdt[i];
  b.poke(0x604, {0x00, 0x80, 0x00, 0x00});  // TSS ESP0 = 0x8000
  b.poke(0x608, {0x10, 0x00});              // TSS SS0 = 0x10
  b.poke(0x1000, {0x68, 0x44, 0x33, 0x22, 0x11,               // push 0x11223344
                  0x9A, 0x00, 0x00, 0x00, 0x00, 0x33, 0x00,   // call far 0x33:0
                  0xEB, 0xFE});                               // jmp $
  b.poke(0x2000, {0xCA, 0x04, 0x00});                         // retf 4
  b.flat32(0x1000, 3);
  CpuState s = b.cpu.state();
  s.gdtr = {0x500, sizeof gdt - 1};
  s.tr = Segment{0x28, 0x600, 0x67, 0x8B};
  for (auto& seg : s.seg) seg.selector = 0x23;
  s.seg[CS].selector = 0x1B;
  b.cpu.set_state(s);

  b.cpu.run(2);  // push, call
  s = b.cpu.state();
  EXPECT_EQ(s.cpl, 0);
  EXPECT_EQ(s.seg[CS].selector, 0x08);
  EXPECT_EQ(s.seg[SS].selector, 0x10);
  EXPECT_EQ(s.eip, 0x2000u);
  ASSERT_EQ(s.gpr[ESP], 0x8000u - 5 * 4);  // SS, ESP, one parameter, CS, EIP
  auto dword = [&](uint32_t at) { uint32_t v; std::memcpy(&v, b.ram.data() + at, 4); return v; };
  EXPECT_EQ(dword(0x7FEC), 0x100Cu);      // return EIP
  EXPECT_EQ(dword(0x7FF0), 0x1Bu);        // return CS
  EXPECT_EQ(dword(0x7FF4), 0x11223344u);  // the copied parameter
  EXPECT_EQ(dword(0x7FF8), 0x9000u - 4);  // caller's ESP
  EXPECT_EQ(dword(0x7FFC), 0x23u);        // caller's SS

  b.cpu.run(1);  // retf 4
  s = b.cpu.state();
  EXPECT_EQ(s.cpl, 3);
  EXPECT_EQ(s.seg[CS].selector, 0x1B);
  EXPECT_EQ(s.seg[SS].selector, 0x23);
  EXPECT_EQ(s.eip, 0x100Cu);
  EXPECT_EQ(s.gpr[ESP], 0x9000u);  // the parameter released on the caller's stack
}
