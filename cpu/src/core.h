// The interpreter's private machinery: the decoded instruction record, faults
// as values, lazily evaluated status flags, segmented + paged memory access
// through a small software TLB, and the block cache. Instruction handlers
// (insn_*.cpp) see this; users of the CPU see cpu.h only.
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include "virtscope/cpu/bus.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/cpu/opcode_table.h"
#include "virtscope/cpu/state.h"
#include "virtscope/trace/event.h"

// The interpreter's hot accessors (register and operand access, segment and
// TLB checks) must inline into every handler; GCC's heuristics give up in the
// one large translation unit that instantiates all handlers.
#define VS_HOT [[gnu::always_inline]] inline

namespace vs::cpu {

// ---------------------------------------------------------------- faults ----
// A handler returns a Fault; "no fault" is the common case. Exceptions are
// values handed back to the run loop, which delivers them and emits the event
// (no setjmp/longjmp anywhere).
namespace vec {
constexpr uint8_t DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8;
constexpr uint8_t TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18;
}  // namespace vec

struct Fault {
  static constexpr uint8_t kNone = 0xFF;
  static constexpr uint8_t kUnsupported = 0xFE;  // a feature virtscope does not model yet
  static constexpr uint8_t kShutdown = 0xFD;     // triple fault: the CPU stops (reset event)
  static constexpr uint8_t kVmExit = 0xFC;       // non-root mode: Core::vm_exit holds a VM exit (vmx.cpp)
  // Bit-fields of one 32-bit word, so a Fault comes back from a handler in
  // one register and the slow paths that return one are tail calls. Every
  // error code the architecture defines fits 16 bits (selectors, and the #PF
  // bits of SDM Vol. 3 §4.7).
  uint32_t vector : 8 = kNone;
  uint32_t has_error_code : 8 = 0;
  uint32_t error_code : 16 = 0;
  explicit operator bool() const { return vector != kNone; }
};
inline Fault fault(uint8_t vector) { return Fault{vector, 0, 0}; }
inline Fault fault(uint8_t vector, uint32_t error_code) { return Fault{vector, 1, error_code & 0xFFFF}; }
inline Fault gp(uint32_t error_code = 0) { return fault(vec::GP, error_code); }
inline Fault ud() { return fault(vec::UD); }

// ------------------------------------------------------- decoded records ----
class Core;
struct Insn;
using Handler = Fault (*)(Core&, const Insn&);

// One decoded instruction. Everything the handler needs is precomputed here
// so executing it again from the block cache costs no decoding.
struct Insn {
  Handler fn;              // semantic function chosen by the opcode table row and width
  Handler chained;         // fn wrapped for threaded execution inside a block (see run_chained)
  uint32_t disp;           // displacement (ModRM), moffs, or relative branch target offset
  uint32_t imm;            // first immediate (sign-extended where the row says Ibs/Jb)
  uint32_t addr_mask;      // 0xFFFF for 16-bit addressing, 0xFFFFFFFF for 32-bit
  uint16_t imm2;           // second immediate: ENTER's level, far pointer selector
  uint16_t row;            // index into opcode_table()
  uint8_t len;             // bytes, prefixes included
  uint8_t op;              // last opcode byte (register-in-opcode forms, condition codes)
  uint8_t mod, reg, rm;    // ModRM fields (mod 3 = register operand)
  uint8_t base, index, scale;  // effective address: base/index are GPRs, 8 = none
  uint8_t seg;             // segment of the memory operand (default or override)
  uint8_t rep;             // 0, 0xF2 (REPNE) or 0xF3 (REP/REPE)
  uint8_t o32;             // operand-size attribute is 32
  uint8_t a32;             // address-size attribute is 32
  uint8_t end;             // ends the decoded block (control transfer / mode change)
};

// ----------------------------------------------------------------- flags ----
// Status flags are computed lazily (SDM Vol. 1 §3.4.3.1 defines them): an ALU
// operation records its operands, result and kind; a flag is worked out only
// when read. Each flag has exactly one accessor below.
// Shift keeps CF and OF, already worked out, in the operand slots.
enum class LazyOp : uint8_t { None, Add, AddCarry, Sub, SubBorrow, Logic, Shift };

// --------------------------------------------------------------- the TLB ----
// The CPU's own small translation cache from linear page to host pointer (not
// the architectural TLB model, which lives in mmu/). Tags hold the linear page
// base; a separate tag per access kind lets a page be readable but not
// writable here (ROM, read-only PTEs, pages holding decoded code).
// 32 bytes, so finding an entry is a shift rather than a multiply.
struct alignas(32) TlbEntry {
  static constexpr uint32_t kInvalid = 1;  // never equal to a page-aligned tag
  uint32_t read_tag = kInvalid, write_tag = kInvalid, exec_tag = kInvalid;
  uint32_t phys_page = 0;
  intptr_t addend = 0;  // host address = linear + addend
};
static_assert(sizeof(TlbEntry) == 32);

// A memory operand resolved for a read-modify-write: either a host pointer or,
// for MMIO and page-crossing accesses, the linear address to split.
struct MemRef {
  uint8_t* host = nullptr;
  uint32_t lin = 0;
  bool user = false;
};

// Precomputed per-segment access window (from the descriptor cache).
// A segment that may not be read (or written) has an empty window for that
// access (hi below lo), so one comparison pair checks limit, type and
// null-selector use together.
// 32 bytes, so finding a segment's window is a shift rather than a multiply.
struct alignas(32) SegWindow {
  uint32_t base = 0;
  uint32_t lo = 0;               // lowest valid offset
  int64_t read_hi = 0xFFFF;      // highest valid offset for reads, -1 = none
  int64_t write_hi = 0xFFFF;     // highest valid offset for writes, -1 = none
};
static_assert(sizeof(SegWindow) == 32);

// ------------------------------------------------------------ block cache ----
// Front cache of block lookups keyed by linear EIP: valid while `epoch`
// matches Core::lookup_epoch (bumped whenever linear-to-physical mappings, CS
// or CPL change) and the block still holds the same physical code.
struct BlockShortcut {
  uint32_t lin = 1;        // CS.base + EIP (1: never matches an empty entry's use)
  uint32_t epoch = 0;
  const struct Block* block = nullptr;
};

struct Block {
  uint32_t phys = 0;       // physical address of the first instruction
  uint32_t gen = 0;        // page generation when decoded (self-modifying code check)
  uint8_t mode = 0;        // CS.D when decoded
  uint16_t count = 0;      // instructions (a sentinel follows them)
  uint16_t bytes = 0;      // code bytes the instructions span (for the CS limit check)
  uint32_t first = 0;      // index of the first Insn in the arena
};

// ------------------------------------------------------------------ Core ----
class Core {
 public:
  Core(MemoryBus& mem, IoBus& io, trace::EventLog& log, const CpuConfig& config);

  // --- architectural state ---
  CpuState s;              // registers etc.; s.eflags holds the non-lazy bits
  SegWindow win[kSegCount];
  CpuConfig config;
  uint64_t icount = 0;     // instructions retired: the virtual clock

  // --- outside world ---
  MemoryBus& mem;
  IoBus& io;
  trace::EventLog& log;
  Translator* translator = nullptr;
  CpuHooks* hooks = nullptr;
  InterruptController* pic = nullptr;
  bool irq_line = false;   // INTR pin level
  bool nmi_pending = false;
  uint32_t a20_mask = 0xFFFFFFFF;

  // --- simulated VT-x non-root operation (vmx.cpp, vmx.h) ---
  bool vmx_active = false;        // in VMX non-root operation
  bool vmx_window = false;        // active and interrupt-window exiting (checked by interrupt_ready())
  bool vmx_irq_exits = false;     // active and external-interrupt exiting: INTR exits whatever IF says
  bool vmx_nested = false;        // active and nested paging: guest-physical goes through the translator too
  bool vmx_decoded = false;       // decoded blocks were made for non-root mode under `vmx`
  VmxControls vmx;                // the VM-execution controls
  VmExit vm_exit;                 // the last VM exit
  bool inject_pending = false;    // VM-entry event injection (Cpu::inject_event)
  uint8_t inject_vector = 0;
  bool inject_has_error = false;
  uint32_t inject_error = 0;
  uint32_t pf_linear = 0;         // linear address of the last #PF (its exit qualification)
  // Record a VM exit and hand back the fault value that carries it to raise().
  Fault exit_to_vmm(const VmExit& e) {
    vm_exit = e;
    return fault(Fault::kVmExit);
  }
  void stop_for_vm_exit();
  bool exception_exits(uint8_t vector) const { return vmx_active && vector < 32 && ((vmx.exception_bitmap >> vector) & 1); }
  // Does this decoded instruction exit under the current controls? (decode time)
  bool instruction_exits(const OpcodeInfo& row, const Insn& in) const;
  bool deliver_injected_event();

  // --- run-loop control ---
  bool attention = false;  // leave the block loop at the next instruction boundary
  bool stop_requested = false;
  RunStop stop_reason = RunStop::Budget;

  // ----------------------------------------------------- registers -------
  uint32_t& gpr(unsigned r) { return s.gpr[r]; }
  template <unsigned W>
  VS_HOT uint32_t reg(unsigned r) const {
    if constexpr (W == 8) return r < 4 ? s.gpr[r] & 0xFF : (s.gpr[r - 4] >> 8) & 0xFF;
    else if constexpr (W == 16) return s.gpr[r] & 0xFFFF;
    else return s.gpr[r];
  }
  template <unsigned W>
  VS_HOT void set_reg(unsigned r, uint32_t v) {
    if constexpr (W == 8) {
      if (r < 4) s.gpr[r] = (s.gpr[r] & ~0xFFu) | (v & 0xFF);
      else s.gpr[r - 4] = (s.gpr[r - 4] & ~0xFF00u) | ((v & 0xFF) << 8);
    } else if constexpr (W == 16) {
      s.gpr[r] = (s.gpr[r] & 0xFFFF0000u) | (v & 0xFFFF);
    } else {
      s.gpr[r] = v;
    }
  }
  VS_HOT uint32_t ea(const Insn& in) const {
    uint32_t base = in.base < 8 ? s.gpr[in.base] : 0;
    uint32_t index = in.index < 8 ? s.gpr[in.index] << in.scale : 0;
    return (in.disp + base + index) & in.addr_mask;
  }

  // -------------------------------------------------------- flags --------
  // Operation, width and mask sit together so an ALU instruction records
  // them with one store. Operands and result are kept masked to the width
  // (every caller passes values read at that width), so CF and ZF need no
  // masking when read.
  // CF alone is worked out at once: it is the flag read most (ADC/SBB,
  // unsigned branches, INC/DEC keeping it) and costs one compare to record.
  alignas(4) LazyOp lazy_op = LazyOp::None;
  uint8_t lazy_bits = 32;            // operand width of the last lazy operation
  uint16_t lazy_mask = 0;            // which of the six status flags are lazy
  uint32_t lazy_a = 0, lazy_b = 0, lazy_res = 0;
  uint32_t lazy_cf = 0;              // CF of the last lazy operation

  template <unsigned W>
  VS_HOT void set_lazy(LazyOp op, uint32_t a, uint32_t b, uint32_t res, uint32_t mask = flag::kArith) {
    lazy_op = op; lazy_bits = W; lazy_mask = uint16_t(mask);
    lazy_a = a; lazy_b = b; lazy_res = res;
    switch (op) {
      case LazyOp::Add: lazy_cf = res < a; break;
      case LazyOp::AddCarry: lazy_cf = res <= a; break;
      case LazyOp::Sub: lazy_cf = a < b; break;
      case LazyOp::SubBorrow: lazy_cf = a <= b; break;
      case LazyOp::Shift: lazy_cf = a; break;  // Shift passes CF itself
      case LazyOp::Logic:
      case LazyOp::None: lazy_cf = 0; break;
    }
  }
  bool cf() const;
  bool pf() const;
  bool af() const;
  bool zf() const;
  bool sf() const;
  bool of() const;
  bool df() const { return s.eflags & flag::DF; }
  // Freeze CF into EFLAGS before an operation that keeps it (INC, DEC).
  void pin_cf() {
    if (lazy_mask & flag::CF) {
      s.eflags = cf() ? s.eflags | flag::CF : s.eflags & ~flag::CF;
      lazy_mask &= ~flag::CF;
    }
  }
  // Set some status flags eagerly (shifts, multiplies, BCD...).
  void set_flags(uint32_t mask, uint32_t values) {
    // Only lazily-defined flags this write does not replace need computing.
    if (lazy_mask & ~mask) materialize_flags();
    else lazy_mask = 0;
    s.eflags = (s.eflags & ~mask) | (values & mask);
  }
  void set_flag(uint32_t bit, bool on) { set_flags(bit, on ? bit : 0); }
  // Turn lazy flags into bits in s.eflags.
  void materialize_flags();
  uint32_t eflags() { materialize_flags(); return s.eflags; }
  // Write EFLAGS under the rules of POPF/IRET (mask says which bits may change).
  void write_eflags(uint32_t value, uint32_t changeable);
  // SF, ZF, PF from a result (for eager flag setters).
  template <unsigned W>
  static uint32_t szp(uint32_t res) {
    constexpr uint32_t m = W == 32 ? 0xFFFFFFFFu : (1u << W) - 1;
    uint32_t f = 0;
    if ((res & m) == 0) f |= flag::ZF;
    if (res & (1u << (W - 1))) f |= flag::SF;
    if (!__builtin_parity(res & 0xFF)) f |= flag::PF;
    return f;
  }
  // Jcc/SETcc/CMOVcc condition cc (SDM Vol. 1 Appendix B), fixed at compile
  // time: the handler for each condition mnemonic tests only its own flags.
  template <unsigned cc>
  bool condition() const;

  // ------------------------------------------------------- privilege -----
  bool protected_mode() const { return s.cr0 & cr0::PE; }
  bool v86() const { return s.eflags & flag::VM; }
  unsigned cpl() const { return s.cpl; }
  unsigned iopl() const { return (s.eflags >> 12) & 3; }

  // --------------------------------------------------------- memory ------
  static constexpr unsigned kTlbSize = 256;
  TlbEntry tlb[2][kTlbSize];  // [user access][index]
  VS_HOT bool user_access() const { return s.cpl == 3; }

  VS_HOT bool in_segment(unsigned seg, uint32_t off, unsigned size, bool write) const {
    const SegWindow& w = win[seg];
    return off >= w.lo && int64_t(off) + size - 1 <= (write ? w.write_hi : w.read_hi);
  }
  VS_HOT Fault check_segment(unsigned seg, uint32_t off, unsigned size, bool write) const {
    return in_segment(seg, off, size, write) ? Fault{} : segment_fault(seg);
  }
  Fault segment_fault(unsigned seg) const;

  // Linear address reads/writes (paging + TLB; no segmentation).
  template <unsigned W>
  VS_HOT Fault read_lin(uint32_t lin, uint32_t& out, bool user) {
    const TlbEntry& e = tlb[user][(lin >> 12) & (kTlbSize - 1)];
    if (e.read_tag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 4096 - W / 8) {
      out = load_host<W>(reinterpret_cast<const uint8_t*>(intptr_t(lin) + e.addend));
      return {};
    }
    return read_lin_slow(lin, W / 8, out, user);
  }
  template <unsigned W>
  VS_HOT Fault write_lin(uint32_t lin, uint32_t v, bool user) {
    const TlbEntry& e = tlb[user][(lin >> 12) & (kTlbSize - 1)];
    if (e.write_tag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 4096 - W / 8) {
      store_host<W>(reinterpret_cast<uint8_t*>(intptr_t(lin) + e.addend), v);
      return {};
    }
    return write_lin_slow(lin, W / 8, v, user);
  }
  // Segmented reads/writes: the forms every handler uses.
  template <unsigned W>
  VS_HOT Fault read(unsigned seg, uint32_t off, uint32_t& out) {
    if (!in_segment(seg, off, W / 8, false)) [[unlikely]] return segment_fault(seg);
    return read_lin<W>(win[seg].base + off, out, user_access());
  }
  template <unsigned W>
  VS_HOT Fault write(unsigned seg, uint32_t off, uint32_t v) {
    if (!in_segment(seg, off, W / 8, true)) [[unlikely]] return segment_fault(seg);
    return write_lin<W>(win[seg].base + off, v, user_access());
  }
  // Read-modify-write: check write access first (a read-only page faults with
  // the W bit set, as on hardware), then load and store through one MemRef.
  template <unsigned W>
  VS_HOT Fault ref(unsigned seg, uint32_t off, MemRef& r) {
    if (!in_segment(seg, off, W / 8, true)) [[unlikely]] return segment_fault(seg);
    return ref_lin(win[seg].base + off, W / 8, r);
  }
  Fault ref_lin(uint32_t lin, unsigned size, MemRef& r);
  template <unsigned W>
  VS_HOT uint32_t load(const MemRef& r) {
    if (r.host) return load_host<W>(r.host);
    uint32_t v = 0;
    (void)read_lin_slow(r.lin, W / 8, v, r.user);  // permission already checked by ref()
    return v;
  }
  template <unsigned W>
  VS_HOT void store(const MemRef& r, uint32_t v) {
    if (r.host) store_host<W>(r.host, v);
    else (void)write_lin_slow(r.lin, W / 8, v, r.user);
  }
  // Supervisor-level accesses to system tables (GDT/LDT/IDT/TSS): never "user"
  // for paging purposes (SDM Vol. 3 §5.13 "implicit supervisor access").
  Fault read_sys(uint32_t lin, unsigned size, uint32_t& out) { return read_lin_slow(lin, size, out, false); }
  Fault write_sys(uint32_t lin, unsigned size, uint32_t v) { return write_lin_slow(lin, size, v, false); }

  template <unsigned W>
  static uint32_t load_host(const uint8_t* p) {
    if constexpr (W == 8) return *p;
    else if constexpr (W == 16) { uint16_t v; std::memcpy(&v, p, 2); return v; }
    else { uint32_t v; std::memcpy(&v, p, 4); return v; }
  }
  template <unsigned W>
  static void store_host(uint8_t* p, uint32_t v) {
    if constexpr (W == 8) *p = uint8_t(v);
    else if constexpr (W == 16) { uint16_t x = uint16_t(v); std::memcpy(p, &x, 2); }
    else std::memcpy(p, &v, 4);
  }

  Fault read_lin_slow(uint32_t lin, unsigned size, uint32_t& out, bool user);
  Fault write_lin_slow(uint32_t lin, unsigned size, uint32_t v, bool user);
  // Translate one linear address (paging or identity) and fill the TLB.
  Fault translate(uint32_t lin, Access access, bool user, uint32_t& phys);
  void flush_tlb();
  void flush_tlb_page(uint32_t lin);

  // ------------------------------------------------------------ stack ----
  // Stack width comes from SS.B (SDM Vol. 1 §6.2.3), not the operand size.
  bool stack32() const { return s.seg[SS].big(); }
  uint32_t sp() const { return stack32() ? s.gpr[ESP] : s.gpr[ESP] & 0xFFFF; }
  void set_sp(uint32_t v) {
    if (stack32()) s.gpr[ESP] = v;
    else s.gpr[ESP] = (s.gpr[ESP] & 0xFFFF0000u) | (v & 0xFFFF);
  }
  uint32_t sp_mask() const { return stack32() ? 0xFFFFFFFFu : 0xFFFFu; }
  template <unsigned W>
  VS_HOT Fault push(uint32_t v) {
    uint32_t nsp = (sp() - W / 8) & sp_mask();
    if (auto f = write<W>(SS, nsp, v)) return f;
    set_sp(nsp);
    return {};
  }
  template <unsigned W>
  VS_HOT Fault pop(uint32_t& v) {
    if (auto f = read<W>(SS, sp(), v)) return f;
    set_sp(sp() + W / 8);
    return {};
  }

  // ------------------------------------------------------- segments ------
  // Load a segment register: real-mode / V86 semantics or the protected-mode
  // checks of SDM Vol. 3 §5.4-5.8. Implemented in segments.cpp.
  Fault load_segment(unsigned seg, uint16_t selector);
  void set_segment_cache(unsigned seg, const Segment& cache);  // also updates win[seg]
  void load_real_segment(unsigned seg, uint16_t selector);
  Fault read_descriptor(uint16_t selector, uint64_t& desc, uint8_t fault_vector);
  Fault set_descriptor_accessed(uint16_t selector, uint64_t& desc);
  void set_cpl(unsigned cpl);

  // ---------------------------------------------- interrupts/exceptions ---
  Fault deliver(uint8_t vector, bool software, bool has_error, uint32_t error, uint32_t return_eip, unsigned origin);
  void raise(const Fault& f);          // deliver an exception from the run loop (double/triple fault logic)
  // An external interrupt can be taken now (SDM Vol. 3 §6.8.1). INTR without
  // an interrupt controller to acknowledge it is ignored, as a CPU with the
  // pin tied high and no 8259 answering would hang rather than make progress.
  // In non-root mode, external-interrupt exiting takes INTR whatever IF says,
  // and interrupt-window exiting is an event of its own (SDM Vol. 3C §25.2).
  bool interrupt_ready() const {
    return nmi_pending || (irq_line && pic && ((s.eflags & flag::IF) || vmx_irq_exits) && !s.interrupt_shadow) ||
           (vmx_window && (s.eflags & flag::IF) && !s.interrupt_shadow);
  }
  void service_interrupt();
  void update_attention() {
    attention = stop_requested || interrupt_ready() || (s.eflags & flag::TF) || s.halted ||
                log.wants(trace::EventKind::InsnRetired) || s.interrupt_shadow;
  }

  // --------------------------------------------------------- transfers ---
  // Protected-mode far transfers and interrupt return (transfer.cpp); in real
  // mode they reduce to loading CS:IP.
  Fault far_jump(uint16_t selector, uint32_t offset, unsigned width);
  Fault far_call(uint16_t selector, uint32_t offset, unsigned width);
  Fault far_return(unsigned width, uint32_t release);
  Fault interrupt_return(unsigned width);
  // Where an interrupt comes from decides the gate-DPL check and the event.
  static constexpr unsigned kOriginException = 0, kOriginExternal = 1, kOriginIntN = 2,
                            kOriginInt3 = 3, kOriginIcebp = 4;
  Fault software_interrupt(uint8_t vector, unsigned insn_len, unsigned origin);

  // Stacks for privilege changes (transfer.cpp), shared by CALL through a
  // gate and interrupt delivery. `ext` is the EXT bit these faults put in
  // their error code: 1 while delivering an event external to the program
  // (SDM Vol. 3 §6.13).
  Fault tss_stack(unsigned level, uint16_t& ss, uint32_t& esp, uint32_t ext);
  Fault check_new_stack(uint16_t ss, unsigned level, uint64_t& desc, uint32_t ext);
  // Push `values` (first value highest) below `top`, checking every slot
  // before writing any: on the current stack the segment window decides, on a
  // new inner stack its descriptor does (#SS(selector) if it does not fit).
  // Writes are made at privilege `level` (user pages need level 3).
  enum class StackKind : uint8_t { Current, New };
  Fault push_frame(const Segment& seg, StackKind kind, uint32_t top, unsigned width, const uint32_t* values,
                   unsigned n, uint32_t& new_top, uint32_t ext, unsigned level);
  // A data segment register holding a null selector: any use is #GP(0).
  static Segment unusable_segment(uint16_t selector) {
    Segment s;
    s.selector = selector;
    s.base = 0;
    s.limit = 0;
    s.attr = 0;  // not present
    return s;
  }

  // -------------------------------------------------- I/O permission -----
  Fault check_io(uint16_t port, unsigned size);
  uint32_t port_in(uint16_t port, unsigned size);
  void port_out(uint16_t port, unsigned size, uint32_t value);

  // ------------------------------------------- identification and MSRs ---
  CpuidResult cpuid(uint32_t leaf, uint32_t subleaf) const;
  bool read_msr(uint32_t index, uint64_t& value) const;
  bool write_msr(uint32_t index, uint64_t value);

  // ------------------------------------------------- LDTR, TR, queries ---
  Fault load_ldtr(uint16_t selector);
  Fault load_tr(uint16_t selector);
  enum class Query { Read, Write, AccessRights, Limit };
  // LAR/LSL/VERR/VERW: is `selector` usable for `q` at the current CPL? Faults
  // only for errors reading the descriptor table itself (#PF).
  Fault query_selector(uint16_t selector, Query q, bool& ok, uint64_t* desc = nullptr);

  // -------------------------------------------------------- control ------
  Fault write_cr(unsigned n, uint32_t v);
  void after_mode_change(uint32_t old_cr0);

  // ------------------------------------------------------------ events ---
  trace::VirtualTime now() const { return {icount, icount}; }
  void emit(trace::EventKind k, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
            trace::SourceLocation where = trace::SourceLocation::current()) {
    if (log.wants(k)) log.emit(k, now(), a0, a1, a2, a3, where);
  }
  void unsupported(const char* what);

  // ---------------------------------------------------- block cache ------
  static constexpr unsigned kShortcuts = 1024;
  BlockShortcut shortcut[kShortcuts];
  uint32_t lookup_epoch = 1;            // bump: every BlockShortcut becomes stale
  static constexpr unsigned kBlockTable = 1u << 14;
  static constexpr unsigned kMaxBlockInsns = 32;
  static constexpr size_t kArenaInsns = 1u << 16;  // decoded instructions; all blocks flush when full
  std::vector<Block> block_table;       // direct-mapped by physical address
  std::vector<Insn> arena;              // decoded instructions of all blocks
  size_t arena_used = 0;
  std::vector<uint32_t> page_gen;       // per physical 4 KiB page: bumped when code there is written
  std::vector<uint8_t> code_page;       // per physical page: decoded code is cached from it
  const char* unsupported_what = nullptr;

  void note_code_page(uint32_t phys_page);
  void code_written(uint32_t phys);
  void flush_blocks();
  // Decode one instruction at CS:EIP+offset (decoder.cpp).
  Fault decode(uint32_t eip, Insn& out);
  Fault fetch_byte(uint32_t eip, uint8_t& b);
  Fault lookup_block(const Block*& b);
  // The block at CS:EIP if the shortcut cache knows it. The epoch alone says
  // whether it is still valid: it is bumped by everything that could make a
  // shortcut wrong (mapping, CS or CPL changes, code writes, block eviction).
  VS_HOT const Block* shortcut_block() const {
    const uint32_t lin = s.seg[CS].base + s.eip;
    const BlockShortcut& sc = shortcut[(lin ^ (lin >> 10)) & (kShortcuts - 1)];
    return sc.lin == lin && sc.epoch == lookup_epoch ? sc.block : nullptr;
  }
  // A block's instructions are followed by a sentinel. In the plain loop it
  // does nothing; threaded, it continues into the next block when that block
  // is already decoded and fits the budget, at most kChainBlocks times before
  // the run loop gets control back (builds without tail calls stay shallow).
  static Fault end_of_block(Core&, const Insn&) { return {}; }
  static Fault continue_to_next_block(Core& c, const Insn&);
  static constexpr unsigned kChainBlocks = 64;
  uint64_t run_end = 0;          // the current run()'s budget end, in virtual time
  unsigned chain_left = 0;       // blocks the current chain may still enter
  RunStop run(uint64_t budget);
  Fault step_one();
  void execute_insn_with_trap(const Insn& in);
};

// Runs in place of an instruction that causes a VM exit (vmx.cpp).
Fault vmx_exit_insn(Core& c, const Insn& in);
Fault vmx_exit_insn_chained(Core& c, const Insn& in);

// Handler declarations shared between the insn_*.cpp files and the table.
#define VS_HANDLER(name) \
  template <unsigned W, Mnemonic M> VS_HOT Fault name(Core& c, const Insn& in);
#include "handlers.inc"
#undef VS_HANDLER

}  // namespace vs::cpu
