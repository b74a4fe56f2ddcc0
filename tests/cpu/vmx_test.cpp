// Simulated VT-x non-root mode (cpu/include/virtscope/cpu/vmx.h): which
// instructions and events exit under which controls, with the SDM's exit
// reasons and qualifications (Intel SDM Vol. 3C ch. 25, §27.2.1, App. C),
// and that everything else, root mode included, runs as before.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "virtscope/cpu/cpu.h"
#include "virtscope/cpu/opcode_table.h"
#include "virtscope/trace/event.h"

using namespace vs;
using namespace vs::cpu;

namespace {

class RecordingIo final : public IoBus {
 public:
  uint32_t in(uint16_t port, unsigned) override { return 0x1234; }
  void out(uint16_t port, unsigned, uint32_t v) override { writes.push_back({port, v}); }
  std::vector<std::pair<uint16_t, uint32_t>> writes;
};

class CountingPic final : public InterruptController {
 public:
  uint8_t acknowledge() override {
    ++acks;
    return 0x20;
  }
  int acks = 0;
};

class StopOnException final : public CpuHooks {
 public:
  HookAction on_exception(uint8_t v, bool, uint32_t) override {
    vector = v;
    return HookAction::Stop;
  }
  int vector = -1;
};

constexpr uint32_t kGdt = 0x600, kIdt = 0x800, kCode = 0x1000, kHandler = 0x3000;

// A ring-0 guest in flat 32-bit protected mode with a real GDT (code 0x08,
// data 0x10) and an IDT whose every gate leads to `hlt` at kHandler.
struct Guest {
  FlatMemory ram{1u << 20};
  RecordingIo io;
  trace::EventLog log;
  Cpu cpu{ram, io, log};

  void put32(uint32_t at, uint32_t v) { std::memcpy(ram.data() + at, &v, 4); }
  uint32_t get32(uint32_t at) {
    uint32_t v;
    std::memcpy(&v, ram.data() + at, 4);
    return v;
  }
  void poke(uint32_t at, std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes) ram.data()[at++] = b;
  }
  explicit Guest(std::initializer_list<uint8_t> code, uint32_t eflags = 0x2) {
    put32(kGdt + 8, 0x0000FFFF), put32(kGdt + 12, 0x00CF9A00);   // flat code, DPL 0
    put32(kGdt + 16, 0x0000FFFF), put32(kGdt + 20, 0x00CF9200);  // flat data
    for (unsigned v = 0; v < 256; ++v) {                          // 32-bit interrupt gates
      put32(kIdt + v * 8, 0x00080000 | (kHandler & 0xFFFF));
      put32(kIdt + v * 8 + 4, (kHandler & 0xFFFF0000) | 0x8E00);
    }
    poke(kHandler, {0xF4});  // hlt
    poke(kCode, code);
    CpuState s = cpu.state();
    enter_flat_protected_mode(s, kCode);
    s.gdtr = {kGdt, 0x17};
    s.idtr = {kIdt, 0x7FF};
    s.gpr[ESP] = 0x9000;
    s.eflags = eflags;
    cpu.set_state(s);
  }
  uint32_t eip() const { return cpu.state().eip; }
  const VmExit& exit() const { return cpu.last_vm_exit(); }
};

}  // namespace

TEST(Vmx, ExitReasonNames_FollowTheSdm) {
  EXPECT_EQ(uint16_t(VmxExitReason::EptViolation), 48);
  EXPECT_EQ(uint16_t(VmxExitReason::Vmcall), 18);
  EXPECT_STREQ(vmx_exit_reason_name(VmxExitReason::ExceptionOrNmi), "EXCEPTION_NMI");
  EXPECT_STREQ(vmx_exit_reason_name(VmxExitReason::IoInstruction), "IO_INSTRUCTION");
  EXPECT_STREQ(vmx_exit_reason_name(VmxExitReason::EptViolation), "EPT_VIOLATION");
}

TEST(Vmx, Cpuid_AlwaysExitsWithReason10AndLength2) {
  Guest g({0x0F, 0xA2, 0xF4});  // cpuid; hlt
  g.cpu.enter_non_root({});
  CpuState s = g.cpu.state();
  s.gpr[EAX] = 0;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::Cpuid);
  EXPECT_EQ(g.exit().instruction_length, 2u);
  EXPECT_EQ(g.eip(), kCode);                // not executed: the guest is at the instruction
  EXPECT_EQ(g.cpu.state().gpr[EAX], 0u);    // the VMM emulates it
}

TEST(Vmx, AfterAnExit_AdvancingEipAndResumingContinues) {
  Guest g({0x0F, 0xA2, 0x40, 0x0F, 0xA2, 0xF4});  // cpuid; inc eax; cpuid; hlt
  g.cpu.enter_non_root({});
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  CpuState s = g.cpu.state();  // the VMM emulates CPUID: EAX = 41
  s.gpr[EAX] = 41;
  s.eip += g.exit().instruction_length;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);  // the second CPUID
  EXPECT_EQ(g.eip(), kCode + 3);
  EXPECT_EQ(g.cpu.state().gpr[EAX], 42u);
  s = g.cpu.state();
  s.eip += 2;
  g.cpu.set_state(s);
  EXPECT_EQ(g.cpu.run(10), RunStop::Halted);  // HLT does not exit without hlt_exiting
}

TEST(Vmx, Hlt_ExitsOnlyWithHltExiting) {
  Guest g({0xF4});
  VmxControls c;
  c.hlt_exiting = true;
  g.cpu.enter_non_root(c);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::Hlt);
  EXPECT_EQ(g.exit().instruction_length, 1u);
  EXPECT_FALSE(g.cpu.state().halted);
  c.hlt_exiting = false;
  g.cpu.set_vmx_controls(c);
  EXPECT_EQ(g.cpu.run(10), RunStop::Halted);
  EXPECT_EQ(g.eip(), kCode + 1);
}

TEST(Vmx, PortIo_ExitsWithTheSdmQualification) {
  // out 0x80, al; in ax, dx; rep outsb; hlt
  Guest g({0xE6, 0x80, 0x66, 0xED, 0xF3, 0x6E, 0xF4});
  VmxControls c;
  c.unconditional_io_exiting = true;
  g.cpu.enter_non_root(c);
  CpuState s = g.cpu.state();
  s.gpr[EDX] = 0x3F8;
  s.gpr[ESI] = 0x4000;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::IoInstruction);
  EXPECT_EQ(g.exit().qualification, 0x00800040u);  // size 1, OUT, immediate, port 0x80 (Table 27-5)
  EXPECT_EQ(g.exit().instruction_length, 2u);
  EXPECT_TRUE(g.io.writes.empty());
  s = g.cpu.state();
  s.eip += 2;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().qualification, 0x03F80009u);  // size 2 (1), IN (bit 3), DX
  EXPECT_EQ(g.exit().instruction_length, 2u);
  s = g.cpu.state();
  s.eip += 2;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().qualification, 0x03F80030u);  // size 1, OUT, string, REP
  EXPECT_EQ(g.exit().guest_linear, 0x4000u);
  // Without the control, I/O runs natively.
  g.cpu.set_vmx_controls({});
  s.eip = kCode;
  g.cpu.set_state(s);
  EXPECT_EQ(g.cpu.run(1), RunStop::Budget);
  ASSERT_EQ(g.io.writes.size(), 1u);
  EXPECT_EQ(g.io.writes[0].first, 0x80);
}

TEST(Vmx, MovToCr3_ExitsOnlyWithCr3LoadExiting) {
  Guest g({0x0F, 0x22, 0xDB, 0x0F, 0x20, 0xD8, 0xF4});  // mov cr3, ebx; mov eax, cr3; hlt
  VmxControls c;
  c.cr3_load_exiting = true;
  g.cpu.enter_non_root(c);
  CpuState s = g.cpu.state();
  s.gpr[EBX] = 0x5000;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::CrAccess);
  EXPECT_EQ(g.exit().qualification, 0x303u);  // CR3, MOV to CR, EBX (Table 27-3)
  EXPECT_EQ(g.exit().instruction_length, 3u);
  EXPECT_EQ(g.cpu.state().cr3, 0u);
  g.cpu.set_vmx_controls({});  // neither load nor store exiting
  EXPECT_EQ(g.cpu.run(10), RunStop::Halted);
  EXPECT_EQ(g.cpu.state().cr3, 0x5000u);
  EXPECT_EQ(g.cpu.state().gpr[EAX], 0x5000u);
}

TEST(Vmx, MovFromCr3_ExitsWithCr3StoreExiting) {
  Guest g({0x0F, 0x20, 0xD8});  // mov eax, cr3
  VmxControls c;
  c.cr3_store_exiting = true;
  g.cpu.enter_non_root(c);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().qualification, 0x013u);  // CR3, MOV from CR (type 1), EAX
}

TEST(Vmx, ExceptionInTheBitmap_ExitsWithItsVector) {
  Guest g({0x31, 0xC9, 0xF7, 0xF1});  // xor ecx, ecx; div ecx
  VmxControls c;
  c.exception_bitmap = 1u << 0;  // #DE
  g.cpu.enter_non_root(c);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::ExceptionOrNmi);
  EXPECT_EQ(g.exit().vector, 0);
  EXPECT_EQ(g.exit().interruption_info, 0x80000300u);  // vector 0, hardware exception, valid
  EXPECT_EQ(g.eip(), kCode + 2);                       // at the faulting DIV
}

TEST(Vmx, ExceptionNotInTheBitmap_IsDeliveredThroughTheGuestIdt) {
  Guest g({0x31, 0xC9, 0xF7, 0xF1});
  VmxControls c;
  c.exception_bitmap = 1u << 13;  // #GP only
  g.cpu.enter_non_root(c);
  EXPECT_EQ(g.cpu.run(10), RunStop::Halted);
  EXPECT_EQ(g.eip(), kHandler + 1);
  EXPECT_EQ(g.get32(0x9000 - 12), kCode + 2);  // the #DE frame's EIP
}

TEST(Vmx, GeneralProtectionExit_CarriesTheErrorCode) {
  Guest g({0x0F, 0x22, 0xE0});  // mov cr4, eax with a reserved bit: #GP(0)
  VmxControls c;
  c.exception_bitmap = 1u << 13;
  g.cpu.enter_non_root(c);
  CpuState s = g.cpu.state();
  s.gpr[EAX] = 1u << 20;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().vector, 13);
  EXPECT_TRUE(g.exit().has_error_code);
  EXPECT_EQ(g.exit().interruption_info, 0x80000B0Du);
}

TEST(Vmx, Vmcall_ExitsInNonRootAndIsInvalidOpcodeInRoot) {
  const OpcodeInfo* row = find_opcode(0x101, unsigned(modrm_form(0xC1)));
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->mnemonic, Mnemonic::VMCALL);
  EXPECT_EQ(find_opcode(0x101, 0)->mnemonic, Mnemonic::SGDT);  // 0F 01 /0 with memory stays SGDT
  const uint8_t bytes[] = {0x0F, 0x01, 0xC1};
  EXPECT_EQ(describe_instruction(bytes, true)->length, 3u);

  Guest root({0x0F, 0x01, 0xC1});
  StopOnException hook;
  root.cpu.set_hooks(&hook);
  EXPECT_EQ(root.cpu.run(10), RunStop::Hook);
  EXPECT_EQ(hook.vector, 6);

  Guest g({0x0F, 0x01, 0xC1});
  g.cpu.enter_non_root({});
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::Vmcall);
  EXPECT_EQ(g.exit().instruction_length, 3u);
}

TEST(Vmx, ExternalInterruptExiting_ExitsWithoutAcknowledgingThePic) {
  Guest g({0x90, 0xEB, 0xFE});  // nop; jmp $  (IF = 0)
  CountingPic pic;
  g.cpu.set_interrupt_controller(&pic);
  VmxControls c;
  c.external_interrupt_exiting = true;
  g.cpu.enter_non_root(c);
  EXPECT_EQ(g.cpu.run(5), RunStop::Budget);
  g.cpu.set_irq(true);
  ASSERT_EQ(g.cpu.run(5), RunStop::VmExit);  // IF = 0 does not hold it off
  EXPECT_EQ(g.exit().reason, VmxExitReason::ExternalInterrupt);
  EXPECT_EQ(pic.acks, 0);
  // Without the control the guest's IF decides, and delivery uses the guest IDT.
  g.cpu.set_vmx_controls({});
  EXPECT_EQ(g.cpu.run(5), RunStop::Budget);
  CpuState s = g.cpu.state();
  s.eflags |= flag::IF;
  g.cpu.set_state(s);
  EXPECT_EQ(g.cpu.run(5), RunStop::Halted);
  EXPECT_EQ(pic.acks, 1);
  EXPECT_EQ(g.eip(), kHandler + 1);
}

TEST(Vmx, InterruptWindowExiting_ExitsAtTheFirstOpenBoundary) {
  Guest g({0x90, 0xFB, 0x90, 0x90, 0xF4});  // nop; sti; nop (STI shadow); nop; hlt
  VmxControls c;
  c.interrupt_window_exiting = true;
  g.cpu.enter_non_root(c);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::InterruptWindow);
  EXPECT_EQ(g.eip(), kCode + 3);  // after STI and the instruction it shadows
}

TEST(Vmx, InjectedEvent_IsDeliveredThroughTheGuestIdtBeforeTheFirstInstruction) {
  Guest g({0x90, 0xEB, 0xFE});
  g.cpu.enter_non_root({});
  g.cpu.inject_event(0x30);
  EXPECT_EQ(g.cpu.run(5), RunStop::Halted);
  EXPECT_EQ(g.eip(), kHandler + 1);
  EXPECT_EQ(g.get32(0x9000 - 12), kCode);
}

TEST(Vmx, DescriptorTableExiting_ReportsOperandAndIdentity) {
  Guest g({0x0F, 0x01, 0x15, 0x00, 0x20, 0x00, 0x00});  // lgdt [0x2000]
  VmxControls c;
  c.descriptor_table_exiting = true;
  g.cpu.enter_non_root(c);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::GdtrIdtrAccess);
  EXPECT_EQ(g.exit().instruction_length, 7u);
  EXPECT_EQ(g.exit().guest_linear, 0x2000u);
  EXPECT_EQ(g.exit().instruction_info >> 28, 2u);  // LGDT
  EXPECT_EQ(g.cpu.state().gdtr.base, kGdt);
}

TEST(Vmx, InvlpgExiting_ReportsTheLinearAddress) {
  Guest g({0x0F, 0x01, 0x38});  // invlpg [eax]
  VmxControls c;
  c.invlpg_exiting = true;
  g.cpu.enter_non_root(c);
  CpuState s = g.cpu.state();
  s.gpr[EAX] = 0x5123;
  g.cpu.set_state(s);
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::Invlpg);
  EXPECT_EQ(g.exit().qualification, 0x5123u);
}

TEST(Vmx, TripleFault_AlwaysExits) {
  Guest g({0x0F, 0x0B});  // ud2 with no usable IDT
  CpuState s = g.cpu.state();
  s.idtr = {0, 0};
  g.cpu.set_state(s);
  g.cpu.enter_non_root({});
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_EQ(g.exit().reason, VmxExitReason::TripleFault);
}

TEST(Vmx, PrivilegeFaults_HavePriorityOverExits) {
  Guest g({0xF4});  // hlt at CPL 3 is #GP(0) even with HLT exiting (SDM Vol. 3C §25.1.1)
  CpuState s = g.cpu.state();
  s.cpl = 3;
  s.seg[CS].selector = 0x1B;
  g.cpu.set_state(s);
  StopOnException hook;
  g.cpu.set_hooks(&hook);
  VmxControls c;
  c.hlt_exiting = true;
  g.cpu.enter_non_root(c);
  EXPECT_EQ(g.cpu.run(10), RunStop::Hook);
  EXPECT_EQ(hook.vector, 13);
}

TEST(Vmx, LeavingNonRoot_RestoresRootBehaviour) {
  Guest g({0x0F, 0xA2, 0xF4});
  g.cpu.enter_non_root({});
  ASSERT_EQ(g.cpu.run(10), RunStop::VmExit);
  EXPECT_TRUE(g.cpu.in_non_root());
  g.cpu.leave_non_root();
  EXPECT_FALSE(g.cpu.in_non_root());
  EXPECT_EQ(g.cpu.run(10), RunStop::Halted);  // CPUID now runs natively
  EXPECT_EQ(g.cpu.state().gpr[EBX], 0x74726956u);  // "Virt" of "VirtScopeX86"
}
