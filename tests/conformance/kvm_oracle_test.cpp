// Tests of the KVM oracle (conformance/src/kvm_oracle.cpp): its plumbing on any
// usable /dev/kvm, and whether it claims to be a silicon oracle on this host.
#include "virtscope/conformance/kvm_oracle.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vs::conformance {
namespace {

constexpr uint32_t kReal16Code = 0x10000;  // CS = 0x1000
constexpr uint32_t kReal16Data = 0x20000;  // SS = DS = ES = 0x2000

// Where a step failed because the host, not the oracle, refused the code
// (on kvm_pvm every non-64-bit instruction goes through KVM's emulator).
bool host_refused(const StepResult& r) {
  return r.kind == StepResult::Kind::Error && r.message.find("emulation failure") != std::string::npos;
}

Layout real16_layout() {
  Layout l;
  l.code_base = kReal16Code;
  l.code_size = 0x1000;
  l.data_base = kReal16Data;
  l.data_size = 0x1000;
  l.stack_top = kReal16Data + 0x1000;
  return l;
}

ArchState real16_start() {
  ArchState s;
  s.seg[CS] = kReal16Code >> 4;
  s.seg[SS] = s.seg[DS] = s.seg[ES] = kReal16Data >> 4;
  s.gpr[ESP] = 0x1000;
  s.eip = 0;
  return s;
}

ArchState flat32_start(uint16_t code, uint16_t data, const Layout& l) {
  ArchState s;
  s.seg[CS] = code;
  s.seg[SS] = s.seg[DS] = s.seg[ES] = s.seg[FS] = s.seg[GS] = data;
  s.gpr[ESP] = l.stack_top;
  s.eip = l.code_base;
  return s;
}

MemoryImage image_with(const Layout& l, const std::vector<uint8_t>& code) {
  MemoryImage m;
  m.map(l.code_base, l.code_size);
  m.map(l.data_base, l.data_size);
  m.write(l.code_base, code);
  return m;
}

#define SKIP_UNLESS_KVM_PLUMBING()                          \
  do {                                                      \
    std::string why_;                                       \
    if (!kvm_plumbing_available(&why_)) {                   \
      GTEST_SKIP() << why_;                                 \
    }                                                       \
  } while (0)

TEST(KvmOracle, Available_FalseNamesTheReason_AndFalseUnderKvmPvm) {
  auto oracle = make_kvm_oracle();
  EXPECT_EQ(oracle->name(), "kvm");
  for (StartMode mode : {StartMode::UserFlat32, StartMode::Ring0Flat32, StartMode::Real16}) {
    std::string why;
    bool ok = oracle->available(mode, &why);
    if (!ok) {
      EXPECT_FALSE(why.empty());
    }
    if (::access("/sys/module/kvm_pvm", F_OK) == 0) {
      EXPECT_FALSE(ok) << "kvm_pvm emulates 32-bit code; the oracle must not call itself silicon";
      EXPECT_NE(why.find("kvm_pvm"), std::string::npos) << why;
    }
    EXPECT_EQ(oracle->available(mode, nullptr), ok) << "a null why is accepted and changes nothing";
  }
}

TEST(KvmOracle, Step_BeforeReset_IsAnErrorNotACrash) {
  auto oracle = make_kvm_oracle();
  StepResult r = oracle->step();
  EXPECT_EQ(r.kind, StepResult::Kind::Error);
  EXPECT_FALSE(r.message.empty());
}

TEST(KvmOracle, Reset_WindowBeyondGuestMemory_IsRejected) {
  auto oracle = make_kvm_oracle();
  Layout l;
  l.data_base = 0x01000000;  // 16 MiB: just past the guest's RAM
  auto err = oracle->reset(StartMode::Ring0Flat32, l, MemoryImage{}, flat32_start(0x08, 0x10, l));
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("does not fit"), std::string::npos) << *err;
}

TEST(KvmOracle, Reset_ImageOverPrivateTables_IsRejected) {
  auto oracle = make_kvm_oracle();
  Layout l;
  MemoryImage m;
  m.map(0x000F1000, 1);  // the exception stubs live here
  auto err = oracle->reset(StartMode::Ring0Flat32, l, m, flat32_start(0x08, 0x10, l));
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("private tables"), std::string::npos) << *err;
}

TEST(KvmOracle, Reset_Ring0WithNullCs_IsRejected) {
  SKIP_UNLESS_KVM_PLUMBING();
  auto oracle = make_kvm_oracle();
  Layout l;
  auto err = oracle->reset(StartMode::Ring0Flat32, l, image_with(l, {0x90}), ArchState{});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("null"), std::string::npos) << *err;
}

TEST(KvmOracle, Real16_MovAddThenDivideByZero_RetiresAndReportsVector0) {
  SKIP_UNLESS_KVM_PLUMBING();
  auto oracle = make_kvm_oracle();
  Layout l = real16_layout();
  // mov ax, 0x1234 ; add ax, 1 ; div bl (BL = 0)
  MemoryImage m = image_with(l, {0xB8, 0x34, 0x12, 0x05, 0x01, 0x00, 0xF6, 0xF3});
  auto err = oracle->reset(StartMode::Real16, l, m, real16_start());
  if (err) GTEST_SKIP() << "KVM refused the real-mode guest: " << *err;

  StepResult r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Retired) << r.message;
  EXPECT_EQ(oracle->state().gpr[EAX] & 0xFFFF, 0x1234u);
  EXPECT_EQ(oracle->state().eip, 3u);

  r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Retired) << r.message;
  EXPECT_EQ(oracle->state().gpr[EAX] & 0xFFFF, 0x1235u);
  EXPECT_EQ(oracle->state().eip, 6u);

  r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Exception) << r.message;
  EXPECT_EQ(r.vector, 0);
  ArchState s = oracle->state();
  EXPECT_EQ(s.eip, 6u) << "a fault leaves IP at the faulting instruction";
  EXPECT_EQ(s.seg[CS], kReal16Code >> 4);
  EXPECT_EQ(s.gpr[ESP], 0x1000u);
  EXPECT_EQ(s.gpr[EAX] & 0xFFFF, 0x1235u) << "the report stub's use of AX must be undone";
  EXPECT_EQ(oracle->read_memory(l.stack_top - 16, 16), std::vector<uint8_t>(16, 0))
      << "the exception frame must be wiped from the stack";
}

TEST(KvmOracle, Ring0Flat32_MovFromCr0AndStoreLoad_Retire) {
  SKIP_UNLESS_KVM_PLUMBING();
  auto oracle = make_kvm_oracle();
  Layout l;
  // mov eax, cr0 ; mov [ebx], eax ; mov ecx, [ebx]
  MemoryImage m = image_with(l, {0x0F, 0x20, 0xC0, 0x89, 0x03, 0x8B, 0x0B});
  ArchState start = flat32_start(0x08, 0x10, l);
  start.gpr[EBX] = l.data_base;
  auto err = oracle->reset(StartMode::Ring0Flat32, l, m, start);
  if (err) GTEST_SKIP() << "KVM refused the ring-0 guest: " << *err;

  for (int i = 0; i < 3; ++i) {
    StepResult r = oracle->step();
    if (host_refused(r)) GTEST_SKIP() << r.message;
    ASSERT_EQ(r.kind, StepResult::Kind::Retired) << "step " << i << ": " << r.message;
  }
  ArchState s = oracle->state();
  EXPECT_EQ(s.gpr[EAX] & 1, 1u) << "CR0.PE is set in protected mode";
  EXPECT_EQ(s.gpr[ECX], s.gpr[EAX]);
  EXPECT_EQ(s.eip, l.code_base + 7);
  EXPECT_EQ(s.seg[CS], 0x08);
  std::vector<uint8_t> stored = oracle->read_memory(l.data_base, 4);
  EXPECT_EQ(stored[0] | stored[1] << 8 | stored[2] << 16 | uint32_t(stored[3]) << 24, s.gpr[EAX]);
}

TEST(KvmOracle, Ring0Flat32_Ud2_IsFaultVector6WithStateAtTheFault) {
  SKIP_UNLESS_KVM_PLUMBING();
  auto oracle = make_kvm_oracle();
  Layout l;
  // ud2 ; mov eax, 7
  MemoryImage m = image_with(l, {0x0F, 0x0B, 0xB8, 0x07, 0x00, 0x00, 0x00});
  ArchState start = flat32_start(0x08, 0x10, l);
  start.gpr[EAX] = 0xA5A5A5A5;
  auto err = oracle->reset(StartMode::Ring0Flat32, l, m, start);
  if (err) GTEST_SKIP() << "KVM refused the ring-0 guest: " << *err;

  StepResult r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Exception) << r.message;
  EXPECT_EQ(r.vector, 6);
  ArchState s = oracle->state();
  EXPECT_EQ(s.eip, l.code_base) << "#UD is a fault";
  EXPECT_EQ(s.gpr[ESP], l.stack_top);
  EXPECT_EQ(s.gpr[EAX], 0xA5A5A5A5u) << "the report stub's use of EAX must be undone";
  EXPECT_EQ(s.eflags & 0x100, 0u) << "the single-step TF must not leak into the restored EFLAGS";
  EXPECT_EQ(oracle->read_memory(l.stack_top - 32, 32), std::vector<uint8_t>(32, 0))
      << "the exception frame must be wiped from the stack";

  s.eip += 2;  // skip the ud2, as the lockstep driver does
  oracle->set_state(s);
  r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Retired) << r.message;
  EXPECT_EQ(oracle->state().gpr[EAX], 7u);
}

TEST(KvmOracle, Ring0Flat32_Int21_IsTrapVector0x21WithEipPastIt) {
  SKIP_UNLESS_KVM_PLUMBING();
  auto oracle = make_kvm_oracle();
  Layout l;
  MemoryImage m = image_with(l, {0xCD, 0x21});  // int 0x21
  auto err = oracle->reset(StartMode::Ring0Flat32, l, m, flat32_start(0x08, 0x10, l));
  if (err) GTEST_SKIP() << "KVM refused the ring-0 guest: " << *err;

  StepResult r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Exception) << r.message;
  EXPECT_EQ(r.vector, 0x21);
  EXPECT_EQ(r.error_code, 0u) << "INT n pushes no error code";
  ArchState s = oracle->state();
  EXPECT_EQ(s.eip, l.code_base + 2) << "INT n is a trap: EIP is past it";
  EXPECT_EQ(s.gpr[ESP], l.stack_top);
}

TEST(KvmOracle, Ring0Flat32_RepStosbAndJmpSelf_AreOneStepEach) {
  SKIP_UNLESS_KVM_PLUMBING();
  auto oracle = make_kvm_oracle();
  Layout l;
  // rep stosb ; jmp $
  MemoryImage m = image_with(l, {0xF3, 0xAA, 0xEB, 0xFE});
  ArchState start = flat32_start(0x08, 0x10, l);
  start.gpr[EAX] = 0x5A;
  start.gpr[ECX] = 3;
  start.gpr[EDI] = l.data_base;
  auto err = oracle->reset(StartMode::Ring0Flat32, l, m, start);
  if (err) GTEST_SKIP() << "KVM refused the ring-0 guest: " << *err;

  StepResult r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Retired) << r.message;
  ArchState s = oracle->state();
  EXPECT_EQ(s.gpr[ECX], 0u);
  EXPECT_EQ(s.gpr[EDI], l.data_base + 3);
  EXPECT_EQ(s.eip, l.code_base + 2);
  EXPECT_EQ(oracle->read_memory(l.data_base, 4), (std::vector<uint8_t>{0x5A, 0x5A, 0x5A, 0}));

  r = oracle->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Retired) << r.message;
  EXPECT_EQ(oracle->state().eip, l.code_base + 2) << "jmp $ retires in place";
}

TEST(KvmOracle, UserFlat32_Cli_IsGeneralProtectionWithStateAtTheFault) {
  SKIP_UNLESS_KVM_PLUMBING();
  auto oracle = make_kvm_oracle();
  Layout l;
  // cli ; mov eax, 5
  MemoryImage m = image_with(l, {0xFA, 0xB8, 0x05, 0x00, 0x00, 0x00});
  ArchState start = flat32_start(0x1B, 0x23, l);
  start.eflags = 0x202;  // IF set, IOPL 0
  auto err = oracle->reset(StartMode::UserFlat32, l, m, start);
  if (err) GTEST_SKIP() << "KVM refused the ring-3 guest: " << *err;

  StepResult r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Exception) << r.message;
  EXPECT_EQ(r.vector, 13);
  EXPECT_EQ(r.error_code, 0u);
  ArchState s = oracle->state();
  EXPECT_EQ(s.eip, l.code_base);
  EXPECT_EQ(s.gpr[ESP], l.stack_top);
  EXPECT_EQ(s.seg[CS], 0x1B);
  EXPECT_EQ(s.seg[SS], 0x23);
  EXPECT_EQ(s.eflags & 0x200, 0x200u) << "IF is untouched by a faulting CLI";

  s.eip += 1;
  oracle->set_state(s);
  r = oracle->step();
  if (host_refused(r)) GTEST_SKIP() << r.message;
  ASSERT_EQ(r.kind, StepResult::Kind::Retired) << r.message;
  EXPECT_EQ(oracle->state().gpr[EAX], 5u);
}

}  // namespace
}  // namespace vs::conformance
