// The paravirtual VMM (DESIGN.md §4 "pv"; SEMANTICS.md §8, Barham et al.
// 2003): a small Xen for the pv build of the teaching kernel, which runs at
// ring 1 and asks for everything privileged by hypercall (`int $0x82`,
// vmm/include/virtscope/vmm/pv_abi.h, docs/modes/pv.md).
//  - The guest's page tables are the real ones: they hold machine addresses,
//    the real CR3 points at the guest's directory, and every change is
//    validated (FrameTable) — no shadow tables, no hidden page faults.
//  - Exceptions reach the VMM first (CpuHooks) and bounce to the handlers
//    of the guest's trap table; page faults carry CR2 in the shared-info
//    page. The guest's `int $0x80` is a real gate: no VMM transition.
//  - Interrupts are events: the VMM's timer sets an event-channel bit and
//    calls the guest back (an upcall) unless it has masked events.
//  - The console is a ring in shared memory with event notifications.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "event_channels.h"
#include "frame_table.h"
#include "../shadow/guest_memory.h"
#include "../vm_host.h"
#include "../vm_monitor.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/vmm/pv_abi.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

class PvMonitor final : public VmMonitor, public cpu::CpuHooks, public cpu::InterruptController {
 public:
  // Host-physical layout below kGuestBase: the VMM's 4 MiB hole (its page
  // table, the real GDT, IDT and TSS) and the boot page tables.
  static constexpr uint32_t kHoleTable = 0x100000;
  static constexpr uint32_t kRealGdt = 0x101000;  // 2 pages, hole pages 0-1
  static constexpr uint32_t kRealIdt = 0x103000;  // hole page 2
  static constexpr uint32_t kRealTss = 0x104000;  // hole page 3
  static constexpr uint32_t kBootDirectory = 0x105000;
  static constexpr uint32_t kBootTables = 0x106000;  // one per 4 MiB of guest RAM
  static constexpr uint32_t kHoleBase = 0xFFC00000;
  static constexpr uint16_t kTssSelector = 0x1FF8;  // real GDT entry 1023
  static constexpr uint64_t kTimerPeriod = 1'000'000;  // 10 ms of virtual time: VIRQ_TIMER at 100 Hz

  PvMonitor(VmmHost host, uint32_t guest_ram_bytes);
  ~PvMonitor() override;

  // VmMonitor.
  bool boot(const devices::MultibootImage& image, cpu::CpuState& initial, std::string& error) override;
  void attach() override;
  void detach() override;
  bool wants_cpu() const override { return raised_ || (events_ && events_->upcall_due()); }
  const TrapStats& stats() const override { return stats_; }
  VirtualCpu vcpu(const cpu::CpuState& real) const override;
  const char* failure() const override { return failure_.empty() ? nullptr : failure_.c_str(); }
  // The guest's console input: the ring has room and the guest listens.
  bool console_ready() const override;
  void console_receive(uint8_t byte) override;

  // cpu::CpuHooks: every exception and interrupt reaches the VMM first.
  cpu::HookAction on_exception(uint8_t vector, bool has_error, uint32_t error_code) override;
  cpu::HookAction on_interrupt(uint8_t vector) override;
  // cpu::InterruptController: the VMM's own interrupt (timer, console input).
  uint8_t acknowledge() override;

 private:
  struct TrapEntry {
    bool present = false;
    uint8_t flags = 0;
    uint16_t cs = 0;
    uint32_t address = 0;
  };
  // Hypercalls (pv_hypercalls.cpp): each returns 0 or a negative errno.
  int32_t hypercall(cpu::CpuState& s);
  int32_t set_trap_table(uint32_t table);
  int32_t mmu_update(uint32_t requests, uint32_t count, uint32_t done);
  int32_t set_gdt(uint32_t table, uint32_t entries);
  int32_t stack_switch(uint16_t ss, uint32_t esp);
  int32_t update_va_mapping(uint32_t linear, uint32_t value, uint32_t flags);
  int32_t mmuext_op(cpu::CpuState& s, uint32_t ops, uint32_t count, uint32_t done);
  int32_t sched_op(cpu::CpuState& s, uint32_t cmd, uint32_t arg);
  int32_t event_channel_op(uint32_t cmd, uint32_t op);
  void drain_console();      // pv_backends.cpp
  void serve_block_ring();

  // Entering the guest kernel (Xen's create_bounce_frame).
  bool bounce(cpu::CpuState& s, uint8_t vector, bool has_error, uint32_t error, uint16_t cs, uint32_t eip,
              bool mask_events, unsigned source);
  bool bounce_to_handler(cpu::CpuState& s, uint8_t vector, bool has_error, uint32_t error, unsigned source);
  void deliver_upcall_if_due(cpu::CpuState& s);
  bool real_segment(uint16_t selector, cpu::Segment& out) const;
  void tick();
  void raise(unsigned source);
  void exit(ExitReason reason, uint32_t qualification, const cpu::CpuState& s);
  cpu::HookAction fail(const std::string& why);
  GuestPaging paging() const;
  template <typename T>
  bool read(uint32_t linear, T& out) const { return linear_.read(linear, &out, sizeof out, paging()); }
  template <typename T>
  bool write(uint32_t linear, const T& in) { return linear_.write(linear, &in, sizeof in, paging()); }
  trace::VirtualTime now() const {
    const uint64_t t = host_.cpu.instructions();
    return {t, t};
  }

  VmmHost host_;
  uint32_t guest_ram_;
  GuestPhysical machine_;  // all of host RAM: the guest's tables hold machine addresses
  GuestLinear linear_;
  FrameTable frames_;
  std::unique_ptr<EventChannels> events_;
  TrapStats stats_;
  std::string failure_;
  std::array<TrapEntry, 256> traps_{};
  bool real_syscall_gate_ = false;  // int $0x80 has a real IDT gate (set_trap_table)
  uint16_t callback_cs_ = 0;
  uint32_t callback_eip_ = 0;
  static constexpr uint32_t kBlkRingGpa = 0x4000;  // guest-physical: the block ring's page
  uint32_t console_gpa_ = 0, console_port_ = 0, timer_port_ = 0, blk_port_ = 0;
  uint32_t blk_req_cons_ = 0;  // the block backend's request index
  devices::Scheduler::Id timer_;
  // The VMM's interrupt line: why it is raised (bits: 1 timer, 2 console input).
  unsigned raised_ = 0;
  bool attached_ = false;  // the domain is on the real CPU
  unsigned acknowledged_ = 0;
};

}  // namespace vs::vmm
