// Tests of the Unicorn oracle (conformance/src/unicorn_oracle.cpp): one step is
// one instruction in real mode, ring 0 and ring 3, and each Unicorn 2.0.1 quirk
// documented there is either worked around or visible here.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "virtscope/conformance/oracle.h"
#include "virtscope/conformance/unicorn_oracle.h"

namespace vs::conformance {
namespace {

#if VIRTSCOPE_HAVE_UNICORN

constexpr uint32_t kFlagCf = 1u << 0, kFlagZf = 1u << 6, kFlagSf = 1u << 7, kFlagIf = 1u << 9,
                   kFlagOf = 1u << 11;
constexpr uint32_t kReal16Code = 0x10000;  // CS = 0x1000
constexpr uint32_t kReal16Data = 0x20000;  // SS = DS = ES = 0x2000

using Bytes = std::vector<uint8_t>;

Bytes le32(uint32_t v) { return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)}; }
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const char* mode_name(StartMode m) {
  switch (m) {
    case StartMode::Real16: return "Real16";
    case StartMode::Ring0Flat32: return "Ring0Flat32";
    case StartMode::UserFlat32: return "UserFlat32";
  }
  return "?";
}

// One stream: where it sits and how it starts, for one mode.
struct Stream {
  StartMode mode;
  Layout layout;
  MemoryImage mem;
  ArchState start;

  bool real() const { return mode == StartMode::Real16; }
  // Linear address of the code window and of an offset in the data segment.
  uint32_t code() const { return layout.code_base; }
  uint32_t data(uint32_t offset) const { return layout.data_base + offset; }
  // The operand-size prefix that makes an instruction 32-bit in this mode.
  Bytes o32() const { return real() ? Bytes{0x66} : Bytes{}; }
  // A moffs operand naming data offset `offset` (16- or 32-bit address size).
  Bytes moffs(uint32_t offset) const {
    return real() ? Bytes{uint8_t(offset), uint8_t(offset >> 8)} : le32(data(offset));
  }
};

Stream make_stream(StartMode mode, const Bytes& code) {
  Stream s{mode, {}, {}, {}};
  if (s.real()) {
    s.layout.code_base = kReal16Code;
    s.layout.code_size = 0x1000;
    s.layout.data_base = kReal16Data;
    s.layout.data_size = 0x1000;
    s.layout.stack_top = kReal16Data + 0x1000;
    s.start.seg[CS] = kReal16Code >> 4;
    s.start.seg[SS] = s.start.seg[DS] = s.start.seg[ES] = kReal16Data >> 4;
    s.start.gpr[ESP] = 0x1000;
    s.start.eip = 0;
  } else {
    bool user = mode == StartMode::UserFlat32;
    s.start.seg[CS] = user ? 0x1B : 0x08;
    s.start.seg[SS] = s.start.seg[DS] = s.start.seg[ES] = s.start.seg[FS] = s.start.seg[GS] = user ? 0x23 : 0x10;
    s.start.gpr[ESP] = s.layout.stack_top;
    s.start.eip = s.layout.code_base;
  }
  s.mem.map(s.layout.code_base, s.layout.code_size);
  s.mem.map(s.layout.data_base, s.layout.data_size);
  s.mem.write(s.layout.code_base, code);
  return s;
}

class UnicornModes : public ::testing::TestWithParam<StartMode> {
 protected:
  void SetUp() override {
    oracle_ = make_unicorn_oracle();
    std::string why;
    if (!oracle_->available(GetParam(), &why)) GTEST_SKIP() << why;
  }
  Stream stream(const Bytes& code) { return make_stream(GetParam(), code); }
  bool real() const { return GetParam() == StartMode::Real16; }
  Bytes o32() const { return real() ? Bytes{0x66} : Bytes{}; }
  // Resets the oracle to `s`; fails the test if that does not work.
  void load(const Stream& s) {
    auto err = oracle_->reset(s.mode, s.layout, s.mem, s.start);
    ASSERT_FALSE(err.has_value()) << *err;
  }
  StepResult step_retired() {
    StepResult r = oracle_->step();
    EXPECT_EQ(r.kind, StepResult::Kind::Retired) << "vector " << r.vector << " " << r.message;
    return r;
  }
  // One step of `code` raises #UD and leaves the state as it was.
  void expect_ud_with_nothing_changed(const Bytes& code) {
    Stream s = stream(code);
    load(s);
    StepResult r = oracle_->step();
    ASSERT_EQ(r.kind, StepResult::Kind::Exception) << int(code[1]);
    EXPECT_EQ(r.vector, 6) << int(code[1]);
    EXPECT_EQ(oracle_->state(), s.start) << int(code[1]);
  }
  std::unique_ptr<Oracle> oracle_;
};

TEST_P(UnicornModes, MovImmediate_SetsEaxAndAdvancesEip) {
  Stream s = stream(cat({o32(), {0xB8}, le32(0x12345678)}));
  load(s);
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 0x12345678u);
  EXPECT_EQ(a.eip, s.start.eip + uint32_t(s.o32().size()) + 5);  // an offset, never linear
  EXPECT_EQ(a.seg[CS], s.start.seg[CS]);
}

TEST_P(UnicornModes, AddThatOverflowsThenCarries_SetsFlags) {
  Stream s = stream({});
  // add eax, 1 ; add eax, 0x80000000
  s.mem.write(s.code(), cat({s.o32(), {0x05}, le32(1), s.o32(), {0x05}, le32(0x80000000)}));
  s.start.gpr[EAX] = 0x7FFFFFFF;
  load(s);
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 0x80000000u);
  EXPECT_TRUE(a.eflags & kFlagOf);
  EXPECT_TRUE(a.eflags & kFlagSf);
  EXPECT_FALSE(a.eflags & kFlagCf);
  step_retired();
  a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 0u);
  EXPECT_TRUE(a.eflags & kFlagCf);
  EXPECT_TRUE(a.eflags & kFlagZf);
  EXPECT_TRUE(a.eflags & kFlagOf);
}

TEST_P(UnicornModes, SixteenBitAdd_WrapsAxAndKeepsUpperHalf) {
  // add ax, 1: needs 0x66 in 32-bit code, none in 16-bit code.
  Stream s = stream(real() ? Bytes{0x05, 0x01, 0x00} : Bytes{0x66, 0x05, 0x01, 0x00});
  s.start.gpr[EAX] = 0x1234FFFF;
  load(s);
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 0x12340000u);
  EXPECT_TRUE(a.eflags & kFlagCf);
  EXPECT_TRUE(a.eflags & kFlagZf);
  EXPECT_EQ(a.eip, s.start.eip + (s.real() ? 3u : 4u));
}

TEST_P(UnicornModes, Store_IsVisibleThroughReadMemory) {
  Stream s = stream({});
  s.mem.write(s.code(), cat({s.o32(), {0xA3}, s.moffs(0x100)}));  // mov [data+0x100], eax
  s.start.gpr[EAX] = 0xDDCCBBAA;
  load(s);
  step_retired();
  EXPECT_EQ(oracle_->read_memory(s.data(0x100), 4), (Bytes{0xAA, 0xBB, 0xCC, 0xDD}));
}

TEST_P(UnicornModes, DivideByZero_Vector0WithEipOnTheDiv) {
  Stream s = stream({0x90, 0xF7, 0xF1});  // nop ; div cx/ecx
  s.start.gpr[EAX] = 7;
  load(s);
  step_retired();
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 0);
  ArchState a = oracle_->state();
  EXPECT_EQ(a.eip, s.start.eip + 1);
  EXPECT_EQ(a.gpr[EAX], 7u);
}

TEST_P(UnicornModes, Ud2_Vector6WithEipOnIt) {
  Stream s = stream({0x0F, 0x0B});
  load(s);
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 6);
  EXPECT_EQ(oracle_->state().eip, s.start.eip);
}

// Unicorn does not consult the IDT, so even ring 3 sees vector 0x21 (silicon
// would raise #GP there); EIP is after INT n, where it would return to.
TEST_P(UnicornModes, Int21_ReportedAsVector21WithEipAfterIt) {
  Stream s = stream({0xCD, 0x21});
  load(s);
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 0x21);
  EXPECT_EQ(oracle_->state().eip, s.start.eip + 2);
}

TEST_P(UnicornModes, LoadFromUnmappedPage_Vector14WithEipOnTheLoad) {
  Stream s = stream({});
  if (s.real()) {
    // mov ax, 0x9000 ; mov ds, ax ; mov ax, [0]   (linear 0x90000 is unmapped)
    s.mem.write(s.code(), {0xB8, 0x00, 0x90, 0x8E, 0xD8, 0xA1, 0x00, 0x00});
  } else {
    s.mem.write(s.code(), cat({{0x90, 0x90, 0x90, 0x90, 0x90, 0xA1}, le32(0x00900000)}));  // 5 nops; mov eax, [..]
  }
  load(s);
  for (int i = 0; i < (s.real() ? 2 : 5); ++i) step_retired();
  uint32_t eax = oracle_->state().gpr[EAX];
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception) << r.message;
  EXPECT_EQ(r.vector, 14);
  ArchState a = oracle_->state();
  EXPECT_EQ(a.eip, s.start.eip + 5);
  EXPECT_EQ(a.gpr[EAX], eax);
}

TEST_P(UnicornModes, RepMovsbWithEcx5_IsOneStepAndCopiesFiveBytes) {
  Stream s = stream({0xF3, 0xA4, 0x90});  // rep movsb ; nop
  s.mem.write(s.data(0x10), Bytes{'h', 'e', 'l', 'l', 'o'});
  uint32_t base = s.real() ? 0 : s.data(0);  // SI/DI are offsets in DS/ES
  s.start.gpr[ESI] = base + 0x10;
  s.start.gpr[EDI] = base + 0x40;
  s.start.gpr[ECX] = 5;
  load(s);
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.gpr[ECX], 0u);
  EXPECT_EQ(a.gpr[ESI], base + 0x15);
  EXPECT_EQ(a.gpr[EDI], base + 0x45);
  EXPECT_EQ(a.eip, s.start.eip + 2);
  EXPECT_EQ(oracle_->read_memory(s.data(0x40), 5), (Bytes{'h', 'e', 'l', 'l', 'o'}));
}

TEST_P(UnicornModes, ResetTwice_StartsFromTheSameState) {
  Stream s = stream(cat({o32(), {0xB8}, le32(0xCAFEF00D)}));
  s.start.gpr[EBX] = 0x11;
  s.start.eflags = 0x2 | kFlagCf;
  for (int round = 0; round < 2; ++round) {
    load(s);
    EXPECT_EQ(oracle_->state(), s.start) << "round " << round;
    step_retired();
    EXPECT_EQ(oracle_->state().gpr[EAX], 0xCAFEF00Du);
  }
}

// Unicorn never delivers exceptions, so QEMU would keep the first #DE "in
// flight" and turn the second into #DF: the oracle must not.
TEST_P(UnicornModes, RepeatedDivideErrors_StayVector0) {
  Stream s = stream({0xF7, 0xF1, 0xF7, 0xF1, 0xF7, 0xF1, 0x90});
  load(s);
  for (int i = 0; i < 3; ++i) {
    StepResult r = oracle_->step();
    ASSERT_EQ(r.kind, StepResult::Kind::Exception);
    EXPECT_EQ(r.vector, 0) << "fault " << i;
    ArchState a = oracle_->state();
    EXPECT_EQ(a.eip, s.start.eip + 2u * uint32_t(i));
    a.eip += 2;  // skip the DIV, as the lockstep driver does
    oracle_->set_state(a);
  }
  step_retired();
  EXPECT_EQ(oracle_->state().eip, s.start.eip + 7);
}

TEST_P(UnicornModes, Hlt_RetiresAtRing0AndFaultsAtRing3) {
  Stream s = stream({0xF4, 0x90});
  load(s);
  StepResult r = oracle_->step();
  if (GetParam() == StartMode::UserFlat32) {
    ASSERT_EQ(r.kind, StepResult::Kind::Exception);
    EXPECT_EQ(r.vector, 13);
    EXPECT_EQ(oracle_->state().eip, s.start.eip);
    return;
  }
  ASSERT_EQ(r.kind, StepResult::Kind::Retired);
  EXPECT_EQ(oracle_->state().eip, s.start.eip + 1);
  step_retired();  // a halted Unicorn CPU still runs the next step
  EXPECT_EQ(oracle_->state().eip, s.start.eip + 2);
}

TEST_P(UnicornModes, StoreToThePrivateBlock_Vector14) {
  Stream s = stream({});
  // mov [0x0400], eax with DS = 0xF000 (real mode) or mov [0x000F0400], eax.
  if (s.real())
    s.mem.write(s.code(), {0xB8, 0x00, 0xF0, 0x8E, 0xD8, 0xA3, 0x00, 0x04});
  else
    s.mem.write(s.code(), cat({{0x90, 0x90, 0x90, 0x90, 0x90, 0xA3}, le32(0x000F0400)}));
  load(s);
  for (int i = 0; i < (s.real() ? 2 : 5); ++i) step_retired();
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 14);
  EXPECT_EQ(r.error_code & 3u, 3u);  // present, write
  EXPECT_EQ(oracle_->read_memory(0x000F0400, 8), Bytes(8, 0));  // the null descriptor survived
}

INSTANTIATE_TEST_SUITE_P(AllModes, UnicornModes,
                         ::testing::Values(StartMode::Real16, StartMode::Ring0Flat32, StartMode::UserFlat32),
                         [](const ::testing::TestParamInfo<StartMode>& i) { return mode_name(i.param); });

// ---- One mode each ----

class UnicornOracleTest : public ::testing::Test {
 protected:
  void load(const Stream& s) {
    oracle_ = make_unicorn_oracle();
    std::string why;
    if (!oracle_->available(s.mode, &why)) GTEST_SKIP() << why;
    auto err = oracle_->reset(s.mode, s.layout, s.mem, s.start);
    ASSERT_FALSE(err.has_value()) << *err;
  }
  StepResult step_retired() {
    StepResult r = oracle_->step();
    EXPECT_EQ(r.kind, StepResult::Kind::Retired) << "vector " << r.vector << " " << r.message;
    return r;
  }
  std::unique_ptr<Oracle> oracle_;
};

TEST_F(UnicornOracleTest, Ring0_CliMovFromCr0Lgdt_RunWithoutFault) {
  Stream s = make_stream(StartMode::Ring0Flat32, {});
  s.mem.write(s.code(), cat({{0xFA},                     // cli
                             {0x0F, 0x20, 0xC0},         // mov eax, cr0
                             {0x0F, 0x01, 0x15}, le32(s.data(0)),    // lgdt [data]
                             {0x0F, 0x01, 0x05}, le32(s.data(8))}));  // sgdt [data+8]
  s.mem.write(s.data(0), cat({{0x2F, 0x00}, le32(0x000F0400)}));      // limit 47, the oracle's GDT
  s.start.eflags = 0x2 | kFlagIf;
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  step_retired();
  EXPECT_FALSE(oracle_->state().eflags & kFlagIf);
  step_retired();
  EXPECT_EQ(oracle_->state().gpr[EAX], 0x00040031u);  // PE|ET|NE|AM, as the KVM oracle
  step_retired();
  step_retired();
  EXPECT_EQ(oracle_->read_memory(s.data(8), 6), (Bytes{0x2F, 0x00, 0x00, 0x04, 0x0F, 0x00}));
  EXPECT_EQ(oracle_->state().eip, s.start.eip + 1 + 3 + 7 + 7);
}

TEST_F(UnicornOracleTest, Ring3_Cli_GeneralProtection13) {
  Stream s = make_stream(StartMode::UserFlat32, {0xFA});
  s.start.eflags = 0x2 | kFlagIf;
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(oracle_->state(), s.start);  // CPL 3 reached through the IRET, nothing else changed
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 13);
  ArchState a = oracle_->state();
  EXPECT_EQ(a.eip, s.start.eip);
  EXPECT_TRUE(a.eflags & kFlagIf);
}

// The lockstep driver hands ring 3 the native host's selectors (Linux on
// x86_64: CS 0x23, data 0x2B, FS = GS = 0); they name the oracle's own.
// QEMU does not check null selectors (nor limits) on data accesses, so the
// FS-relative load that faults on silicon reads flat memory here.
TEST_F(UnicornOracleTest, Ring3_HostSelectors_AreKeptAsNames_NullFsIsNotChecked) {
  Stream s = make_stream(StartMode::UserFlat32, {});
  s.mem.write(s.code(), cat({{0x90}, {0x64, 0xA1}, le32(s.data(0)), {0x90}}));  // nop ; mov eax, fs:[data] ; nop
  s.mem.write(s.data(0), le32(0x600DF00D));
  s.start.seg[CS] = 0x23;
  s.start.seg[SS] = s.start.seg[DS] = s.start.seg[ES] = 0x2B;
  s.start.seg[FS] = s.start.seg[GS] = 0;
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(oracle_->state(), s.start);
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.seg[CS], 0x23);
  EXPECT_EQ(a.seg[DS], 0x2B);
  step_retired();  // silicon: #GP(0)
  a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 0x600DF00Du);
  EXPECT_EQ(a.seg[FS], 0);
  a.eip -= 6;  // run it again through set_state, with the host's selector names
  oracle_->set_state(a);
  step_retired();
  EXPECT_EQ(oracle_->state().eip, s.code() + 7);
}

TEST_F(UnicornOracleTest, Ring3_StartWithRing0Selectors_IsRefused) {
  Stream s = make_stream(StartMode::UserFlat32, {0x90});
  s.start.seg[CS] = 0x08;
  oracle_ = make_unicorn_oracle();
  auto err = oracle_->reset(s.mode, s.layout, s.mem, s.start);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("ring-3"), std::string::npos) << *err;
  EXPECT_EQ(oracle_->step().kind, StepResult::Kind::Error);
}

TEST_F(UnicornOracleTest, ImageOverlappingThePrivateBlock_IsRefused) {
  Stream s = make_stream(StartMode::Ring0Flat32, {0x90});
  s.mem.map(0x000F0000, 0x1000);
  oracle_ = make_unicorn_oracle();
  auto err = oracle_->reset(s.mode, s.layout, s.mem, s.start);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("private block"), std::string::npos) << *err;
}

// Unicorn translates a whole block first: the NOP must still retire although
// the next instruction runs off the end of the mapped code.
TEST_F(UnicornOracleTest, Ring0_NopBeforeInstructionStraddlingUnmappedPage_Retires) {
  Stream s = make_stream(StartMode::Ring0Flat32, {});
  uint32_t end = s.layout.code_base + s.layout.code_size;
  s.mem.write(end - 2, {0x90, 0xB8});  // nop ; mov eax, imm32 (3 bytes missing)
  s.start.eip = end - 2;
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  step_retired();
  EXPECT_EQ(oracle_->state().eip, end - 1);
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 14);
  EXPECT_EQ(oracle_->state().eip, end - 1);
}

TEST_F(UnicornOracleTest, Ring0_JumpToUnmapped_RetiresThenFaultsThere) {
  Stream s = make_stream(StartMode::Ring0Flat32, {});
  uint32_t target = 0x00900000;
  s.mem.write(s.code(), cat({{0xE9}, le32(target - (s.code() + 5))}));
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  step_retired();
  EXPECT_EQ(oracle_->state().eip, target);
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 14);
  EXPECT_EQ(oracle_->state().eip, target);
}

TEST_F(UnicornOracleTest, Ring0_RepStosbRunningOffTheWindow_KeepsFinishedIterations) {
  Stream s = make_stream(StartMode::Ring0Flat32, {0xF3, 0xAA});  // rep stosb
  uint32_t end = s.layout.data_base + s.layout.data_size;
  s.start.gpr[EAX] = 0xAA;
  s.start.gpr[ECX] = 5;
  s.start.gpr[EDI] = end - 2;
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 14);
  EXPECT_EQ(r.error_code & 2u, 2u);  // a write
  ArchState a = oracle_->state();
  EXPECT_EQ(a.eip, s.start.eip);
  EXPECT_EQ(a.gpr[ECX], 3u);
  EXPECT_EQ(a.gpr[EDI], end);
  EXPECT_EQ(oracle_->read_memory(end - 2, 2), (Bytes{0xAA, 0xAA}));
}

TEST_F(UnicornOracleTest, Ring0_InFromAnyPort_ReadsAllOnes) {
  Stream s = make_stream(StartMode::Ring0Flat32, {0xE4, 0x60});  // in al, 0x60
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  step_retired();
  EXPECT_EQ(oracle_->state().gpr[EAX] & 0xFF, 0xFFu);
}

TEST_F(UnicornOracleTest, Real16_FarJump_LoadsCsAndOffset) {
  Stream s = make_stream(StartMode::Real16, {0xEA, 0x00, 0x01, 0x00, 0x11});  // jmp 0x1100:0x0100
  s.layout.code_size = 0x2000;
  s.mem.map(s.layout.code_base, s.layout.code_size);
  s.mem.write(0x11100, {0x90});
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.seg[CS], 0x1100);
  EXPECT_EQ(a.eip, 0x0100u);
  step_retired();
  EXPECT_EQ(oracle_->state().eip, 0x0101u);
}

// Real mode to protected mode on the oracle's GDT (GDTR already points at it).
TEST_F(UnicornOracleTest, Real16_EnterProtectedModeAndRun32BitCode) {
  Stream s = make_stream(StartMode::Real16, {});
  s.layout.code_base = 0x8000;  // low enough that EIP stays below 0x10000 afterwards
  s.mem = MemoryImage{};
  s.mem.map(s.layout.code_base, s.layout.code_size);
  s.mem.map(s.layout.data_base, s.layout.data_size);
  s.start.seg[CS] = 0x0800;
  s.mem.write(0x8000, cat({{0x0F, 0x20, 0xC0},                 // mov eax, cr0
                           {0x66, 0x83, 0xC8, 0x01},           // or eax, 1
                           {0x0F, 0x22, 0xC0},                 // mov cr0, eax
                           {0x66, 0xEA}, le32(0x8020), {0x08, 0x00}}));  // jmp dword 0x08:0x8020
  s.mem.write(0x8020, cat({{0xB8}, le32(0x12345678)}));  // mov eax, imm32 (32-bit code)
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  step_retired();
  EXPECT_EQ(oracle_->state().gpr[EAX], 0x10u);  // ET only, as the KVM oracle
  step_retired();
  step_retired();
  EXPECT_EQ(oracle_->state().eip, 10u);
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.seg[CS], 0x08);
  EXPECT_EQ(a.eip, 0x8020u);
  step_retired();
  a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 0x12345678u);
  EXPECT_EQ(a.eip, 0x8025u);
}

// A guest store into code that already sits in a translated block: the next
// step must run the new bytes (QEMU's self-modifying-code check).
TEST_F(UnicornOracleTest, Ring0_StoreIntoTheNextInstruction_RunsTheNewBytes) {
  Stream s = make_stream(StartMode::Ring0Flat32, {});
  s.mem.write(s.code(), cat({{0xC6, 0x05}, le32(s.code() + 7), {0x40},  // mov byte [code+7], 0x40 (inc eax)
                             {0x90}}));                                  // the NOP being replaced
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  step_retired();
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 1u);
  EXPECT_EQ(a.eip, s.code() + 8);
}

// Jumps to themselves are one instruction per step, like any other.
TEST_F(UnicornOracleTest, Ring0_JumpAndLoopToThemselves_OneIterationPerStep) {
  Stream s = make_stream(StartMode::Ring0Flat32, {0xE2, 0xFE, 0xEB, 0xFE});  // loop $ ; jmp $
  s.start.gpr[ECX] = 3;
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  for (uint32_t left : {2u, 1u}) {
    step_retired();
    ArchState a = oracle_->state();
    EXPECT_EQ(a.gpr[ECX], left);
    EXPECT_EQ(a.eip, s.code());
  }
  step_retired();  // ECX reaches 0: falls through
  EXPECT_EQ(oracle_->state().eip, s.code() + 2);
  for (int i = 0; i < 2; ++i) {
    step_retired();
    EXPECT_EQ(oracle_->state().eip, s.code() + 2);
  }
}

// TF: the single-step trap comes after the instruction, which stays done.
TEST_F(UnicornOracleTest, Ring0_TrapFlag_Vector1AfterTheInstruction) {
  Stream s = make_stream(StartMode::Ring0Flat32, {0x40, 0x40});  // inc eax ; inc eax
  s.start.eflags = 0x2 | (1u << 8);
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 1);
  ArchState a = oracle_->state();
  EXPECT_EQ(a.gpr[EAX], 1u);
  EXPECT_EQ(a.eip, s.code() + 1);
}

// Encodings that would abort the test process inside Unicorn (note 12 of the
// oracle) come back as the #UD silicon raises, or as an Error.
TEST_P(UnicornModes, EncodingsThatAbortUnicorn_AreUdWithoutRunning) {
  const Bytes cases[] = {
      {0xF0, 0x39, 0x07},        // lock cmp [bx]/[edi], ax/eax
      {0xF0, 0x83, 0x3F, 0x01},  // lock cmp word/dword [..], 1
      {0xF0, 0xA6},              // lock cmpsb
      {0xF0, 0x0F, 0xAB, 0xC0},  // lock bts eax, eax
      {0xF0, 0x0F, 0xBA, 0xE8, 0x01},  // lock bts eax, 1
      {0xFF, 0xD8},              // call far eax
      {0xFF, 0xE8},              // jmp far eax
  };
  for (const Bytes& code : cases) expect_ud_with_nothing_changed(code);
}

// Unicorn translates ahead: stepping the NOP must not translate the LOCK CMP.
TEST_P(UnicornModes, NopBeforeAnEncodingThatAbortsUnicorn_RetiresThenUd) {
  Stream s = stream({0x90, 0x90, 0xF0, 0x39, 0x07, 0x90});  // nop ; nop ; lock cmp [..], eax ; nop
  load(s);
  step_retired();
  step_retired();
  EXPECT_EQ(oracle_->state().eip, s.start.eip + 2);
  StepResult r = oracle_->step();
  ASSERT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 6);
  ArchState a = oracle_->state();
  a.eip += 3;
  oracle_->set_state(a);
  step_retired();
  EXPECT_EQ(oracle_->state().eip, s.start.eip + 6);
}

// QEMU runs most illegal LOCKs (note 14); silicon raises #UD.
TEST_P(UnicornModes, LockOnWhatCannotTakeIt_IsUd_LockAddToMemoryRuns) {
  const Bytes illegal[] = {
      {0xF0, 0x30, 0xC9},  // lock xor cl, cl (QEMU's zeroing idiom skips its check)
      {0xF0, 0x89, 0x07},  // lock mov [..], eax
      {0xF0, 0x90},        // lock nop
      {0xF0, 0x0F, 0xA3, 0x07},  // lock bt [..], eax
  };
  for (const Bytes& code : illegal) expect_ud_with_nothing_changed(code);
  Stream s = stream({0xF0, 0x01, 0x07});  // lock add [bx]/[edi], eax
  s.start.gpr[EDI] = s.real() ? 0x30 : s.data(0x30);
  s.start.gpr[EBX] = s.start.gpr[EDI];
  s.start.gpr[EAX] = 0x01020304;
  load(s);
  step_retired();
  EXPECT_EQ(oracle_->read_memory(s.data(0x30), 2), (Bytes{0x04, 0x03}));
}

// Unicorn gets the flags of LOCK NEG wrong (note 13); the oracle runs it as NEG.
TEST_P(UnicornModes, LockNeg_HasTheFlagsOfNeg) {
  Stream s = stream({});
  s.mem.write(s.code(), cat({{0xF0}, o32(), {0xF7, 0x1F}}));  // lock neg dword [bx]/[edi]
  s.mem.write(s.data(0x20), le32(0x56455B01));
  s.start.gpr[EDI] = s.real() ? 0x20 : s.data(0x20);
  s.start.gpr[EBX] = s.start.gpr[EDI];
  load(s);
  step_retired();
  ArchState a = oracle_->state();
  EXPECT_EQ(oracle_->read_memory(s.data(0x20), 4), le32(0xA9BAA4FF));
  EXPECT_EQ(a.eflags & 0x8D5, kFlagCf | kFlagSf | 0x10u /* AF */ | 0x4u /* PF */);
  EXPECT_EQ(a.eip, s.start.eip + 3 + uint32_t(o32().size()));
  // The instruction bytes are as they were, and run the same way again.
  EXPECT_EQ(oracle_->read_memory(s.code(), 1), Bytes{0xF0});
  a.eip = s.start.eip;
  oracle_->set_state(a);
  step_retired();
  EXPECT_EQ(oracle_->read_memory(s.data(0x20), 4), le32(0x56455B01));
  EXPECT_EQ(oracle_->state().eflags & 0x8D5, kFlagCf | 0x10u);  // SF clear, 0x01 has odd parity
}

TEST_P(UnicornModes, MovToDr7_IsAnErrorAtRing0AndGpAtRing3) {
  Stream s = stream({0x0F, 0x23, 0xF8});  // mov dr7, eax
  s.start.gpr[EAX] = 0x1;                 // L0
  load(s);
  StepResult r = oracle_->step();
  if (GetParam() == StartMode::UserFlat32) {
    ASSERT_EQ(r.kind, StepResult::Kind::Exception);
    EXPECT_EQ(r.vector, 13);
  } else {
    EXPECT_EQ(r.kind, StepResult::Kind::Error);
    EXPECT_NE(r.message.find("DR7"), std::string::npos) << r.message;
  }
}

// Unicorn's 16-bit engine takes a 16-bit IP only (note 5 of the oracle).
TEST_F(UnicornOracleTest, Real16_EipAbove64KiB_IsAnErrorNotAWrongStep) {
  Stream s = make_stream(StartMode::Real16, {0x90});
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  ArchState a = oracle_->state();
  a.eip = 0x10000;
  oracle_->set_state(a);
  StepResult r = oracle_->step();
  EXPECT_EQ(r.kind, StepResult::Kind::Error);
  EXPECT_NE(r.message.find("16 bits"), std::string::npos) << r.message;
}

TEST_F(UnicornOracleTest, Ring3_SetStateWithRing0StackSegment_IsReportedByTheNextStep) {
  Stream s = make_stream(StartMode::UserFlat32, {0x90, 0x90});
  load(s);
  if (IsSkipped() || HasFatalFailure()) return;
  ArchState a = oracle_->state();
  a.seg[SS] = 0x10;
  oracle_->set_state(a);
  StepResult r = oracle_->step();
  EXPECT_EQ(r.kind, StepResult::Kind::Error);
  EXPECT_NE(r.message.find("SS"), std::string::npos) << r.message;
  EXPECT_EQ(oracle_->state().seg[SS], 0x23);
  step_retired();  // the error is reported once
}

TEST_F(UnicornOracleTest, StepBeforeReset_IsAnError) {
  oracle_ = make_unicorn_oracle();
  StepResult r = oracle_->step();
  EXPECT_EQ(r.kind, StepResult::Kind::Error);
  EXPECT_FALSE(r.message.empty());
}

#else  // !VIRTSCOPE_HAVE_UNICORN

TEST(UnicornOracle, NotBuilt) { GTEST_SKIP() << "Unicorn was not found when virtscope was configured."; }

#endif

}  // namespace
}  // namespace vs::conformance
