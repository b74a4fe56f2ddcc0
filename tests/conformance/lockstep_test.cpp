// Tests of the lockstep stream generator (checked against Capstone's decoder),
// the lockstep driver and the divergence minimizer (against toy oracles).
#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "virtscope/conformance/lockstep.h"

namespace vs::conformance {
namespace {

using namespace eflags;

constexpr StartMode kModes[] = {StartMode::UserFlat32, StartMode::Ring0Flat32, StartMode::Real16};

Program make_program(uint64_t seed, StartMode mode, size_t n, GeneratorOptions opt = {}) {
  StreamGenerator g(seed, mode, default_layout(mode), opt);
  return g.generate(n);
}

// --- Capstone as an independent decoder -------------------------------------

class Decoder {
 public:
  explicit Decoder(StartMode mode) {
    ok_ = cs_open(CS_ARCH_X86, mode == StartMode::Real16 ? CS_MODE_16 : CS_MODE_32, &h_) == CS_ERR_OK;
    if (ok_) cs_option(h_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Decoder() {
    if (insn_) cs_free(insn_, 1);
    if (ok_) cs_close(&h_);
  }
  bool ok() const { return ok_; }
  // Decodes exactly one instruction at `eip`; null when Capstone rejects it.
  const cs_insn* decode(const std::vector<uint8_t>& bytes, uint32_t eip) {
    if (insn_) cs_free(insn_, 1);
    insn_ = nullptr;
    if (cs_disasm(h_, bytes.data(), bytes.size(), eip, 1, &insn_) != 1) return nullptr;
    return insn_;
  }

 private:
  csh h_ = 0;
  bool ok_ = false;
  cs_insn* insn_ = nullptr;
};

// Capstone register -> (GPR index, value mask), or -1 for others.
int gpr_of(x86_reg r, uint32_t& mask) {
  static constexpr x86_reg k32[8] = {X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                     X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI};
  static constexpr x86_reg k16[8] = {X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
                                     X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI};
  for (int i = 0; i < 8; ++i) {
    if (r == k32[i]) { mask = 0xFFFFFFFF; return i; }
    if (r == k16[i]) { mask = 0xFFFF; return i; }
  }
  return -1;
}

// Capstone 4.0 rejects the register form of the hint NOP (0F 1F /0 with mod = 11),
// which the SDM lists as "NOP r/m16/32": recognise it (and its length) by hand.
bool register_hint_nop(const std::vector<uint8_t>& b) {
  size_t k = 0;
  while (k < b.size() && b[k] == 0x66) ++k;
  return b.size() == k + 3 && b[k] == 0x0F && b[k + 1] == 0x1F && (b[k + 2] & 0xF8) == 0xC0;
}

TEST(StreamGen, SameSeed_GivesIdenticalPrograms) {
  for (StartMode mode : kModes) {
    Program a = make_program(42, mode, 400), b = make_program(42, mode, 400);
    ASSERT_EQ(a.insns.size(), b.insns.size());
    for (size_t i = 0; i < a.insns.size(); ++i) EXPECT_EQ(a.insns[i].bytes, b.insns[i].bytes) << i;
    EXPECT_EQ(a.start, b.start);
    EXPECT_EQ(a.mem.pages, b.mem.pages);
  }
}

TEST(StreamGen, DifferentSeeds_GiveDifferentPrograms) {
  Program a = make_program(1, StartMode::UserFlat32, 200), b = make_program(2, StartMode::UserFlat32, 200);
  std::vector<uint8_t> ca, cb;
  for (auto& i : a.insns) ca.insert(ca.end(), i.bytes.begin(), i.bytes.end());
  for (auto& i : b.insns) cb.insert(cb.end(), i.bytes.begin(), i.bytes.end());
  EXPECT_NE(ca, cb);
  EXPECT_NE(a.start, b.start);
}

TEST(StreamGen, FixedSeed_GivesTheRecordedFirstWord) {
  // Guards cross-platform determinism: xoshiro256** seeded with splitmix64(0).
  StreamGenerator g(0, StartMode::UserFlat32, Layout{});
  EXPECT_EQ(g.next(), 0x99EC5F36CB75F2B4ull);
}

TEST(StreamGen, InstructionsAreBackToBack_AndLengthsMatchCapstone) {
  GeneratorOptions sys;
  sys.system_class = true;
  for (StartMode mode : kModes) {
    Decoder dec(mode);
    ASSERT_TRUE(dec.ok());
    for (uint64_t seed = 0; seed < 12; ++seed) {
      Program p = make_program(seed, mode, 1500, sys);
      ASSERT_FALSE(p.insns.empty());
      uint32_t addr = p.layout.code_base;
      for (size_t i = 0; i < p.insns.size(); ++i) {
        const GeneratedInsn& insn = p.insns[i];
        ASSERT_EQ(insn.addr, addr) << i;
        addr += uint32_t(insn.bytes.size());
        EXPECT_LE(insn.bytes.size(), 15u) << insn.text;
        const cs_insn* d = dec.decode(insn.bytes, p.eip_of(i));
        if (!d && (insn.may_fault || register_hint_nop(insn.bytes))) continue;  // see register_hint_nop
        ASSERT_NE(d, nullptr) << "seed " << seed << " #" << i << " " << insn.text << " "
                              << ::testing::PrintToString(insn.bytes);
        EXPECT_EQ(d->size, insn.bytes.size()) << insn.text << " decoded as " << d->mnemonic << " " << d->op_str;
        for (size_t k = 0; k < insn.bytes.size(); ++k) EXPECT_EQ(p.mem.read8(insn.addr + uint32_t(k)), insn.bytes[k]);
      }
    }
  }
}

TEST(StreamGen, MemoryOperands_StayInsideTheDataWindow) {
  for (StartMode mode : kModes) {
    Decoder dec(mode);
    for (uint64_t seed = 100; seed < 110; ++seed) {
      Program p = make_program(seed, mode, 1500);
      const uint32_t seg_base = mode == StartMode::Real16 ? p.layout.data_base : 0;
      const uint32_t lo = p.layout.data_base, hi = p.layout.data_base + p.layout.data_size;
      bool known[8] = {};
      uint32_t value[8] = {};
      size_t checked = 0;
      for (size_t i = 0; i < p.insns.size(); ++i) {
        const GeneratedInsn& insn = p.insns[i];
        const cs_insn* d = dec.decode(insn.bytes, p.eip_of(i));
        if (!d) continue;
        // Setup `mov r32, imm32` (B8+r, with 66 in real mode) gives the address registers their values.
        size_t op = mode == StartMode::Real16 ? 1 : 0;
        if (insn.cls == "setup" && insn.bytes.size() == op + 5 && (insn.bytes[op] & 0xF8) == 0xB8) {
          int r = insn.bytes[op] & 7;
          known[r] = true;
          value[r] = uint32_t(insn.bytes[op + 1]) | uint32_t(insn.bytes[op + 2]) << 8 |
                     uint32_t(insn.bytes[op + 3]) << 16 | uint32_t(insn.bytes[op + 4]) << 24;
          continue;
        }
        bool no_access = d->id == X86_INS_LEA || d->id == X86_INS_NOP;
        bool pushf_cleanup = insn.text.find("pushf") != std::string::npos;
        const cs_x86& x = d->detail->x86;
        for (int k = 0; k < x.op_count && !no_access && !pushf_cleanup; ++k) {
          if (x.operands[k].type != X86_OP_MEM) continue;
          const x86_op_mem& m = x.operands[k].mem;
          uint32_t ea = uint32_t(m.disp), span = std::max<uint32_t>(x.operands[k].size, 1);
          uint32_t mask = 0;
          if (m.base != X86_REG_INVALID) {
            int r = gpr_of(m.base, mask);
            ASSERT_GE(r, 0) << insn.text;
            ASSERT_TRUE(known[r]) << "seed " << seed << " #" << i << " " << insn.text << ": base not set up";
            ea += value[r] & mask;
          }
          if (m.index != X86_REG_INVALID) {
            int r = gpr_of(m.index, mask);
            if (r < 0 && d->id == X86_INS_XLATB) span = 256;  // [ebx + al]
            else {
              ASSERT_GE(r, 0) << insn.text;
              ASSERT_TRUE(known[r]) << insn.text << ": index not set up";
              ea += (value[r] & mask) * uint32_t(m.scale);
            }
          }
          if (x.addr_size == 2) ea &= 0xFFFF;
          uint64_t linear = uint64_t(seg_base) + ea;
          EXPECT_GE(linear, lo) << "seed " << seed << " #" << i << " " << insn.text << " " << d->op_str;
          EXPECT_LE(linear + span, hi) << "seed " << seed << " #" << i << " " << insn.text << " " << d->op_str;
          ++checked;
        }
        if (insn.cls != "setup") std::fill(std::begin(known), std::end(known), false);
      }
      EXPECT_GT(checked, 100u);
    }
  }
}

TEST(StreamGen, RelativeBranches_LandOnTheNextInstruction) {
  for (StartMode mode : kModes) {
    Decoder dec(mode);
    Program p = make_program(7, mode, 3000);
    size_t branches = 0;
    for (size_t i = 0; i < p.insns.size(); ++i) {
      const cs_insn* d = dec.decode(p.insns[i].bytes, p.eip_of(i));
      if (!d || p.insns[i].cls != "branch" || d->id == X86_INS_RET) continue;
      const cs_x86& x = d->detail->x86;
      if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM) {
        EXPECT_EQ(uint32_t(x.operands[0].imm), p.eip_of(i + 1)) << p.insns[i].text;
        ++branches;
      }
    }
    EXPECT_GT(branches, 20u);
  }
}

TEST(StreamGen, UserModes_NeverGetPrivilegedOrHostDependentInstructions) {
  const std::set<std::string> banned = {"int",   "int3",  "into", "sysenter", "syscall", "rdtsc", "rdtscp",
                                        "cpuid", "rdpmc", "cli",  "sti",      "in",      "out",   "hlt",
                                        "lgdt",  "lidt",  "sgdt", "sidt",     "invlpg",  "wbinvd", "clts"};
  Decoder dec(StartMode::UserFlat32);
  GeneratorOptions sys;
  sys.system_class = true;  // must be ignored outside Ring0Flat32
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Program p = make_program(seed, StartMode::UserFlat32, 3000, sys);
    for (size_t i = 0; i < p.insns.size(); ++i) {
      const cs_insn* d = dec.decode(p.insns[i].bytes, p.eip_of(i));
      if (!d) continue;
      EXPECT_EQ(banned.count(d->mnemonic), 0u) << d->mnemonic;
      EXPECT_EQ(std::string(d->op_str).find("cr"), std::string::npos) << d->mnemonic << " " << d->op_str;
      EXPECT_NE(p.insns[i].cls, "system");
    }
  }
}

TEST(StreamGen, CoversEveryClass_AndSystemOnlyWhenAsked) {
  Program user = make_program(3, StartMode::UserFlat32, 4000);
  std::set<std::string> classes;
  for (auto& i : user.insns) classes.insert(i.cls);
  for (const char* c : {"alu", "shift", "muldiv", "bit", "cond", "mov", "xchg", "misc", "flags", "string", "stack",
                        "branch", "bcd", "nop", "setup", "fault"})
    EXPECT_EQ(classes.count(c), 1u) << c;
  GeneratorOptions sys;
  sys.system_class = true;
  Program ring0 = make_program(3, StartMode::Ring0Flat32, 4000, sys);
  EXPECT_TRUE(std::any_of(ring0.insns.begin(), ring0.insns.end(), [](auto& i) { return i.cls == "system"; }));
}

TEST(StreamGen, UndefinedFlags_FollowTheSdm) {
  Program p = make_program(11, StartMode::UserFlat32, 6000);
  auto mask_of = [&](const std::string& prefix) -> std::optional<uint32_t> {
    for (auto& i : p.insns)
      if (i.text.rfind(prefix, 0) == 0) return i.undefined_flags_mask;
    return std::nullopt;
  };
  EXPECT_EQ(mask_of("and "), kAF);
  EXPECT_EQ(mask_of("add "), 0u);
  EXPECT_EQ(mask_of("mul "), kSF | kZF | kAF | kPF);
  EXPECT_EQ(mask_of("div "), kArithFlags);
  EXPECT_EQ(mask_of("daa"), kOF);
  EXPECT_EQ(mask_of("aaa"), kOF | kSF | kZF | kPF);
  for (auto& i : p.insns) {
    auto has = [&](const char* t) { return i.text.find(t) != std::string::npos; };
    if (i.text.rfind("shl Ev,1", 0) == 0) {
      EXPECT_EQ(i.undefined_flags_mask, kAF) << i.text;
    }
    if (i.cls == "shift" && i.text.size() > 8 && i.text.compare(i.text.size() - 8, 8, " count=0") == 0) {
      EXPECT_EQ(i.undefined_flags_mask, 0u) << i.text;
    }
    if (i.text.rfind("rcl", 0) == 0 && has("count=5")) {
      EXPECT_EQ(i.undefined_flags_mask, kOF) << i.text;
    }
  }
}

TEST(StreamGen, UnusableLayout_GivesAnErrorAndNoProgram) {
  Layout bad;  // the 32-bit defaults sit above 1 MiB
  StreamGenerator g(1, StartMode::Real16, bad);
  EXPECT_FALSE(g.error().empty());
  EXPECT_TRUE(g.generate(10).insns.empty());
}

// --- A toy oracle: nop, mov r32/imm, inc r32 (with 66), mov moffs32,eAX, else #UD ---

class ToyOracle : public Oracle {
 public:
  enum class Bug { None, IncAddsTwo, IncAddsTwoWhenO16, StoreOffByOne };
  ToyOracle(std::string name, Bug bug = Bug::None) : name_(std::move(name)), bug_(bug) {}
  std::string name() const override { return name_; }
  bool available(StartMode mode, std::string* why) override {
    if (mode == StartMode::UserFlat32) return true;
    if (why) *why = "the toy runs flat 32-bit code only";
    return false;
  }
  std::optional<std::string> reset(StartMode, const Layout&, const MemoryImage& mem, const ArchState& start) override {
    mem_ = mem;
    s_ = start;
    return std::nullopt;
  }
  StepResult step() override {
    uint32_t at = s_.eip;
    bool o16 = false;
    for (;; ++at) {
      uint8_t b = mem_.read8(at);
      if (b == 0x66) o16 = true;
      else if (b != 0x26 && b != 0x2E && b != 0x36 && b != 0x3E) break;
    }
    uint8_t op = mem_.read8(at++);
    auto imm = [&](int n) {
      uint32_t v = 0;
      for (int k = 0; k < n; ++k) v |= uint32_t(mem_.read8(at++)) << (8 * k);
      return v;
    };
    uint32_t keep = o16 ? 0xFFFF0000 : 0;
    if (op == 0x90) {
    } else if (op >= 0xB8 && op <= 0xBF) {
      uint32_t& r = s_.gpr[op - 0xB8];
      r = (r & keep) | imm(o16 ? 2 : 4);
    } else if (op >= 0x40 && op <= 0x47) {
      uint32_t& r = s_.gpr[op - 0x40];
      uint32_t add = (bug_ == Bug::IncAddsTwo || (bug_ == Bug::IncAddsTwoWhenO16 && o16)) ? 2 : 1;
      r = (r & keep) | ((r + add) & ~keep);
    } else if (op == 0xA3) {
      uint32_t addr = imm(4), v = s_.gpr[EAX] + (bug_ == Bug::StoreOffByOne ? 1 : 0);
      for (int k = 0; k < (o16 ? 2 : 4); ++k) {
        uint8_t byte = uint8_t(v >> (8 * k));
        mem_.write(addr + uint32_t(k), &byte, 1);
      }
    } else {
      return {StepResult::Kind::Exception, 6, 0, ""};
    }
    s_.eip = at;
    return {};
  }
  ArchState state() override { return s_; }
  void set_state(const ArchState& s) override { s_ = s; }
  std::vector<uint8_t> read_memory(uint32_t addr, uint32_t len) override {
    std::vector<uint8_t> out(len);
    for (uint32_t k = 0; k < len;) {  // page by page: the campaign reads 64 KiB often
      uint32_t a = addr + k, off = a % MemoryImage::kPageSize, n = std::min(len - k, MemoryImage::kPageSize - off);
      auto page = mem_.pages.find(a - off);
      if (page != mem_.pages.end()) std::copy_n(page->second.begin() + off, n, out.begin() + k);
      k += n;
    }
    return out;
  }

 private:
  std::string name_;
  Bug bug_;
  MemoryImage mem_;
  ArchState s_;
};

// A hand-written program for the toy: each entry is one instruction's bytes.
Program toy_program(const std::vector<std::vector<uint8_t>>& code) {
  Program p;
  p.mode = StartMode::UserFlat32;
  p.start.eip = p.layout.code_base;
  p.start.gpr[ESP] = p.layout.stack_top;
  p.mem.map(p.layout.data_base, p.layout.data_size);
  uint32_t addr = p.layout.code_base;
  for (const auto& bytes : code) {
    GeneratedInsn insn;
    insn.addr = addr;
    insn.bytes = bytes;
    insn.text = "toy";
    insn.cls = bytes == std::vector<uint8_t>{0x0F, 0x0B} ? "fault" : "toy";
    insn.may_fault = insn.cls == "fault";
    p.mem.write(addr, bytes);
    addr += uint32_t(bytes.size());
    p.insns.push_back(insn);
  }
  return p;
}

const std::vector<std::vector<uint8_t>> kToyCode = {
    {0x90}, {0xB8, 5, 0, 0, 0}, {0x40}, {0x90}, {0x0F, 0x0B}, {0x41}, {0x90},
};

TEST(Lockstep, IdenticalOracles_ReportNoDivergence) {
  ToyOracle a("toy-a"), b("toy-b");
  LockstepReport r = run_lockstep(a, b, toy_program(kToyCode));
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.executed, kToyCode.size());
  EXPECT_TRUE(r.divergences.empty());
  EXPECT_EQ(r.class_counts["fault"], 1u);  // ud2 faulted on both sides and was skipped
  EXPECT_EQ(r.class_counts["toy"], kToyCode.size() - 1);
}

TEST(Lockstep, BrokenInc_DivergesAtTheIncWithOnlyEax) {
  ToyOracle a("ref"), b("broken", ToyOracle::Bug::IncAddsTwo);
  LockstepReport r = run_lockstep(a, b, toy_program(kToyCode));
  ASSERT_EQ(r.divergences.size(), 1u);
  const Divergence& d = r.divergences[0];
  EXPECT_EQ(d.index, 2u);
  EXPECT_EQ(d.fields, std::vector<std::string>{"EAX"});
  EXPECT_EQ(d.before.gpr[EAX], 5u);
  EXPECT_EQ(d.reference_after.gpr[EAX], 6u);
  EXPECT_EQ(d.subject_after.gpr[EAX], 7u);
  EXPECT_EQ(r.executed, 3u);  // stopped at the first divergence
}

TEST(Lockstep, CountAll_ResyncsAndFindsEveryDivergence) {
  ToyOracle a("ref"), b("broken", ToyOracle::Bug::IncAddsTwo);
  LockstepOptions o;
  o.stop_at_first = false;
  LockstepReport r = run_lockstep(a, b, toy_program(kToyCode), o);
  ASSERT_EQ(r.divergences.size(), 2u);
  EXPECT_EQ(r.divergences[0].index, 2u);
  EXPECT_EQ(r.divergences[1].index, 5u);
  EXPECT_EQ(r.divergences[1].fields, std::vector<std::string>{"ECX"});
  EXPECT_EQ(r.executed, kToyCode.size());
}

TEST(Lockstep, UndefinedGprBits_AreNotCompared_AndDoNotLeakIntoLaterSteps) {
  ToyOracle a("ref"), b("broken", ToyOracle::Bug::IncAddsTwo);
  Program p = toy_program(kToyCode);
  p.insns[2].undefined_gpr = EAX;  // inc eax: 6 vs 7, but declared undefined
  p.insns[2].undefined_gpr_bits = 0xFFFFFFFF;
  p.insns[5].undefined_gpr = ECX;  // inc ecx: only the low byte is declared undefined
  p.insns[5].undefined_gpr_bits = 0xFF;
  LockstepReport r = run_lockstep(a, b, p);
  EXPECT_TRUE(r.divergences.empty());  // the subject took the reference's EAX before #3
  EXPECT_EQ(b.state().gpr[EAX], 6u);
  EXPECT_EQ(r.executed, kToyCode.size());
}

TEST(Lockstep, BrokenStore_IsFoundAtTheEnd_AndPinnedByTheMinimizer) {
  ToyOracle a("ref"), b("broken", ToyOracle::Bug::StoreOffByOne);
  Layout l;
  std::vector<uint8_t> store = {0xA3};
  for (int k = 0; k < 4; ++k) store.push_back(uint8_t((l.data_base + 0x10) >> (8 * k)));
  Program p = toy_program({{0xB8, 0x44, 0x33, 0x22, 0x11}, store, {0x90}, {0x90}, {0x90}});
  LockstepOptions o;
  o.memory_check_every = 0;  // end only
  LockstepReport r = run_lockstep(a, b, p, o);
  ASSERT_EQ(r.divergences.size(), 1u);
  const Divergence& d = r.divergences[0];
  EXPECT_EQ(d.index, 4u);
  EXPECT_EQ(d.fields, std::vector<std::string>{"memory"});
  EXPECT_EQ(d.memory_checked_from, 0u);
  ASSERT_FALSE(d.memory.empty());
  EXPECT_EQ(d.memory[0].addr, l.data_base + 0x10);
  EXPECT_EQ(d.memory[0].reference, 0x44);
  EXPECT_EQ(d.memory[0].subject, 0x45);

  Divergence m = minimize_divergence(a, b, p, d, o);
  EXPECT_EQ(m.index, 1u);
  EXPECT_TRUE(m.reproduced_alone);
  EXPECT_EQ(m.insn.bytes, store);
}

TEST(Minimizer, DropsPrefixesTheBugDoesNotNeed) {
  ToyOracle a("ref"), b("broken", ToyOracle::Bug::IncAddsTwo);
  Program p = toy_program({{0x90}, {0xB8, 7, 0, 0, 0}, {0x3E, 0x66, 0x40}, {0x90}});
  LockstepReport r = run_lockstep(a, b, p);
  ASSERT_EQ(r.divergences.size(), 1u);
  EXPECT_EQ(r.divergences[0].index, 2u);
  Divergence m = minimize_divergence(a, b, p, r.divergences[0]);
  EXPECT_TRUE(m.minimized);
  EXPECT_TRUE(m.reproduced_alone);
  EXPECT_EQ(m.insn.bytes, std::vector<uint8_t>{0x40});
  EXPECT_EQ(m.original_bytes, (std::vector<uint8_t>{0x3E, 0x66, 0x40}));
  EXPECT_EQ(m.before.gpr[EAX], 7u);
  std::string text = format_divergence(m);
  EXPECT_NE(text.find("bytes:   40"), std::string::npos) << text;
  EXPECT_NE(text.find("minimized from 3e 66 40"), std::string::npos) << text;
  EXPECT_NE(text.find("EAX"), std::string::npos) << text;
}

TEST(Minimizer, KeepsAPrefixTheBugNeeds) {
  ToyOracle a("ref"), b("broken", ToyOracle::Bug::IncAddsTwoWhenO16);
  Program p = toy_program({{0xB8, 7, 0, 0, 0}, {0x3E, 0x66, 0x40}});
  LockstepReport r = run_lockstep(a, b, p);
  ASSERT_EQ(r.divergences.size(), 1u);
  Divergence m = minimize_divergence(a, b, p, r.divergences[0]);
  EXPECT_TRUE(m.reproduced_alone);
  EXPECT_EQ(m.insn.bytes, (std::vector<uint8_t>{0x66, 0x40}));
}

TEST(Campaign, IdenticalToys_CountInstructionsAndNoDivergence) {
  ToyOracle a("toy-a"), b("toy-b");
  LockstepSummary s = run_campaign(a, b, StartMode::UserFlat32, 5, 3000, 250);
  EXPECT_TRUE(s.error.empty()) << s.error;
  EXPECT_GE(s.instructions, 3000u);
  EXPECT_EQ(s.divergences, 0u);
  EXPECT_GT(s.class_counts["setup"], 0u);
  EXPECT_EQ(format_summary(s), "lockstep toy-b: " + std::to_string(s.instructions) + " instructions, 0 divergences");
}

TEST(Campaign, BrokenToy_YieldsMinimizedReproducers) {
  ToyOracle a("toy-a"), b("broken", ToyOracle::Bug::IncAddsTwo);
  LockstepSummary s = run_campaign(a, b, StartMode::UserFlat32, 5, 3000, 250);
  EXPECT_GT(s.divergences, 0u);
  ASSERT_FALSE(s.minimized.empty());
  for (const Divergence& d : s.minimized) {
    EXPECT_TRUE(d.reproduced_alone) << format_divergence(d);
    EXPECT_EQ(d.insn.bytes.size(), 1u) << format_divergence(d);  // a bare 40+r
  }
}

TEST(Campaign, UnavailableOracle_IsAnErrorNotACrash) {
  ToyOracle a("toy-a"), b("toy-b");
  LockstepSummary s = run_campaign(a, b, StartMode::Real16, 1, 100, 50);
  EXPECT_NE(s.error.find("unavailable"), std::string::npos);
  EXPECT_EQ(s.instructions, 0u);
}

}  // namespace
}  // namespace vs::conformance
