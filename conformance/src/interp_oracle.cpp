// The interpreter as a lockstep oracle (see interp_oracle.h). Memory is a
// sparse set of 4 KiB pages from the MemoryImage plus the private block.
#include "virtscope/conformance/interp_oracle.h"
#include "virtscope/conformance/system_layout.h"

#include <cstring>

#include "virtscope/cpu/cpu.h"
#include "virtscope/trace/event.h"

namespace vs::conformance {

namespace {

using namespace system_layout;  // the tables shared with the KVM and Unicorn oracles
constexpr uint32_t kGdtBase = kPrivateBase + kGdtOff, kTssBase = kPrivateBase + kTssOff;

class SparseMemory final : public cpu::MemoryBus {
 public:
  uint8_t* map_page(uint32_t phys, bool) override {
    auto it = pages_.find(phys & ~0xFFFu);
    return it == pages_.end() ? nullptr : it->second.data();
  }
  uint32_t read(uint32_t, unsigned size) override { return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }
  void write(uint32_t, unsigned, uint32_t) override {}
  void map(uint32_t page) {
    auto& p = pages_[page & ~0xFFFu];
    if (p.empty()) p.assign(4096, 0);
  }
  void clear() { pages_.clear(); }

 private:
  std::map<uint32_t, std::vector<uint8_t>> pages_;
};

class AllOnesIo final : public cpu::IoBus {
 public:
  uint32_t in(uint16_t, unsigned size) override { return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }
  void out(uint16_t, unsigned, uint32_t) override {}
};

// Stop before any exception or software interrupt is delivered.
class ReportHook final : public cpu::CpuHooks {
 public:
  cpu::HookAction on_exception(uint8_t v, bool has_error, uint32_t e) override {
    vector = v;
    error = has_error ? e : 0;
    return cpu::HookAction::Stop;
  }
  cpu::HookAction on_interrupt(uint8_t v) override {
    vector = v;
    error = 0;
    return cpu::HookAction::Stop;
  }
  int vector = -1;
  uint32_t error = 0;
};

uint64_t flat_descriptor(unsigned dpl, bool code) {
  return 0x00CF00000000FFFFull | uint64_t(0x92 | (code ? 0x08 : 0) | dpl << 5 | 1) << 40;
}

class InterpOracle final : public Oracle {
 public:
  InterpOracle() : cpu_(mem_, io_, log_) { cpu_.set_hooks(&hook_); }
  std::string name() const override { return "interp"; }
  bool available(StartMode, std::string*) override { return true; }

  std::optional<std::string> reset(StartMode mode, const Layout& layout, const MemoryImage& image,
                                   const ArchState& start) override {
    mode_ = mode;
    mem_.clear();
    for (uint32_t p = kPrivateBase; p < kPrivateBase + kPrivateSize; p += 4096) mem_.map(p);
    for (uint64_t p = layout.code_base & ~0xFFFu; p < uint64_t(layout.code_base) + layout.code_size; p += 4096) mem_.map(uint32_t(p));
    for (uint64_t p = layout.data_base & ~0xFFFu; p < uint64_t(layout.data_base) + layout.data_size; p += 4096) mem_.map(uint32_t(p));
    for (const auto& [base, bytes] : image.pages) {
      mem_.map(base);
      std::memcpy(mem_.host_page(base, true), bytes.data(), 4096);
    }
    // GDT and TSS as the other system oracles lay them out.
    const uint64_t gdt[6] = {0, flat_descriptor(0, true), flat_descriptor(0, false), flat_descriptor(3, true),
                             flat_descriptor(3, false),
                             0x0000000000000067ull | uint64_t(kTssBase & 0xFFFFFF) << 16 | 0x8Bull << 40 |
                                 uint64_t(kTssBase >> 24) << 56};
    std::memcpy(mem_.host_page(kGdtBase, true) + (kGdtBase & 0xFFF), gdt, sizeof gdt);
    uint8_t* tss = mem_.host_page(kTssBase, true) + (kTssBase & 0xFFF);
    const uint32_t esp0 = kRing0StackTop, ss0 = kSelData0;
    std::memcpy(tss + 4, &esp0, 4);
    std::memcpy(tss + 8, &ss0, 4);

    cpu::CpuState s{};
    s.gdtr = {kGdtBase, kGdtLimit};
    if (mode == StartMode::Real16) {
      s.cr0 = cpu::cr0::ET;
      s.idtr = {kPrivateBase + kIvtOff, 0x3FF};
    } else {
      s.cr0 = cpu::cr0::PE | cpu::cr0::ET | cpu::cr0::NE | cpu::cr0::AM;
      s.idtr = {kPrivateBase + kIdtOff, 0x7FF};
      s.tr = cpu::Segment{kSelTss, kTssBase, kTssLimit, 0x008B};
    }
    apply(s, start);
    cpu_.set_state(s);
    cpu_.set_instructions(0);
    return std::nullopt;
  }

  StepResult step() override {
    hook_.vector = -1;
    const cpu::RunStop stop = cpu_.step();
    StepResult r;
    if (hook_.vector >= 0) {
      r.kind = StepResult::Kind::Exception;
      r.vector = hook_.vector;
      r.error_code = hook_.error;
    } else if (stop == cpu::RunStop::Unsupported) {
      r.kind = StepResult::Kind::Error;
      r.message = std::string("unsupported: ") + (cpu_.unsupported_feature() ? cpu_.unsupported_feature() : "?");
    } else if (stop == cpu::RunStop::Shutdown) {
      r.kind = StepResult::Kind::Error;
      r.message = "triple fault";
    }
    return r;
  }

  ArchState state() override {
    const cpu::CpuState s = cpu_.state();
    ArchState a;
    for (int i = 0; i < 8; ++i) a.gpr[i] = s.gpr[i];
    a.eip = s.eip;
    a.eflags = s.eflags;
    for (int i = 0; i < 6; ++i) a.seg[i] = s.seg[i].selector;
    return a;
  }

  void set_state(const ArchState& a) override {
    cpu::CpuState s = cpu_.state();
    apply(s, a);
    s.halted = false;
    cpu_.set_state(s);
  }

  std::vector<uint8_t> read_memory(uint32_t addr, uint32_t len) override {
    std::vector<uint8_t> out(len, 0);
    for (uint32_t i = 0; i < len; ++i) {
      const uint8_t* p = mem_.host_page(addr + i, false);
      out[i] = p ? p[(addr + i) & 0xFFF] : 0;
    }
    return out;
  }

 private:
  // Registers and selectors from an ArchState; descriptor caches for the mode.
  void apply(cpu::CpuState& s, const ArchState& a) const {
    for (int i = 0; i < 8; ++i) s.gpr[i] = a.gpr[i];
    s.eip = a.eip;
    s.eflags = a.eflags;
    for (int i = 0; i < 6; ++i) {
      cpu::Segment& seg = s.seg[i];
      seg.selector = a.seg[i];
      if (mode_ == StartMode::Real16) {
        seg.base = uint32_t(a.seg[i]) << 4;
        seg.limit = 0xFFFF;
        seg.attr = i == cpu::CS ? 0x9B : 0x93;
        continue;
      }
      const unsigned dpl = mode_ == StartMode::UserFlat32 ? 3 : 0;
      seg.base = 0;
      seg.limit = 0xFFFFFFFF;
      seg.attr = uint16_t((i == cpu::CS ? 0xC09B : 0xC093) | dpl << 5);
      if (i != cpu::CS && i != cpu::SS && (a.seg[i] & ~3u) == 0) seg.attr = 0;  // null data selector
    }
    s.cpl = mode_ == StartMode::UserFlat32 ? 3 : 0;
  }

  StartMode mode_ = StartMode::Ring0Flat32;
  SparseMemory mem_;
  AllOnesIo io_;
  trace::EventLog log_;
  ReportHook hook_;
  cpu::Cpu cpu_;
};

}  // namespace

std::unique_ptr<Oracle> make_interp_oracle() { return std::make_unique<InterpOracle>(); }

}  // namespace vs::conformance
