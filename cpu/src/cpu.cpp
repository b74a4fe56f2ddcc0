// The run loop: decoded blocks from a cache keyed by physical address,
// executed instruction by instruction with faults as values; a slow path for
// everything that needs attention at an instruction boundary (interrupts,
// HLT, single-step, the interrupt shadow, per-instruction tracing).
//
// Virtual time (icount) advances by one for every instruction retired and
// for every exception or interrupt delivered (docs/cpu.md).
// Intel SDM Vol. 3 §6.9 (priority among events at instruction boundaries).
#include "core.h"

#include "table.h"

namespace vs::cpu {

Core::Core(MemoryBus& m, IoBus& i, trace::EventLog& l, const CpuConfig& cfg)
    : config(cfg), mem(m), io(i), log(l) {
  block_table.assign(kBlockTable, Block{});
  for (auto& b : block_table) b.phys = 0xFFFFFFFF;
  arena.resize(kArenaInsns);
  page_gen.assign(1u << 20, 0);
  code_page.assign(1u << 20, 0);
}

void Core::flush_blocks() {
  ++lookup_epoch;
  for (auto& b : block_table) b.phys = 0xFFFFFFFF;
  arena_used = 0;
}

// Find (or decode) the block starting at CS:EIP. A null block means "execute
// one instruction uncached" (it crosses a page or lies past the CS limit).
Fault Core::continue_to_next_block(Core& c, const Insn&) {
  // Whatever changes the run loop's boundary checks (TF or IF set by
  // POPF/IRET, STI, MOV SS, HLT, an interrupt line, a stop request) sets
  // `attention`, so the sentinel need not recompute them.
  if (c.attention || c.chain_left == 0) return {};
  const Block* b = c.shortcut_block();
  if (!b || c.run_end - c.icount < b->count) return {};
  --c.chain_left;
  const Insn& first = c.arena[b->first];
  return first.chained(c, first);
}

Fault Core::lookup_block(const Block*& out) {
  if ((out = shortcut_block())) return {};
  const uint32_t lin = s.seg[CS].base + s.eip;
  BlockShortcut& sc = shortcut[(lin ^ (lin >> 10)) & (kShortcuts - 1)];
  if (s.eip > s.seg[CS].limit) return gp(0);
  const bool user = user_access();
  uint32_t phys;
  const TlbEntry& e = tlb[user][(lin >> 12) & (kTlbSize - 1)];
  if (e.exec_tag == (lin & ~0xFFFu)) {
    phys = e.phys_page | (lin & 0xFFF);
  } else {
    if (auto f = translate(lin, Access::Execute, user, phys)) return f;
    if (!mem.host_page(phys, false)) return {};  // code in MMIO/ROM-less space: uncached
  }
  const uint8_t mode = s.seg[CS].big() && !v86() ? 1 : 0;
  Block& b = block_table[(phys ^ (phys >> 14)) & (kBlockTable - 1)];
  const uint32_t page = phys >> 12;
  // A cached block is reused only if all of it lies inside the current CS limit.
  if (b.phys == phys && b.mode == mode && b.gen == page_gen[page] && code_page[page] &&
      uint64_t(s.eip) + b.bytes <= uint64_t(s.seg[CS].limit) + 1) {
    out = &b;
    sc = BlockShortcut{lin, lookup_epoch, &b};
    return {};
  }
  // Decode a new block: up to kMaxBlockInsns, ending at a control transfer,
  // at the page end, or before an instruction that crosses the page.
  if (arena_used + kMaxBlockInsns + 2 > arena.size()) flush_blocks();
  note_code_page(page);
  Block nb;
  nb.phys = phys;
  nb.mode = mode;
  nb.gen = page_gen[page];
  nb.first = uint32_t(arena_used);
  uint32_t eip = s.eip;
  for (unsigned n = 0; n < kMaxBlockInsns; ++n) {
    Insn in;
    if (auto f = decode(eip, in)) {
      if (n == 0) return f;  // the fault belongs to this very instruction
      break;
    }
    const uint32_t start_off = (lin & 0xFFF) + (eip - s.eip);
    if (start_off + in.len > 4096 || eip + in.len - 1 > s.seg[CS].limit) {
      if (n == 0) return {};  // a page-crossing first instruction runs uncached
      break;
    }
    arena[arena_used + n] = in;
    ++nb.count;
    nb.bytes = uint16_t(nb.bytes + in.len);
    eip += in.len;
    if (in.end || start_off + in.len == 4096) break;
  }
  if (nb.count == 0) return {};
  Insn& sentinel = arena[arena_used + nb.count];
  sentinel = Insn{};
  sentinel.fn = end_of_block;
  sentinel.chained = continue_to_next_block;
  arena_used += nb.count + 1;
  if (b.phys != 0xFFFFFFFF) ++lookup_epoch;  // evicting: shortcuts to the slot's old block die
  b = nb;
  out = &b;
  sc = BlockShortcut{lin, lookup_epoch, &b};
  return {};
}

// One instruction with everything the fast path leaves out: interrupt
// shadow, the TF single-step trap, per-instruction events, uncached decode.
void Core::execute_insn_with_trap(const Insn& in) {
  const bool trap = s.eflags & flag::TF;
  const bool shadow = s.interrupt_shadow;
  const uint32_t eip = s.eip;
  const uint16_t cs = s.seg[CS].selector;
  s.eip += in.len;
  Fault f = in.fn(*this, in);
  if (f) {
    s.eip = eip;  // faults leave EIP on the faulting instruction
    raise(f);
    return;
  }
  ++icount;
  if (shadow) s.interrupt_shadow = false;
  if (log.wants(trace::EventKind::InsnRetired)) log.emit(trace::EventKind::InsnRetired, now(), eip, cs, in.len);
  // Single-step trap after the instruction (SDM Vol. 3 §17.3.1.4). Software
  // interrupts clear TF on delivery, so they do not trap here.
  const bool software_int = in.row != 0xFFFF && (opcode_table()[in.row].mnemonic == Mnemonic::INT ||
                                                 opcode_table()[in.row].mnemonic == Mnemonic::INT3 ||
                                                 opcode_table()[in.row].mnemonic == Mnemonic::INTO);
  if (trap && !software_int) {
    s.dr[6] |= 1u << 14;  // BS: the #DB came from single-stepping
    raise(fault(vec::DB));  // a trap: EIP already points past the instruction
  }
}

Fault Core::step_one() {
  Insn in;
  if (auto f = decode(s.eip, in)) return f;
  execute_insn_with_trap(in);
  return {};
}

RunStop Core::run(uint64_t budget) {
  const uint64_t end = icount + budget;
  stop_requested = false;
  stop_reason = RunStop::Budget;
  unsupported_what = nullptr;
  if (inject_pending && deliver_injected_event() && stop_requested) return stop_reason;
  while (icount < end) {
    update_attention();
    if (attention) {
      if (stop_requested) return stop_reason;
      if (interrupt_ready()) {
        service_interrupt();
        if (stop_requested) return stop_reason;
        continue;
      }
      if (s.halted) return RunStop::Halted;
      // Interrupt shadow, TF, or instruction tracing: one careful step.
      if (auto f = step_one()) raise(f);
      if (stop_requested) return stop_reason;
      continue;
    }
    const Block* b;
    if (auto f = lookup_block(b)) {
      raise(f);
      continue;
    }
    if (!b) {
      if (auto f = step_one()) raise(f);
      continue;
    }
    // The fast path: run the block's instructions back to back, threaded
    // (each handler jumps to the next) when the whole block fits the budget.
    const Insn* p = &arena[b->first];
    if (b->count <= end - icount) {
      run_end = end;
      chain_left = kChainBlocks;
      if (Fault f = p->chained(*this, *p)) raise(f);
      continue;
    }
    const uint64_t n = end - icount;
    // EIP is advanced before each handler runs: handlers see the address of
    // the next instruction (the return address for CALL and INT, the base of
    // relative jumps) and set EIP themselves only to transfer control. A
    // fault puts EIP back on the faulting instruction.
    for (uint64_t k = 0; k < n; ++k) {
      const Insn& in = p[k];
      const uint32_t at = s.eip;
      s.eip = at + in.len;
      if (Fault f = in.fn(*this, in)) {
        s.eip = at;
        raise(f);
        break;
      }
      ++icount;
      if (attention) break;  // END instructions are always the last of a block
    }
  }
  return stop_requested ? stop_reason : RunStop::Budget;
}

// ------------------------------------------------------------ public API ----

const char* run_stop_name(RunStop r) {
  switch (r) {
    case RunStop::Budget: return "budget";
    case RunStop::Halted: return "halted";
    case RunStop::Shutdown: return "shutdown";
    case RunStop::Unsupported: return "unsupported";
    case RunStop::Requested: return "requested";
    case RunStop::Hook: return "hook";
    case RunStop::VmExit: return "vm-exit";
  }
  return "?";
}

Cpu::Cpu(MemoryBus& memory, IoBus& io, trace::EventLog& log, CpuConfig config)
    : core_(std::make_unique<Core>(memory, io, log, config)) {
  reset();
}

Cpu::~Cpu() = default;

void Cpu::reset(ResetCause cause) {
  Core& c = *core_;
  const uint32_t was_at = c.s.eip;
  CpuState s;
  s.seg[CS].selector = 0xF000;
  s.seg[CS].base = 0xFFFF0000;  // the reset vector lies at FFFFFFF0 (SDM Vol. 3 §9.1.4)
  s.seg[CS].attr = 0x009B;
  s.eip = 0xFFF0;
  s.gpr[EDX] = 0x00000610;      // processor signature after reset
  s.ldtr.attr = 0x0082;
  s.ldtr.limit = 0xFFFF;
  s.tr.attr = 0x008B;
  s.tr.limit = 0xFFFF;
  set_state(s);
  if (cause == ResetCause::PowerOn) c.icount = 0;
  c.emit(trace::EventKind::Reset, uint64_t(cause), cause == ResetCause::PowerOn ? s.eip : was_at);
}

RunStop Cpu::run(uint64_t max_instructions) { return core_->run(max_instructions); }

RunStop Cpu::step() {
  Core& c = *core_;
  c.stop_requested = false;
  c.stop_reason = RunStop::Budget;
  c.update_attention();
  if (c.inject_pending && c.deliver_injected_event()) return c.stop_requested ? c.stop_reason : RunStop::Budget;
  if (c.interrupt_ready()) {
    c.service_interrupt();
    return c.stop_requested ? c.stop_reason : RunStop::Budget;
  }
  if (c.s.halted) return RunStop::Halted;
  if (auto f = c.step_one()) c.raise(f);
  return c.stop_requested ? c.stop_reason : RunStop::Budget;
}

CpuState Cpu::state() const {
  CpuState s = core_->s;
  s.eflags = core_->eflags();
  return s;
}

void Cpu::set_state(const CpuState& state) {
  load_state(state);
  core_->flush_tlb();
  core_->flush_blocks();
}

// Decoded blocks are keyed by physical address, mode and the page's code
// generation, so new register values leave them valid; the TLB goes only
// when the paging registers changed, the shortcuts always (CS or CPL may).
void Cpu::resume_with(const CpuState& state) {
  Core& c = *core_;
  const bool paging = state.cr0 != c.s.cr0 || state.cr3 != c.s.cr3 || state.cr4 != c.s.cr4;
  load_state(state);
  if (paging) c.flush_tlb();
  ++c.lookup_epoch;
  c.attention = true;
}

void Cpu::load_state(const CpuState& state) {
  Core& c = *core_;
  c.s = state;
  c.lazy_mask = 0;
  c.s.eflags = (c.s.eflags | flag::kFixed1) & ~(1u << 3 | 1u << 5 | 1u << 15 | 0xFFC00000u);
  // The 80286 in real mode has no IOPL/NT: FLAGS bits 12-15 always read 0.
  if (c.config.model == CpuModel::I286 && !(c.s.cr0 & cr0::PE)) c.s.eflags &= 0xFFFF0FFFu;
  for (unsigned seg = 0; seg < kSegCount; ++seg) c.set_segment_cache(seg, c.s.seg[seg]);
  if (!(c.s.cr0 & cr0::PE)) c.s.cpl = 0;
  else if (c.s.eflags & flag::VM) c.s.cpl = 3;
}

uint64_t Cpu::instructions() const { return core_->icount; }
void Cpu::set_instructions(uint64_t icount) { core_->icount = icount; }
const char* Cpu::unsupported_feature() const { return core_->unsupported_what; }
void Cpu::set_translator(Translator* t) {
  core_->translator = t;
  core_->flush_tlb();
}
void Cpu::set_interrupt_controller(InterruptController* pic) { core_->pic = pic; }
void Cpu::set_irq(bool asserted) {
  core_->irq_line = asserted;
  core_->attention = true;
}
void Cpu::raise_nmi() {
  core_->nmi_pending = true;
  core_->attention = true;
}
void Cpu::set_hooks(CpuHooks* hooks) { core_->hooks = hooks; }
void Cpu::set_a20_mask(uint32_t mask) {
  core_->a20_mask = mask;
  core_->flush_tlb();
  core_->flush_blocks();
}
void Cpu::invalidate_code(uint32_t phys, uint32_t length) {
  Core& c = *core_;
  if (length == 0) return;
  for (uint64_t p = phys >> 12; p <= (uint64_t(phys) + length - 1) >> 12 && p < c.page_gen.size(); ++p) {
    ++c.page_gen[p];
    c.code_page[p] = 0;
  }
  ++c.lookup_epoch;
  c.attention = true;
}
void Cpu::flush_tlb() { core_->flush_tlb(); }
void Cpu::request_stop() {
  core_->stop_requested = true;
  core_->stop_reason = RunStop::Requested;
  core_->attention = true;
}

}  // namespace vs::cpu
