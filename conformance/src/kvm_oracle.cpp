// The KVM oracle: one IA-32 instruction per KVM_RUN under KVM_GUESTDBG_SINGLESTEP
// (Linux Documentation/virt/kvm/api.rst; descriptors, gates, TSS and exception
// frames per Intel SDM Vol. 3 §3.4.5, §6.11-6.13, §7.2.1, §20.1.4 for real mode).
//
// Deliberate choices, so that a reader can predict every number:
// - Each reset() builds a fresh VM: no vCPU state (FPU, pending I/O, halted
//   state) leaks from one stream into the next. Guest RAM is one anonymous
//   mapping, zeroed between resets with MADV_DONTNEED.
// - Exceptions go through a real IDT (or IVT) whose stubs report the vector on
//   port 0xE0. The host then rebuilds the state at the faulting point from the
//   frame and writes back the stack bytes the delivery overwrote, so the
//   driver sees no trace of the delivery.
// - A REP string instruction traps after every iteration under TF (SDM Vol. 3
//   §18.3.1.4); step() keeps stepping until EIP moves, so a step is one whole
//   instruction as the other oracles count it.
// - Known hardware limit: after MOV SS / POP SS the single-step trap is held
//   back for one instruction (SDM Vol. 3 §6.8.3), so that step covers two.
#include "virtscope/conformance/system_layout.h"
#include "virtscope/conformance/kvm_oracle.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "virtscope/vmm/kvm.h"

namespace vs::conformance {
namespace {

// ---- The guest the oracle builds (documented in kvm_oracle.h) ----
constexpr uint64_t kGuestMemSize = 16u << 20;  // RAM at guest-physical 0
using namespace system_layout;           // the tables shared with the other oracles
constexpr uint32_t kStubsOff = 0x1000;   // 256 stubs, 8 bytes each
constexpr uint32_t kStubSize = 8;
constexpr uint16_t kReportPort = 0xE0;   // the stubs write the vector here


constexpr uint64_t kCr0Pe = 1u << 0, kCr0Et = 1u << 4, kCr0Ne = 1u << 5, kCr0Am = 1u << 18;
constexpr uint32_t kFlagTf = 1u << 8, kFlagRf = 1u << 16, kFlagReserved1 = 1u << 1;
constexpr uint64_t kDr6SingleStep = 1u << 14;  // DR6.BS

// Guards: no step may cost more than this many KVM exits.
constexpr int kMaxExitsPerStep = 64;
constexpr int kMaxRepIterations = 1 << 16;
constexpr int kMaxEintrRetries = 16;
constexpr int kStackSnapshotBytes = 32;  // covers frame (24) + stub push (4)

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string errno_text(const char* what) { return std::string(what) + " failed: " + std::strerror(errno); }

void set_why(std::string* why, std::string text) {
  if (why) *why = std::move(text);
}

// ---- Descriptors (SDM Vol. 3 §3.4.5, §6.11) ----

// access = P|DPL|S|type byte; flags = G|D/B|L|AVL nibble.
uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (uint64_t(limit) & 0xFFFF) | (uint64_t(base & 0xFFFFFF) << 16) | (uint64_t(access) << 40) |
         (uint64_t((limit >> 16) & 0xF) << 48) | (uint64_t(flags & 0xF) << 52) | (uint64_t(base >> 24) << 56);
}

// A present 32-bit interrupt gate (type 0xE).
uint64_t interrupt_gate(uint16_t selector, uint32_t offset, int dpl) {
  uint8_t access = uint8_t(0x80 | (dpl << 5) | 0x0E);
  return (uint64_t(offset) & 0xFFFF) | (uint64_t(selector) << 16) | (uint64_t(access) << 40) |
         (uint64_t(offset >> 16) << 48);
}

// The descriptor cache KVM wants for `selector` whose GDT entry is `d`.
kvm_segment decode_descriptor(uint16_t selector, uint64_t d) {
  kvm_segment s{};
  s.selector = selector;
  s.base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
  uint32_t limit = uint32_t((d & 0xFFFF) | (((d >> 48) & 0xF) << 16));
  s.g = (d >> 55) & 1;
  s.limit = s.g ? (limit << 12) | 0xFFF : limit;
  s.type = (d >> 40) & 0xF;
  s.s = (d >> 44) & 1;
  s.dpl = (d >> 45) & 3;
  s.present = (d >> 47) & 1;
  s.avl = (d >> 52) & 1;
  s.l = (d >> 53) & 1;
  s.db = (d >> 54) & 1;
  s.unusable = !s.present;
  return s;
}

// A null selector in a data segment register: legal, unusable until loaded.
kvm_segment null_segment() {
  kvm_segment s{};
  s.unusable = 1;
  return s;
}

// Real mode: base = selector * 16, 64 KiB limit (SDM Vol. 3 §20.1.1).
kvm_segment real_mode_segment(uint16_t selector, bool code) {
  kvm_segment s{};
  s.selector = selector;
  s.base = uint64_t(selector) << 4;
  s.limit = 0xFFFF;
  s.type = code ? 0xB : 0x3;  // execute/read or read/write, accessed
  s.s = 1;
  s.present = 1;
  return s;
}

kvm_segment* segment_slot(kvm_sregs& sr, int sreg) {
  switch (sreg) {
    case ES: return &sr.es;
    case CS: return &sr.cs;
    case SS: return &sr.ss;
    case DS: return &sr.ds;
    case FS: return &sr.fs;
    case GS: return &sr.gs;
  }
  return nullptr;
}

__u64* gpr_slot(kvm_regs& r, int gpr) {
  switch (gpr) {
    case EAX: return &r.rax;
    case ECX: return &r.rcx;
    case EDX: return &r.rdx;
    case EBX: return &r.rbx;
    case ESP: return &r.rsp;
    case EBP: return &r.rbp;
    case ESI: return &r.rsi;
    case EDI: return &r.rdi;
  }
  return nullptr;
}

bool is_rep_string_opcode(uint8_t op) {
  return (op >= 0x6C && op <= 0x6F) || (op >= 0xA4 && op <= 0xA7) || (op >= 0xAA && op <= 0xAF);
}

bool is_legacy_prefix(uint8_t b) {
  switch (b) {
    case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:
      return true;
    default:
      return false;
  }
}

bool vector_is_report_port_exit(const kvm_run& run) {
  return run.io.direction == KVM_EXIT_IO_OUT && run.io.port == kReportPort && run.io.size == 1;
}

const char* exit_reason_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    default: return "an unexpected KVM exit";
  }
}

class KvmOracle final : public Oracle {
 public:
  KvmOracle() = default;
  ~KvmOracle() override {
    vm_.reset();
    if (mem_) ::munmap(mem_, kGuestMemSize);
  }
  KvmOracle(const KvmOracle&) = delete;
  KvmOracle& operator=(const KvmOracle&) = delete;

  std::string name() const override { return "kvm"; }
  bool available(StartMode mode, std::string* why) override;
  std::optional<std::string> reset(StartMode mode, const Layout& layout, const MemoryImage& mem,
                                   const ArchState& start) override;
  StepResult step() override;
  ArchState state() override;
  void set_state(const ArchState& s) override;
  std::vector<uint8_t> read_memory(uint32_t addr, uint32_t len) override;

 private:
  // What the last KVM exit said, copied out of kvm_run before anything reuses it.
  struct Exit {
    uint32_t reason = 0;
    uint8_t io_data = 0;
    bool report = false;  // an OUT to kReportPort
  };
  // Stack bytes an exception delivery may overwrite, saved before each step.
  struct StackSnapshot {
    std::array<std::pair<uint32_t, uint8_t>, kStackSnapshotBytes> bytes{};
    int count = 0;
  };

  std::optional<std::string> validate(const Layout& layout, const MemoryImage& mem) const;
  std::optional<std::string> prepare_memory();
  std::optional<std::string> create_vm();
  void write_private_tables();
  std::optional<std::string> load_start_sregs(StartMode mode, const ArchState& start);
  std::optional<std::string> segment_for(const kvm_sregs& sr, int sreg, uint16_t selector, kvm_segment* out);
  std::optional<std::string> run_once();
  std::optional<std::string> complete_pending_io();
  std::optional<std::string> get_regs(kvm_regs* r, kvm_sregs* s);
  std::optional<std::string> put_regs(const kvm_regs* r, const kvm_sregs* s);
  std::optional<std::string> answer_port_io();
  StepResult report_guest_debug_exception();
  StepResult report_exception(uint8_t vector, const kvm_regs& before, const kvm_sregs& sbefore,
                              const StackSnapshot& saved);
  StackSnapshot snapshot_stack(const kvm_regs& r, const kvm_sregs& s) const;
  void restore_stack(const StackSnapshot& saved);
  bool in_stub_area(const kvm_regs& r, const kvm_sregs& s) const;
  bool at_rep_string(const kvm_regs& r, const kvm_sregs& s) const;

  bool in_ram(uint64_t addr, uint64_t len) const { return addr + len <= kGuestMemSize; }
  uint8_t peek8(uint64_t a) const { return a < kGuestMemSize ? mem_[a] : 0; }
  uint32_t peek(uint64_t a, int bytes) const {
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | peek8(a + uint64_t(i));
    return v;
  }
  void poke(uint64_t a, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      if (a + uint64_t(i) < kGuestMemSize) mem_[a + uint64_t(i)] = uint8_t(v >> (8 * i));
  }

  static StepResult error(std::string message) {
    StepResult r;
    r.kind = StepResult::Kind::Error;
    r.message = std::move(message);
    return r;
  }

  uint8_t* mem_ = nullptr;             // kGuestMemSize bytes of guest RAM
  std::unique_ptr<vmm::KvmVm> vm_;     // null until a reset() succeeds (the shared KVM backend)
  std::optional<std::string> pending_error_;  // from state()/set_state(), reported by step()
  ArchState last_state_{};             // what state() returns when KVM refuses
};

// ---- Availability ----

bool KvmOracle::available(StartMode mode, std::string* why) {
  // One detection for the oracle and the kvm mode (vmm/src/kvm/kvm_host.cpp).
  const vmm::KvmSupport support = vmm::probe_kvm();
  const bool native = mode == StartMode::Real16 ? support.real_mode_native : support.protected_mode_native;
  if (support.usable && native) return true;
  set_why(why, support.reason);
  return false;
}

// ---- Reset ----

std::optional<std::string> KvmOracle::validate(const Layout& layout, const MemoryImage& mem) const {
  struct Window {
    const char* name;
    uint64_t base, size;
  };
  const Window windows[] = {{"code window", layout.code_base, layout.code_size},
                            {"data window", layout.data_base, layout.data_size}};
  for (const Window& w : windows) {
    if (w.base + w.size > kGuestMemSize)
      return std::string("the ") + w.name + " [" + hex(w.base) + ", " + hex(w.base + w.size) +
             ") does not fit in the KVM oracle's " + std::to_string(kGuestMemSize >> 20) + " MiB of guest memory";
    if (w.base < kPrivateBase + kPrivateSize && kPrivateBase < w.base + w.size)
      return std::string("the ") + w.name + " [" + hex(w.base) + ", " + hex(w.base + w.size) +
             ") overlaps the KVM oracle's private tables at [" + hex(kPrivateBase) + ", " +
             hex(kPrivateBase + kPrivateSize) + ")";
  }
  if (layout.stack_top > kGuestMemSize)
    return "stack_top " + hex(layout.stack_top) + " lies outside the KVM oracle's guest memory";
  for (const auto& [base, bytes] : mem.pages) {
    if (uint64_t(base) + MemoryImage::kPageSize > kGuestMemSize)
      return "memory image page " + hex(base) + " lies outside the KVM oracle's guest memory";
    if (base < kPrivateBase + kPrivateSize && kPrivateBase < base + MemoryImage::kPageSize)
      return "memory image page " + hex(base) + " overlaps the KVM oracle's private tables at " + hex(kPrivateBase);
    if (bytes.size() != MemoryImage::kPageSize)
      return "memory image page " + hex(base) + " holds " + std::to_string(bytes.size()) + " bytes, not 4096";
  }
  return std::nullopt;
}

std::optional<std::string> KvmOracle::prepare_memory() {
  if (!mem_) {
    void* p = ::mmap(nullptr, kGuestMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return errno_text("mmap of guest memory");
    mem_ = static_cast<uint8_t*>(p);
    return std::nullopt;
  }
  // Dropping the pages makes them read back as zero: a cheap full wipe.
  if (::madvise(mem_, kGuestMemSize, MADV_DONTNEED) != 0) std::memset(mem_, 0, kGuestMemSize);
  return std::nullopt;
}

std::optional<std::string> KvmOracle::create_vm() {
  std::string error;
  std::unique_ptr<vmm::KvmVm> vm = vmm::KvmVm::create(error);
  if (!vm) return error;
  if (!vm->map_memory(0, 0, kGuestMemSize, mem_, error)) return error;
  vm_ = std::move(vm);
  return std::nullopt;
}

void KvmOracle::write_private_tables() {
  // Stubs: push eAX; mov al, v; out 0xE0, al; hlt; jmp back to the hlt.
  // The same bytes mean the same thing in 16- and 32-bit code.
  for (uint32_t v = 0; v < 256; ++v) {
    const uint8_t stub[kStubSize] = {0x50, 0xB0, uint8_t(v), 0xE6, uint8_t(kReportPort), 0xF4, 0xEB, 0xFD};
    std::memcpy(mem_ + kPrivateBase + kStubsOff + v * kStubSize, stub, kStubSize);
  }
  // Real-mode IVT: segment 0xF000, offset of the stub (SDM Vol. 3 §20.1.4).
  for (uint32_t v = 0; v < 256; ++v) {
    uint32_t entry = kPrivateBase + kIvtOff + v * 4;
    poke(entry, kStubsOff + v * kStubSize, 2);
    poke(entry + 2, kPrivateBase >> 4, 2);
  }
  // GDT. Accessed bits preset so loading a segment never writes the table.
  const uint64_t gdt[kGdtEntries] = {
      0,
      segment_descriptor(0, 0xFFFFF, 0x9B, 0xC),  // 0x08 code32, ring 0
      segment_descriptor(0, 0xFFFFF, 0x93, 0xC),  // 0x10 data32, ring 0
      segment_descriptor(0, 0xFFFFF, 0xFB, 0xC),  // 0x1B code32, ring 3
      segment_descriptor(0, 0xFFFFF, 0xF3, 0xC),  // 0x23 data32, ring 3
      segment_descriptor(kPrivateBase + kTssOff, kTssLimit, 0x8B, 0x0),  // 0x28 busy 32-bit TSS
  };
  for (int i = 0; i < kGdtEntries; ++i) poke(kPrivateBase + kGdtOff + uint32_t(i) * 8, gdt[i], 8);
  // TSS (SDM Vol. 3 Figure 7-2): ESP0/SS0 for ring changes, I/O map base
  // past the limit so ring 3 has no port permissions.
  uint32_t tss = kPrivateBase + kTssOff;
  poke(tss + 4, kRing0StackTop, 4);
  poke(tss + 8, kSelData0, 2);
  poke(tss + 102, kTssLimit + 1, 2);
  // IDT: every vector to its stub. DPL 3 only where Linux allows INT n from ring 3.
  for (uint32_t v = 0; v < 256; ++v) {
    int dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
    poke(kPrivateBase + kIdtOff + v * 8, interrupt_gate(kSelCode0, kPrivateBase + kStubsOff + v * kStubSize, dpl), 8);
  }
}

// The descriptor cache for `selector` in segment register `sreg`, from the
// current mode: selector*16 in real mode, the guest's GDT in protected mode.
std::optional<std::string> KvmOracle::segment_for(const kvm_sregs& sr, int sreg, uint16_t selector,
                                                  kvm_segment* out) {
  if (!(sr.cr0 & kCr0Pe)) {
    *out = real_mode_segment(selector, sreg == CS);
    return std::nullopt;
  }
  if ((selector & ~3) == 0) {
    if (sreg == CS || sreg == SS)
      return std::string("selector ") + hex(selector) + " is null, which CS and SS cannot hold in protected mode";
    *out = null_segment();
    out->selector = selector;
    return std::nullopt;
  }
  if (selector & 4) return "selector " + hex(selector) + " names the LDT, which the KVM oracle does not build";
  if (uint32_t(selector | 7) > sr.gdt.limit || !in_ram(sr.gdt.base + (selector & ~7u), 8))
    return "selector " + hex(selector) + " lies beyond the GDT (limit " + hex(sr.gdt.limit) + ")";
  uint64_t d = uint64_t(peek(sr.gdt.base + (selector & ~7u), 4)) |
               (uint64_t(peek(sr.gdt.base + (selector & ~7u) + 4, 4)) << 32);
  *out = decode_descriptor(selector, d);
  if (!out->present || !out->s)
    return "selector " + hex(selector) + " does not name a present code or data segment";
  return std::nullopt;
}

std::optional<std::string> KvmOracle::load_start_sregs(StartMode mode, const ArchState& start) {
  kvm_sregs sr{};
  if (::ioctl(vm_->vcpu_fd(), KVM_GET_SREGS, &sr) != 0) return errno_text("KVM_GET_SREGS");
  std::memset(sr.interrupt_bitmap, 0, sizeof sr.interrupt_bitmap);
  sr.efer = 0;
  sr.cr2 = sr.cr3 = sr.cr4 = 0;
  sr.gdt.base = kPrivateBase + kGdtOff;
  sr.gdt.limit = kGdtEntries * 8 - 1;
  sr.ldt = null_segment();
  if (mode == StartMode::Real16) {
    sr.cr0 = kCr0Et;
    sr.idt.base = kPrivateBase + kIvtOff;
    sr.idt.limit = 256 * 4 - 1;
    // VMX wants a usable busy TSS even in real mode; it is never consulted.
    sr.tr = real_mode_segment(0, true);
    sr.tr.s = 0;
    sr.ldt.type = 2;  // an LDT type, marked unusable
  } else {
    sr.cr0 = kCr0Pe | kCr0Et | kCr0Ne | kCr0Am;
    sr.idt.base = kPrivateBase + kIdtOff;
    sr.idt.limit = 256 * 8 - 1;
    uint64_t tss_desc = uint64_t(peek(kPrivateBase + kGdtOff + kSelTss, 4)) |
                        (uint64_t(peek(kPrivateBase + kGdtOff + kSelTss + 4, 4)) << 32);
    sr.tr = decode_descriptor(kSelTss, tss_desc);
    sr.ldt.type = 2;
  }
  for (int s = ES; s <= GS; ++s) {
    kvm_segment seg{};
    if (auto err = segment_for(sr, s, start.seg[s], &seg)) return "start state: " + *err;
    *segment_slot(sr, s) = seg;
  }
  int want_cpl = mode == StartMode::UserFlat32 ? 3 : 0;
  if (mode != StartMode::Real16 && (sr.cs.dpl != want_cpl || sr.ss.dpl != want_cpl))
    return std::string("start state: CS ") + hex(start.seg[CS]) + " / SS " + hex(start.seg[SS]) +
           " are not ring-" + std::to_string(want_cpl) + " segments; use " +
           (want_cpl ? hex(kSelCode3) + " / " + hex(kSelData3) : hex(kSelCode0) + " / " + hex(kSelData0));
  if (::ioctl(vm_->vcpu_fd(), KVM_SET_SREGS, &sr) != 0) return errno_text("KVM_SET_SREGS");
  return std::nullopt;
}

std::optional<std::string> KvmOracle::reset(StartMode mode, const Layout& layout, const MemoryImage& mem,
                                            const ArchState& start) {
  vm_.reset();
  pending_error_.reset();
  if (auto err = validate(layout, mem)) return err;
  if (auto err = prepare_memory()) return err;
  for (const auto& [base, bytes] : mem.pages) std::memcpy(mem_ + base, bytes.data(), MemoryImage::kPageSize);
  write_private_tables();
  if (auto err = create_vm()) {
    vm_.reset();
    return err;
  }
  if (auto err = load_start_sregs(mode, start)) {
    vm_.reset();
    return err;
  }
  kvm_regs r{};
  for (int g = EAX; g <= EDI; ++g) *gpr_slot(r, g) = start.gpr[g];
  r.rip = start.eip;
  r.rflags = start.eflags | kFlagReserved1;
  if (::ioctl(vm_->vcpu_fd(), KVM_SET_REGS, &r) != 0) {
    std::string err = errno_text("KVM_SET_REGS");
    vm_.reset();
    return err;
  }
  kvm_guest_debug dbg{};
  dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
  if (::ioctl(vm_->vcpu_fd(), KVM_SET_GUEST_DEBUG, &dbg) != 0) {
    std::string err = errno_text("KVM_SET_GUEST_DEBUG");
    vm_.reset();
    return err;
  }
  last_state_ = start;
  return std::nullopt;
}

// ---- Running ----

std::optional<std::string> KvmOracle::run_once() {
  for (int tries = 0; tries < kMaxEintrRetries; ++tries) {
    if (::ioctl(vm_->vcpu_fd(), KVM_RUN, 0) == 0) return std::nullopt;
    if (errno != EINTR && errno != EAGAIN) return errno_text("KVM_RUN");
  }
  return "KVM_RUN was interrupted " + std::to_string(kMaxEintrRetries) + " times in a row";
}

// api.rst: an I/O exit is finished only when KVM_RUN is entered again;
// immediate_exit finishes it without running another guest instruction.
std::optional<std::string> KvmOracle::complete_pending_io() {
  vm_->run_area().immediate_exit = 1;
  int rc = ::ioctl(vm_->vcpu_fd(), KVM_RUN, 0);
  int saved_errno = errno;
  vm_->run_area().immediate_exit = 0;
  if (rc != 0 && saved_errno != EINTR) {
    errno = saved_errno;
    return errno_text("KVM_RUN (completing port I/O)");
  }
  return std::nullopt;
}

std::optional<std::string> KvmOracle::get_regs(kvm_regs* r, kvm_sregs* s) { return vm_->get_raw(r, s); }

std::optional<std::string> KvmOracle::put_regs(const kvm_regs* r, const kvm_sregs* s) { return vm_->put_raw(r, s); }

bool KvmOracle::in_stub_area(const kvm_regs& r, const kvm_sregs& s) const {
  uint64_t linear = (s.cs.base + r.rip) & 0xFFFFFFFF;
  uint64_t first = kPrivateBase + kStubsOff;
  return linear >= first && linear < first + 256 * kStubSize;
}

bool KvmOracle::at_rep_string(const kvm_regs& r, const kvm_sregs& s) const {
  bool rep = false;
  for (uint32_t i = 0; i < 15; ++i) {
    uint32_t ip = uint32_t(r.rip) + i;
    if (!s.cs.db) ip &= 0xFFFF;
    uint8_t b = peek8((s.cs.base + ip) & 0xFFFFFFFF);
    if (b == 0xF2 || b == 0xF3) rep = true;
    if (!is_legacy_prefix(b)) return rep && is_rep_string_opcode(b);
  }
  return false;
}

KvmOracle::StackSnapshot KvmOracle::snapshot_stack(const kvm_regs& r, const kvm_sregs& s) const {
  StackSnapshot snap;
  uint32_t mask = s.ss.db ? 0xFFFFFFFF : 0xFFFF;
  for (int i = 1; i <= kStackSnapshotBytes; ++i) {
    uint64_t linear = (s.ss.base + ((uint32_t(r.rsp) - uint32_t(i)) & mask)) & 0xFFFFFFFF;
    if (linear < kGuestMemSize) snap.bytes[size_t(snap.count++)] = {uint32_t(linear), mem_[linear]};
  }
  return snap;
}

void KvmOracle::restore_stack(const StackSnapshot& saved) {
  for (int i = 0; i < saved.count; ++i) mem_[saved.bytes[size_t(i)].first] = saved.bytes[size_t(i)].second;
}

// Port I/O by the stream itself: nothing is attached, so IN reads 0xFF
// (an undriven ISA bus) and OUT is dropped.
std::optional<std::string> KvmOracle::answer_port_io() {
  const kvm_run& run = vm_->run_area();
  if (run.io.direction == KVM_EXIT_IO_IN) {
    uint64_t bytes = uint64_t(run.io.size) * run.io.count;
    if (run.io.data_offset + bytes > vm_->run_area_size()) return "KVM reported port I/O data outside kvm_run";
    std::memset(reinterpret_cast<uint8_t*>(&vm_->run_area()) + run.io.data_offset, 0xFF, bytes);
  }
  return std::nullopt;
}

// A #DB the guest raised itself (ICEBP, a debug register it armed) stops in
// KVM_EXIT_DEBUG without DR6.BS, before delivery. VMX stops at ICEBP itself;
// INT1/ICEBP is a trap (SDM Vol. 3 Table 18-2), so EIP moves past it.
StepResult KvmOracle::report_guest_debug_exception() {
  StepResult db;
  db.kind = StepResult::Kind::Exception;
  db.vector = 1;
  kvm_regs r{};
  kvm_sregs s{};
  if (auto err = get_regs(&r, &s)) return error(*err);
  constexpr uint8_t kIcebp = 0xF1;
  if (peek8((s.cs.base + r.rip) & 0xFFFFFFFF) == kIcebp) {
    r.rip += 1;
    if (auto err = put_regs(&r, nullptr)) return error(*err);
  }
  return db;
}

// The stub for `vector` is sitting at its OUT. Rebuild the state at the
// faulting (or, for INT n, the following) instruction from the frame the CPU
// pushed (SDM Vol. 3 §6.12.1 Figure 6-4; real mode §20.1.4), then undo the
// delivery: registers from the frame, stack bytes from the snapshot.
StepResult KvmOracle::report_exception(uint8_t vector, const kvm_regs& before, const kvm_sregs& sbefore,
                                       const StackSnapshot& saved) {
  if (auto err = complete_pending_io()) return error(*err);
  kvm_regs now{};
  kvm_sregs snow{};
  if (auto err = get_regs(&now, &snow)) return error(*err);

  StepResult result;
  result.kind = StepResult::Kind::Exception;
  result.vector = vector;
  kvm_regs fixed = now;
  kvm_sregs sfixed = sbefore;
  uint32_t stub_sp = uint32_t(now.rsp);

  if (!(snow.cr0 & kCr0Pe)) {
    // Real mode: the stub pushed AX; above it IP, CS, FLAGS; never an error code.
    auto at = [&](uint32_t off) { return snow.ss.base + ((stub_sp + off) & 0xFFFF); };
    uint32_t frame_end = (stub_sp + 2 + 6) & 0xFFFF;
    if (frame_end != (uint32_t(before.rsp) & 0xFFFF))
      return error("vector " + std::to_string(vector) + ": the real-mode frame does not end at the old SP");
    uint32_t ip = peek(at(2), 2), cs = peek(at(4), 2), flags = peek(at(6), 2);
    if (cs != sbefore.cs.selector)
      return error("vector " + std::to_string(vector) + ": frame CS " + hex(cs) + " differs from CS before the step");
    fixed.rax = (now.rax & ~uint64_t(0xFFFF)) | peek(at(0), 2);
    fixed.rip = ip;
    fixed.rsp = before.rsp;
    fixed.rflags = (before.rflags & 0xFFFF0000) | (flags & ~kFlagTf) | (before.rflags & kFlagTf);
  } else {
    // Protected mode: the stub pushed EAX; above it [error code], EIP, CS,
    // EFLAGS, and ESP, SS when the handler runs at a more privileged level.
    uint32_t frame = stub_sp + 4;
    bool ring_change = (sbefore.cs.selector & 3) != (snow.cs.selector & 3);
    uint32_t frame_top = ring_change ? peek(snow.tr.base + 4, 4) : uint32_t(before.rsp);
    uint32_t size = frame_top - frame;
    uint32_t plain = ring_change ? 20 : 12;
    if (size != plain && size != plain + 4)
      return error("vector " + std::to_string(vector) + ": an exception frame of " + std::to_string(size) +
                   " bytes makes no sense");
    auto word = [&](uint32_t off) { return peek((snow.ss.base + frame + off) & 0xFFFFFFFF, 4); };
    uint32_t off = 0;
    if (size == plain + 4) {
      result.error_code = word(0);
      off = 4;
    }
    uint32_t eip = word(off), cs = word(off + 4) & 0xFFFF, eflags = word(off + 8);
    if (cs != sbefore.cs.selector)
      return error("vector " + std::to_string(vector) + ": frame CS " + hex(cs) + " differs from CS before the step");
    fixed.rax = peek((snow.ss.base + stub_sp) & 0xFFFFFFFF, 4);
    fixed.rip = eip;
    fixed.rflags = (eflags & ~(kFlagTf | kFlagRf)) | (before.rflags & (kFlagTf | kFlagRf));
    fixed.rsp = ring_change ? word(off + 12) : frame_top;
  }
  restore_stack(saved);
  if (auto err = put_regs(&fixed, &sfixed)) return error(*err);
  return result;
}

StepResult KvmOracle::step() {
  if (!vm_) return error("the KVM oracle has no guest: reset() was not called or failed");
  if (pending_error_) {
    std::string message = *pending_error_;
    pending_error_.reset();
    return error(message);
  }
  kvm_regs before{};
  kvm_sregs sbefore{};
  if (auto err = get_regs(&before, &sbefore)) return error(*err);
  StackSnapshot saved = snapshot_stack(before, sbefore);

  int exits = 0, rep_iterations = 0;
  while (true) {
    if (++exits > kMaxExitsPerStep)
      return error("one step took more than " + std::to_string(kMaxExitsPerStep) + " KVM exits");
    if (auto err = run_once()) return error(*err);
    const kvm_run& run = vm_->run_area();
    switch (run.exit_reason) {
      case KVM_EXIT_DEBUG: {
        kvm_regs r{};
        kvm_sregs s{};
        if (auto err = get_regs(&r, &s)) return error(*err);
        if (run.debug.arch.exception == 1 && !(run.debug.arch.dr6 & kDr6SingleStep))
          return report_guest_debug_exception();
        if (in_stub_area(r, s)) continue;  // stepping through an exception stub (emulated hosts)
        bool same_ip = r.rip == before.rip && s.cs.selector == sbefore.cs.selector;
        if (same_ip && at_rep_string(r, s) && ++rep_iterations < kMaxRepIterations) {
          --exits;  // iterations are bounded separately
          continue;
        }
        if (same_ip && rep_iterations >= kMaxRepIterations)
          return error("a REP string instruction did not finish within " + std::to_string(kMaxRepIterations) +
                       " iterations");
        return {};
      }
      case KVM_EXIT_IO: {
        if (vector_is_report_port_exit(run)) {
          kvm_regs r{};
          kvm_sregs s{};
          if (auto err = get_regs(&r, &s)) return error(*err);
          if (in_stub_area(r, s)) {
            uint8_t vector = *(reinterpret_cast<const uint8_t*>(&run) + run.io.data_offset);
            return report_exception(vector, before, sbefore, saved);
          }
        }
        if (auto err = answer_port_io()) return error(*err);
        continue;
      }
      case KVM_EXIT_HLT:
        return {};  // the stream's own HLT retired; with no interrupt source it stays halted
      case KVM_EXIT_MMIO:
        return error("the instruction touched guest-physical " + hex(run.mmio.phys_addr) + ", outside the " +
                     std::to_string(kGuestMemSize >> 20) + " MiB of guest memory");
      case KVM_EXIT_SHUTDOWN:
        return error("triple fault: KVM shut the guest down (KVM_EXIT_SHUTDOWN)");
      case KVM_EXIT_FAIL_ENTRY:
        return error("KVM could not enter the guest (hardware entry failure reason " +
                     hex(run.fail_entry.hardware_entry_failure_reason) + ")");
      case KVM_EXIT_INTERNAL_ERROR:
        if (run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
          return error("KVM emulation failure: the host kernel's instruction emulator could not run this code");
        return error("KVM internal error, suberror " + std::to_string(run.internal.suberror));
      case KVM_EXIT_INTR:
        continue;
      default:
        return error(std::string("KVM stopped with ") + exit_reason_name(run.exit_reason) + " (" +
                     std::to_string(run.exit_reason) + ")");
    }
  }
}

// ---- State ----

ArchState KvmOracle::state() {
  if (!vm_) return last_state_;
  kvm_regs r{};
  kvm_sregs s{};
  if (auto err = get_regs(&r, &s)) {
    pending_error_ = *err;
    return last_state_;
  }
  ArchState a;
  for (int g = EAX; g <= EDI; ++g) a.gpr[g] = uint32_t(*gpr_slot(r, g));
  a.eip = uint32_t(r.rip);
  a.eflags = uint32_t(r.rflags);
  for (int sg = ES; sg <= GS; ++sg) a.seg[sg] = segment_slot(s, sg)->selector;
  last_state_ = a;
  return a;
}

void KvmOracle::set_state(const ArchState& st) {
  if (!vm_) {
    pending_error_ = "set_state() before a successful reset()";
    return;
  }
  kvm_regs r{};
  kvm_sregs s{};
  if (auto err = get_regs(&r, &s)) {
    pending_error_ = *err;
    return;
  }
  // Only segment registers whose selector changed are reloaded, so a cache
  // the stream set up (e.g. before a mode switch) is kept as the CPU keeps it.
  for (int sg = ES; sg <= GS; ++sg) {
    kvm_segment* slot = segment_slot(s, sg);
    if (slot->selector == st.seg[sg]) continue;
    if (auto err = segment_for(s, sg, st.seg[sg], slot)) {
      pending_error_ = "set_state: " + *err;
      return;
    }
  }
  for (int g = EAX; g <= EDI; ++g) *gpr_slot(r, g) = st.gpr[g];
  r.rip = st.eip;
  r.rflags = st.eflags | kFlagReserved1;
  if (auto err = put_regs(&r, &s)) {
    pending_error_ = "set_state: " + *err;
    return;
  }
  last_state_ = st;
}

std::vector<uint8_t> KvmOracle::read_memory(uint32_t addr, uint32_t len) {
  std::vector<uint8_t> out(len, 0);
  if (!mem_) return out;
  for (uint32_t i = 0; i < len; ++i) out[i] = peek8(uint64_t(addr) + i);
  return out;
}

}  // namespace

std::unique_ptr<Oracle> make_kvm_oracle() { return std::make_unique<KvmOracle>(); }

bool kvm_plumbing_available(std::string* why) {
  const vmm::KvmSupport support = vmm::probe_kvm();
  if (!support.usable) set_why(why, support.reason);
  return support.usable;
}

}  // namespace vs::conformance
