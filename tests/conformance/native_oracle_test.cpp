// Tests of the native oracle (conformance/src/native_oracle.cpp): single IA-32
// instructions run on the host CPU under ptrace; vectors per Intel SDM Vol. 3A §6.15.
#include "virtscope/conformance/native_oracle.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vs::conformance {
namespace {

constexpr uint32_t kCF = 1u << 0, kZF = 1u << 6, kSF = 1u << 7, kTF = 1u << 8, kOF = 1u << 11;
constexpr uint32_t kAC = 1u << 18, kID = 1u << 21;

// The harness processes this thread started (proc(5): /proc/PID/task/TID/children).
std::optional<std::vector<pid_t>> harness_children() {
  std::ifstream in("/proc/self/task/" + std::to_string(gettid()) + "/children");
  if (!in) return std::nullopt;
  std::vector<pid_t> found;
  for (pid_t pid; in >> pid;) {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
    if (!ec && exe.filename() == "virtscope-harness32") found.push_back(pid);
  }
  return found;
}

class NativeOracle : public ::testing::Test {
 protected:
  void SetUp() override {
    oracle_ = make_native_oracle();
    std::string why;
    if (!oracle_->available(StartMode::UserFlat32, &why)) GTEST_SKIP() << why;
  }

  // The start state every test begins from: EIP at the code window, ESP at the stack top.
  ArchState start_state() const {
    ArchState s;
    s.eip = layout_.code_base;
    s.gpr[ESP] = layout_.stack_top;
    return s;
  }

  // Puts `code` at the start of the code window and loads `start`.
  void load(const std::vector<uint8_t>& code, const ArchState& start, MemoryImage mem = {}) {
    mem.write(layout_.code_base, code);
    auto err = oracle_->reset(StartMode::UserFlat32, layout_, mem, start);
    ASSERT_FALSE(err.has_value()) << *err;
  }

  StepResult step_expecting(StepResult::Kind kind) {
    StepResult r = oracle_->step();
    EXPECT_EQ(r.kind, kind) << "vector " << r.vector << ": " << r.message;
    return r;
  }

  Layout layout_;
  std::unique_ptr<Oracle> oracle_;
};

TEST(NativeOracleModes, NonUserModes_AreUnavailableWithAReason) {
  auto oracle = make_native_oracle();
  std::string why;
  EXPECT_FALSE(oracle->available(StartMode::Ring0Flat32, &why));
  EXPECT_FALSE(why.empty());
  why.clear();
  EXPECT_FALSE(oracle->available(StartMode::Real16, &why));
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(oracle->reset(StartMode::Real16, Layout{}, MemoryImage{}, ArchState{}).has_value());
}

TEST(NativeOracleHarness, MissingHarness_IsUnavailableWithThePath) {
  const char* old = std::getenv("VIRTSCOPE_HARNESS32");
  std::string saved = old ? old : "";
  setenv("VIRTSCOPE_HARNESS32", "/nonexistent/virtscope-harness32", 1);
  auto oracle = make_native_oracle();
  std::string why;
  bool ok = oracle->available(StartMode::UserFlat32, &why);
  if (old)
    setenv("VIRTSCOPE_HARNESS32", saved.c_str(), 1);
  else
    unsetenv("VIRTSCOPE_HARNESS32");
  EXPECT_FALSE(ok);
  EXPECT_NE(why.find("/nonexistent/virtscope-harness32"), std::string::npos) << why;
}

TEST_F(NativeOracle, MovImmediate_SetsEaxAndEip) {
  load({0xB8, 0x78, 0x56, 0x34, 0x12}, start_state());  // mov eax, 0x12345678
  step_expecting(StepResult::Kind::Retired);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.gpr[EAX], 0x12345678u);
  EXPECT_EQ(s.eip, layout_.code_base + 5);
  EXPECT_EQ(s.gpr[ESP], layout_.stack_top);
}

TEST_F(NativeOracle, AddCarryOut_SetsCfAndZfNotOf) {
  ArchState start = start_state();
  start.gpr[EAX] = 0xFFFFFFFF;
  start.gpr[EBX] = 1;
  load({0x01, 0xD8}, start);  // add eax, ebx
  step_expecting(StepResult::Kind::Retired);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.gpr[EAX], 0u);
  EXPECT_EQ(s.eflags & (kCF | kZF | kSF | kOF), kCF | kZF);
}

TEST_F(NativeOracle, AddSignedOverflow_SetsOfAndSfNotCf) {
  ArchState start = start_state();
  start.gpr[EAX] = 0x7FFFFFFF;
  start.gpr[EBX] = 1;
  start.eflags = 0x2 | kCF;  // CF in, to see the ADD clear it
  load({0x01, 0xD8}, start);
  EXPECT_EQ(oracle_->state().eflags & kCF, kCF);
  step_expecting(StepResult::Kind::Retired);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.gpr[EAX], 0x80000000u);
  EXPECT_EQ(s.eflags & (kCF | kZF | kSF | kOF), kSF | kOF);
}

TEST_F(NativeOracle, DivideByZero_IsVector0AtTheDiv) {
  ArchState start = start_state();
  start.gpr[EAX] = 10;
  start.gpr[ECX] = 0;
  load({0xF7, 0xF1, 0x90}, start);  // div ecx; nop
  StepResult r = step_expecting(StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 0);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.eip, layout_.code_base);
  // The tracee survives: skip the DIV and go on.
  s.eip += 2;
  oracle_->set_state(s);
  step_expecting(StepResult::Kind::Retired);
  EXPECT_EQ(oracle_->state().eip, layout_.code_base + 3);
}

TEST_F(NativeOracle, StoreToDataWindow_IsReadBack) {
  ArchState start = start_state();
  start.gpr[EAX] = 0xDEADBEEF;
  start.gpr[EBX] = layout_.data_base + 0x100;
  load({0x89, 0x03}, start);  // mov [ebx], eax
  step_expecting(StepResult::Kind::Retired);
  EXPECT_EQ(oracle_->read_memory(layout_.data_base + 0xFE, 8),
            (std::vector<uint8_t>{0, 0, 0xEF, 0xBE, 0xAD, 0xDE, 0, 0}));
}

TEST_F(NativeOracle, LoadFromUnmappedAddress_IsVector14) {
  ArchState start = start_state();
  start.gpr[EBX] = 0x00700010;
  load({0x8B, 0x03}, start);  // mov eax, [ebx]
  StepResult r = step_expecting(StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 14);
  EXPECT_NE(r.message.find("0x700010"), std::string::npos) << r.message;
  EXPECT_EQ(oracle_->state().eip, layout_.code_base);
}

TEST_F(NativeOracle, Ud2_IsVector6) {
  load({0x0F, 0x0B}, start_state());
  EXPECT_EQ(step_expecting(StepResult::Kind::Exception).vector, 6);
  EXPECT_EQ(oracle_->state().eip, layout_.code_base);
}

TEST_F(NativeOracle, Int3_IsVector3AfterTheInstruction) {
  load({0xCC}, start_state());
  EXPECT_EQ(step_expecting(StepResult::Kind::Exception).vector, 3);
  EXPECT_EQ(oracle_->state().eip, layout_.code_base + 1);  // #BP is a trap
}

TEST_F(NativeOracle, IntoWithOverflow_IsVector4) {
  ArchState start = start_state();
  start.eflags = 0x2 | kOF;
  load({0xCE}, start);  // into
  EXPECT_EQ(step_expecting(StepResult::Kind::Exception).vector, 4);
}

TEST_F(NativeOracle, Hlt_IsVector13) {
  load({0xF4}, start_state());  // privileged at CPL 3
  EXPECT_EQ(step_expecting(StepResult::Kind::Exception).vector, 13);
  EXPECT_EQ(oracle_->state().eip, layout_.code_base);
}

TEST_F(NativeOracle, SystemCallInstructions_AreRefused) {
  for (std::vector<uint8_t> code :
       {std::vector<uint8_t>{0xCD, 0x80}, {0x0F, 0x34}, {0x0F, 0x05}, {0x66, 0xCD, 0x80}}) {
    ArchState start = start_state();
    start.gpr[EAX] = 1;  // exit, were it to run
    load(code, start);
    StepResult r = step_expecting(StepResult::Kind::Error);
    EXPECT_FALSE(r.message.empty());
    EXPECT_EQ(oracle_->state().eip, layout_.code_base);
  }
  // The tracee is still usable.
  load({0x90}, start_state());
  step_expecting(StepResult::Kind::Retired);
}

TEST_F(NativeOracle, ResetTwice_StartsFromCleanMemory) {
  ArchState start = start_state();
  start.gpr[EAX] = 0x11223344;
  start.gpr[EBX] = layout_.data_base;
  load({0x89, 0x03}, start);  // mov [ebx], eax
  step_expecting(StepResult::Kind::Retired);
  EXPECT_EQ(oracle_->read_memory(layout_.data_base, 4), (std::vector<uint8_t>{0x44, 0x33, 0x22, 0x11}));
  load({0x8B, 0x0B}, start);  // mov ecx, [ebx]
  load({0x8B, 0x0B}, start);
  step_expecting(StepResult::Kind::Retired);
  EXPECT_EQ(oracle_->state().gpr[ECX], 0u);
  EXPECT_EQ(oracle_->read_memory(layout_.data_base, 4), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST_F(NativeOracle, ImagePageOutsideWindows_IsMappedAndLoaded) {
  MemoryImage mem;
  mem.write(0x00800010, {0x5A, 0xA5});
  ArchState start = start_state();
  start.gpr[ESI] = 0x00800010;
  load({0x66, 0x8B, 0x06}, start, mem);  // mov ax, [esi]
  step_expecting(StepResult::Kind::Retired);
  EXPECT_EQ(oracle_->state().gpr[EAX] & 0xFFFF, 0xA55Au);
}

TEST_F(NativeOracle, RepStos_IsOneStep) {
  ArchState start = start_state();
  start.gpr[EAX] = 0xAB;
  start.gpr[ECX] = 5;
  start.gpr[EDI] = layout_.data_base;
  load({0xF3, 0xAA, 0x90}, start);  // rep stosb; nop
  step_expecting(StepResult::Kind::Retired);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.eip, layout_.code_base + 2);
  EXPECT_EQ(s.gpr[ECX], 0u);
  EXPECT_EQ(s.gpr[EDI], layout_.data_base + 5);
  EXPECT_EQ(oracle_->read_memory(layout_.data_base, 6),
            (std::vector<uint8_t>{0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0}));
}

TEST_F(NativeOracle, LongRepMovs_IsOneStep) {
  ArchState start = start_state();
  start.gpr[ECX] = 0x2000;  // dwords: the first half of the data window onto the second
  start.gpr[ESI] = layout_.data_base;
  start.gpr[EDI] = layout_.data_base + 0x8000;
  MemoryImage mem;
  mem.write(layout_.data_base + 0x7FFC, {1, 2, 3, 4});
  load({0xF3, 0xA5}, start, mem);  // rep movsd
  step_expecting(StepResult::Kind::Retired);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.eip, layout_.code_base + 2);
  EXPECT_EQ(s.gpr[ECX], 0u);
  EXPECT_EQ(s.gpr[EDI], layout_.data_base + 0x10000);
  EXPECT_EQ(oracle_->read_memory(layout_.data_base + 0xFFFC, 4), (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST_F(NativeOracle, RepStosPastTheWindow_FaultsMidwayWithCountLeft) {
  ArchState start = start_state();
  start.gpr[ECX] = 0x20;
  start.gpr[EDI] = layout_.data_base + layout_.data_size - 0x10;
  load({0xF3, 0xAA}, start);  // rep stosb
  StepResult r = step_expecting(StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 14);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.eip, layout_.code_base);  // restartable: EIP stays on the REP
  EXPECT_EQ(s.gpr[ECX], 0x10u);
  EXPECT_EQ(s.gpr[EDI], layout_.data_base + layout_.data_size);
}

TEST_F(NativeOracle, MovSs_IsRefused) {
  for (std::vector<uint8_t> code : {std::vector<uint8_t>{0x8E, 0xD0}, {0x17}}) {  // mov ss, eax; pop ss
    load(code, start_state());
    step_expecting(StepResult::Kind::Error);
    EXPECT_EQ(oracle_->state().eip, layout_.code_base);
  }
  load({0x8E, 0xD8}, start_state());  // mov ds, eax (EAX = 0: a null selector) is fine
  step_expecting(StepResult::Kind::Retired);
}

TEST_F(NativeOracle, IntImmediateWithoutGate_IsVector13) {
  load({0xCD, 0x21}, start_state());  // int 0x21: the IDT gate's DPL is 0
  EXPECT_EQ(step_expecting(StepResult::Kind::Exception).vector, 13);
  EXPECT_EQ(oracle_->state().eip, layout_.code_base);
}

TEST_F(NativeOracle, MisalignedLoadWithAc_IsVector17) {
  ArchState start = start_state();
  start.eflags = 0x2 | kAC;
  start.gpr[EBX] = layout_.data_base + 1;
  load({0x8B, 0x03}, start);  // mov eax, [ebx]
  StepResult r = oracle_->step();
  if (r.kind == StepResult::Kind::Retired)
    GTEST_SKIP() << "this host does not enable alignment checking (CR0.AM)";
  EXPECT_EQ(r.kind, StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 17) << r.message;
}

TEST_F(NativeOracle, Int1_IsVector1) {
  load({0xF1}, start_state());
  StepResult r = step_expecting(StepResult::Kind::Exception);
  EXPECT_EQ(r.vector, 1) << r.message;
}

TEST_F(NativeOracle, Pushf_DoesNotLeakTheTracersTrapFlag) {
  load({0x9C}, start_state());  // pushfd
  step_expecting(StepResult::Kind::Retired);
  auto pushed = oracle_->read_memory(layout_.stack_top - 4, 4);
  uint32_t image = pushed[0] | pushed[1] << 8 | pushed[2] << 16 | uint32_t(pushed[3]) << 24;
  EXPECT_EQ(image & kTF, 0u);
  EXPECT_EQ(image & 0x2, 0x2u);
  EXPECT_EQ(oracle_->state().gpr[ESP], layout_.stack_top - 4);
}

TEST_F(NativeOracle, EflagsIdAndAc_CanBeSetAndCleared) {
  ArchState start = start_state();
  start.eflags = 0x2 | kID | kAC;
  load({0x90, 0x90}, start);
  EXPECT_EQ(oracle_->state().eflags & (kID | kAC), kID | kAC);
  step_expecting(StepResult::Kind::Retired);
  ArchState s = oracle_->state();
  EXPECT_EQ(s.eflags & (kID | kAC), kID | kAC);
  s.eflags &= ~(kID | kAC);
  oracle_->set_state(s);
  EXPECT_EQ(oracle_->state().eflags & (kID | kAC), 0u);
}

TEST_F(NativeOracle, EflagsId_DoesNotSurviveAReset) {
  ArchState start = start_state();
  start.eflags = 0x2 | kID;
  load({0x90}, start);
  EXPECT_EQ(oracle_->state().eflags & kID, kID);
  load({0x9C}, start_state());  // pushfd
  EXPECT_EQ(oracle_->state().eflags & kID, 0u);
  step_expecting(StepResult::Kind::Retired);
  EXPECT_EQ(oracle_->read_memory(layout_.stack_top - 2, 1)[0] & (kID >> 16), 0u);
}

TEST_F(NativeOracle, StepWithoutReset_IsAnError) {
  EXPECT_EQ(oracle_->step().kind, StepResult::Kind::Error);
  Layout bad = layout_;
  bad.code_base = 0xE0000000;
  EXPECT_TRUE(oracle_->reset(StartMode::UserFlat32, bad, MemoryImage{}, start_state()).has_value());
  StepResult r = step_expecting(StepResult::Kind::Error);
  EXPECT_NE(r.message.find("reset"), std::string::npos) << r.message;
}

TEST_F(NativeOracle, LayoutOverlappingTheHarness_IsAnError) {
  Layout bad = layout_;
  bad.code_base = 0xE0000000;
  auto err = oracle_->reset(StartMode::UserFlat32, bad, MemoryImage{}, start_state());
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("0xe0000000"), std::string::npos) << *err;
  // A good layout works again afterwards.
  load({0x90}, start_state());
  step_expecting(StepResult::Kind::Retired);
}

TEST_F(NativeOracle, TraceeKilledFromOutside_IsAnErrorAndResetRecovers) {
  load({0x90, 0x90}, start_state());
  auto kids = harness_children();
  if (!kids || kids->size() != 1)
    GTEST_SKIP() << "cannot find the tracee through /proc/self/task/TID/children";
  ASSERT_EQ(kill(kids->front(), SIGKILL), 0);
  StepResult r = step_expecting(StepResult::Kind::Error);
  EXPECT_NE(r.message.find("killed by signal 9"), std::string::npos) << r.message;
  step_expecting(StepResult::Kind::Error);  // still an error, no hang
  load({0x90, 0x90}, start_state());
  step_expecting(StepResult::Kind::Retired);
}

TEST_F(NativeOracle, DestroyingTheOracle_EndsAndReapsTheTracee) {
  load({0x90}, start_state());
  auto kids = harness_children();
  if (!kids || kids->size() != 1)
    GTEST_SKIP() << "cannot find the tracee through /proc/self/task/TID/children";
  oracle_.reset();
  EXPECT_EQ(kill(kids->front(), 0), -1);  // not even a zombie left
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(NativeOracle, StepsPerSecond_IsReported) {
  constexpr int kSteps = 10000;
  load(std::vector<uint8_t>(kSteps, 0x90), start_state());
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kSteps; ++i) {
    StepResult r = oracle_->step();
    ASSERT_EQ(r.kind, StepResult::Kind::Retired) << r.message;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(oracle_->state().eip, layout_.code_base + kSteps);
  std::printf("native oracle: %d nop steps in %.3f s = %.0f steps/s\n", kSteps, seconds, kSteps / seconds);
}

}  // namespace
}  // namespace vs::conformance
