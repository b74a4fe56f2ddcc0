// The pv VMM's hypercalls (pv_abi.h; Xen's numbers and meanings, the
// differences listed in docs/modes/pv.md). Arguments are guest-linear
// addresses, read through the guest's own (real) page tables.
#include <cerrno>
#include <cstring>

#include "pv_monitor.h"
#include "../descriptors.h"
#include "virtscope/cpu/state.h"
#include "virtscope/devices/debug_ports.h"

namespace vs::vmm {

using cpu::CpuState;

namespace {
constexpr uint32_t kMaxBatch = 512;  // requests per mmu_update/mmuext_op call
constexpr uint32_t kMaxGdtEntries = 512;
}  // namespace

int32_t PvMonitor::hypercall(CpuState& s) {
  const uint32_t nr = s.gpr[cpu::EAX], a1 = s.gpr[cpu::EBX], a2 = s.gpr[cpu::ECX], a3 = s.gpr[cpu::EDX];
  ++stats_.hypercalls[nr];
  int32_t r;
  switch (nr) {
    case PV_HC_set_trap_table: r = set_trap_table(a1); break;
    case PV_HC_mmu_update: r = mmu_update(a1, a2, a3); break;
    case PV_HC_set_gdt: r = set_gdt(a1, a2); break;
    case PV_HC_stack_switch: r = stack_switch(uint16_t(a1), a2); break;
    case PV_HC_set_callbacks: {
      cpu::Segment code;
      if ((a1 & 3) == 0 || !real_segment(uint16_t(a1), code)) {
        r = -EINVAL;
        break;
      }
      callback_cs_ = uint16_t(a1);
      callback_eip_ = a2;
      r = 0;
      break;
    }
    case PV_HC_update_va_mapping: r = update_va_mapping(a1, a2, a3); break;
    case PV_HC_xen_version: r = 0x00010000; break;  // 1.0; also the guest's way to take a pending upcall
    case PV_HC_mmuext_op: r = mmuext_op(s, a1, a2, a3); break;
    case PV_HC_sched_op: r = sched_op(s, a1, a2); break;
    case PV_HC_event_channel_op: r = event_channel_op(a1, a2); break;
    default: r = -ENOSYS;
  }
  host_.log.emit(trace::EventKind::Hypercall, now(), nr, a1, a2, uint64_t(int64_t(r)));
  return r;
}

// Handlers must not run at ring 0 (Barham et al. §2, the only check). The
// system call's entry becomes a real trap gate when user mode may raise it.
int32_t PvMonitor::set_trap_table(uint32_t table) {
  std::array<TrapEntry, 256> traps{};
  for (unsigned i = 0; i < 256; ++i) {
    pv_trap_info t;
    if (!read(table + i * sizeof t, t)) return -EFAULT;
    if (t.address == 0) break;
    cpu::Segment code;
    if ((t.cs & 3) == 0 || !real_segment(t.cs, code)) return -EPERM;
    traps[t.vector] = {true, t.flags, t.cs, t.address};
  }
  traps_ = traps;
  uint64_t gate = 0;
  const TrapEntry& sys = traps_[0x80];
  real_syscall_gate_ = sys.present && (sys.flags & 3) == 3;
  if (real_syscall_gate_)  // a 32-bit trap gate (type 0xF), DPL 3 (SDM Vol. 3A §6.11)
    gate = (sys.address & 0xFFFF) | uint64_t(sys.cs) << 16 | uint64_t(0xEF) << 40 |
           uint64_t(sys.address >> 16) << 48;
  std::memcpy(host_.host(kRealIdt) + 0x80 * 8, &gate, 8);
  host_.cpu.flush_tlb();
  return 0;
}

int32_t PvMonitor::mmu_update(uint32_t requests, uint32_t count, uint32_t done) {
  if (count > kMaxBatch) return -EINVAL;
  uint32_t i = 0;
  int32_t r = 0;
  for (; i < count; ++i) {
    pv_mmu_update u;
    if (!read(requests + i * sizeof u, u)) {
      r = -EFAULT;
      break;
    }
    if ((r = frames_.update(u.ptr, u.val)) != 0) break;
    ++stats_.pte_updates;
  }
  if (done) write(done, i);
  return r;
}

// Code and data descriptors of ring 1 or 3 only; limits are cut below the
// hypervisor's hole (as Xen truncates flat segments of 32-bit guests).
int32_t PvMonitor::set_gdt(uint32_t table, uint32_t entries) {
  if (entries == 0 || entries > kMaxGdtEntries) return -EINVAL;
  std::vector<uint64_t> d(entries);
  if (!linear_.read(table, d.data(), entries * 8, paging())) return -EFAULT;
  for (uint32_t i = 1; i < entries; ++i) {
    uint64_t& e = d[i];
    if (!((e >> 47) & 1)) {
      e = 0;
      continue;
    }
    const bool code_or_data = (e >> 44) & 1;
    if (!code_or_data || ((e >> 45) & 3) == 0) return -EINVAL;
    if (!limit_below(e, kHoleBase)) return -EINVAL;
    e |= uint64_t(1) << 40;  // accessed: the CPU need not write the read-only table
  }
  uint8_t* real = host_.host(kRealGdt);
  std::memset(real, 0, (kTssSelector >> 3) * 8);
  std::memcpy(real + 8, d.data() + 1, (entries - 1) * 8);
  return 0;
}

int32_t PvMonitor::stack_switch(uint16_t ss, uint32_t esp) {
  cpu::Segment seg;
  if ((ss & 3) != 1 || !real_segment(ss, seg) || (seg.attr & 0x18) != 0x10) return -EINVAL;
  uint8_t* tss = host_.host(kRealTss);
  const uint32_t ss32 = ss;
  std::memcpy(tss + 12, &esp, 4);
  std::memcpy(tss + 16, &ss32, 4);
  return 0;
}

// The entry that maps `linear` in the loaded tables, changed and validated
// like an mmu_update, with its TLB entry dropped (UVMF_INVLPG).
int32_t PvMonitor::update_va_mapping(uint32_t linear, uint32_t value, uint32_t flags) {
  const uint32_t cr3 = host_.cpu.state().cr3 & ~0xFFFu;
  uint32_t pde;
  std::memcpy(&pde, host_.memory.ram() + cr3 + (linear >> 22) * 4, 4);
  if (!(pde & 1) || !frames_.is(cr3, FrameTable::Type::L2)) return -EINVAL;
  const int r = frames_.update((pde & ~0xFFFu) + ((linear >> 12) & 0x3FF) * 4, value);
  if (r) return r;
  ++stats_.pte_updates;
  if (flags & PV_UVMF_INVLPG) {
    host_.mmu.invalidate_page(linear);
    host_.cpu.flush_tlb();
  }
  return 0;
}

int32_t PvMonitor::mmuext_op(CpuState& s, uint32_t ops, uint32_t count, uint32_t done) {
  if (count > kMaxBatch) return -EINVAL;
  uint32_t i = 0;
  int32_t r = 0;
  for (; i < count && r == 0; ++i) {
    pv_mmuext_op op;
    if (!read(ops + i * sizeof op, op)) {
      r = -EFAULT;
      break;
    }
    switch (op.cmd) {
      case PV_MMUEXT_PIN_L1_TABLE: r = frames_.pin(op.arg, FrameTable::Type::L1); break;
      case PV_MMUEXT_PIN_L2_TABLE: r = frames_.pin(op.arg, FrameTable::Type::L2); break;
      case PV_MMUEXT_UNPIN_TABLE: r = frames_.unpin(op.arg, s.cr3); break;
      case PV_MMUEXT_NEW_BASEPTR:
        if (!frames_.is(op.arg & ~0xFFFu, FrameTable::Type::L2)) {
          r = -EINVAL;
          break;
        }
        s.cr3 = op.arg & ~0xFFFu;  // resume_with() flushes the TLB for the new CR3
        host_.mmu.flush(false);
        break;
      case PV_MMUEXT_TLB_FLUSH_LOCAL: host_.mmu.flush(false); host_.cpu.flush_tlb(); break;
      case PV_MMUEXT_INVLPG_LOCAL: host_.mmu.invalidate_page(op.arg); host_.cpu.flush_tlb(); break;
      default: r = -ENOSYS;
    }
    if (r) --i;
  }
  if (done) write(done, i);
  return r;
}

int32_t PvMonitor::sched_op(CpuState& s, uint32_t cmd, uint32_t arg) {
  switch (cmd) {
    case PV_SCHEDOP_yield: return 0;
    case PV_SCHEDOP_block:
      // Events on; sleep unless one is already waiting (then the upcall
      // follows this hypercall at once).
      events_->shared().upcall_mask = 0;
      if (!events_->upcall_due()) s.halted = true;
      return 0;
    case PV_SCHEDOP_shutdown:
      if (host_.guest_exit) host_.guest_exit(devices::DebugExit::status_for(arg & 0xFF));
      return 0;
    default: return -ENOSYS;
  }
}

int32_t PvMonitor::event_channel_op(uint32_t cmd, uint32_t op) {
  switch (cmd) {
    case PV_EVTCHNOP_bind_virq: {
      pv_evtchn_bind_virq b;
      if (!read(op, b)) return -EFAULT;
      if (b.virq != PV_VIRQ_TIMER) return -EINVAL;
      if (!timer_port_) {
        timer_port_ = events_->allocate();
        host_.scheduler.schedule(timer_, host_.scheduler.now() + kTimerPeriod);
      }
      b.port = timer_port_;
      return write(op, b) ? 0 : -EFAULT;
    }
    case PV_EVTCHNOP_send: {
      uint32_t port;
      if (!read(op, port)) return -EFAULT;
      if (port == console_port_) drain_console();
      else if (port == blk_port_ && events_->bound(port)) serve_block_ring();
      else return -EINVAL;  // the backends are the only other ends here
      return 0;
    }
    default: return -ENOSYS;
  }
}

}  // namespace vs::vmm
