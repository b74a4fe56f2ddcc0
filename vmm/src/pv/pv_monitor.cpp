#include "pv_monitor.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "../descriptors.h"
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/paging.h"

namespace vs::vmm {

using cpu::CpuState;
using cpu::HookAction;

namespace {

constexpr uint8_t kPageFault = 14, kGeneralProtection = 13;
constexpr uint8_t kUpcallVector = 0x30;  // how upcalls are named in events (the guest's VECTOR_EVENT_UPCALL)
constexpr unsigned kSourceTimer = 1, kSourceConsole = 2;
constexpr uint32_t kPresent = 1, kWritable = 2;

}  // namespace

PvMonitor::PvMonitor(VmmHost host, uint32_t guest_ram_bytes)
    : host_(host),
      guest_ram_(guest_ram_bytes),
      machine_(host.memory.ram(), 0, host.guest_base() + guest_ram_bytes),
      linear_(machine_, host.log),
      frames_(host.memory.ram(), host.guest_base(), guest_ram_bytes, host.at(kHoleTable) | kPresent | kWritable) {
  timer_ = host.scheduler.add("pv-timer", [this] { tick(); });
}

PvMonitor::~PvMonitor() = default;

GuestPaging PvMonitor::paging() const {
  const CpuState& s = host_.cpu.state();
  return GuestPaging{s.cr0, s.cr3, s.cr4};
}

// The domain builder (Xen's xc_dom_*): the kernel in the domain's memory,
// the start-info, shared-info and console pages in its low memory, boot page tables that map the domain 1:1 from
// linear 0, and the hypervisor's hole, then the kernel entered at ring 1
// with paging on and events masked.
bool PvMonitor::boot(const devices::MultibootImage& image, CpuState& s, std::string& error) {
  if (guest_ram_ < (4u << 20) || guest_ram_ > (128u << 20)) {
    error = "the pv VMM runs domains of 4 to 128 MiB";
    return false;
  }
  const devices::MultibootResult r = load_into_vm(image, host_, guest_ram_);
  if (!r.ok) {
    error = r.error;
    return false;
  }
  uint8_t* ram = host_.memory.ram();
  uint8_t* guest = ram + host_.guest_base();
  // Low memory the kernel maps but never allocates (below the Multiboot
  // information at 0x9000; page 0 stays the null page).
  const uint32_t start_info = 0x1000, shared = 0x2000;
  console_gpa_ = 0x3000;
  std::memset(guest + start_info, 0, 0x4000);  // and the block ring at kBlkRingGpa

  events_ = std::make_unique<EventChannels>(reinterpret_cast<pv_shared_info*>(guest + shared));
  console_port_ = events_->allocate();
  blk_port_ = events_->allocate();
  pv_start_info info{};
  std::memcpy(info.magic, PV_START_MAGIC, sizeof PV_START_MAGIC);
  info.nr_pages = guest_ram_ / 0x1000;
  info.shared_info = shared;
  info.console_ring = console_gpa_;
  info.console_port = console_port_;
  info.machine_base = host_.guest_base();
  info.blk_ring = kBlkRingGpa;
  info.blk_port = blk_port_;
  info.disk_sectors = host_.disk ? uint32_t(std::min<uint64_t>(host_.disk->size() / 512, 1u << 28)) : 0;
  std::memcpy(guest + start_info, &info, sizeof info);

  // The hole: GDT, IDT and TSS, read-only to the guest (ring 1 is
  // supervisor, so CR0.WP makes that hold for it).
  auto* hole = reinterpret_cast<uint32_t*>(host_.host(kHoleTable));
  std::memset(hole, 0, 0x1000);
  for (uint32_t i = 0; i < 4; ++i) hole[i] = host_.at(kRealGdt + i * 0x1000) | kPresent;
  std::memset(host_.host(kRealGdt), 0, 0x4000);
  auto* gdt = reinterpret_cast<uint64_t*>(host_.host(kRealGdt));
  // Until the guest registers its own: flat ring-1 code (0x08) and data (0x10), limit below the hole.
  const uint64_t limit = (kHoleBase >> 12) - 1;
  const uint64_t flat = (limit & 0xFFFF) | ((limit >> 16) & 0xF) << 48 | uint64_t(0xC) << 52;
  gdt[1] = flat | uint64_t(0xBB) << 40;  // P, DPL 1, code execute/read, accessed
  gdt[2] = flat | uint64_t(0xB3) << 40;  // P, DPL 1, data read/write, accessed
  // The real TSS: ring-1 stack set by stack_switch; no I/O bitmap.
  const uint32_t tss_linear = kHoleBase + 0x3000;
  gdt[kTssSelector >> 3] = 103 | uint64_t(tss_linear & 0xFFFFFF) << 16 | uint64_t(0x8B) << 40 |
                           uint64_t(tss_linear >> 24) << 56;
  const uint16_t iomap = 104;
  std::memcpy(host_.host(kRealTss) + 102, &iomap, 2);

  // Boot tables: linear [0, RAM) -> machine kGuestBase + the same offset.
  auto* dir = reinterpret_cast<uint32_t*>(host_.host(kBootDirectory));
  std::memset(dir, 0, 0x1000);
  for (uint32_t t = 0; t < guest_ram_ >> 22; ++t) {
    auto* table = reinterpret_cast<uint32_t*>(host_.host(kBootTables + t * 0x1000));
    for (uint32_t i = 0; i < 1024; ++i) table[i] = (host_.guest_base() + (t << 22) + (i << 12)) | kPresent | kWritable;
    dir[t] = host_.at(kBootTables + t * 0x1000) | kPresent | kWritable;
  }
  dir[FrameTable::kHypervisorSlot] = host_.at(kHoleTable) | kPresent | kWritable;

  s = CpuState{};
  s.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP | cpu::cr0::ET;
  s.cr3 = host_.at(kBootDirectory);
  s.gdtr = {kHoleBase, 0x1FFF};
  s.idtr = {kHoleBase + 0x2000, 0x7FF};  // all gates absent but the system call's: the hooks see the rest
  s.eflags = cpu::flag::kFixed1 | cpu::flag::IF;  // the real IF stays on: the guest's is upcall_mask
  s.eip = r.entry;
  s.gpr[cpu::EAX] = 0x2BADB002;
  s.gpr[cpu::EBX] = r.info;
  s.gpr[cpu::ESI] = start_info;
  s.cpl = 1;
  real_segment(0x09, s.seg[cpu::CS]);
  for (unsigned seg : {cpu::SS, cpu::DS, cpu::ES, cpu::FS, cpu::GS}) real_segment(0x11, s.seg[seg]);
  s.tr = {kTssSelector, tss_linear, 103, 0x8B};
  s.ldtr = {};
  return true;
}

void PvMonitor::attach() {
  attached_ = true;
  host_.cpu.set_hooks(this);
  host_.cpu.set_interrupt_controller(this);
  host_.log.set_context(host_.vm, 0);
  host_.cpu.set_irq(raised_ != 0);
}

void PvMonitor::detach() {
  attached_ = false;
  host_.cpu.set_irq(false);
  host_.cpu.set_hooks(nullptr);
}

// Code and data only: what a guest may name as CS or SS.
bool PvMonitor::real_segment(uint16_t selector, cpu::Segment& out) const {
  return segment_in_table(host_.host(kRealGdt), 0x2000, selector, out) && !out.is_system();
}

// The guest's interrupt flag is its upcall mask; its CR3 is the real one
// (its own directory), its CR2 the one in the shared-info page. Its
// descriptor tables are registered, not loaded: no GDTR/IDTR of its own.
VirtualCpu PvMonitor::vcpu(const CpuState& real) const {
  VirtualCpu v;
  if (!events_) return v;
  pv_shared_info& shared = events_->shared();
  v.interrupts_enabled = !shared.upcall_mask;
  v.paging = GuestPaging{real.cr0, real.cr3, real.cr4};
  v.cr2 = shared.cr2;
  v.halted = real.halted;
  v.interrupt_pending = shared.upcall_pending || raised_;
  return v;
}

// ------------------------------------------------------------ events ----

// The VMM's timer: a physical interrupt into the hypervisor every 10 ms,
// which sets the timer port pending.
void PvMonitor::tick() {
  host_.scheduler.schedule(timer_, host_.scheduler.now() + kTimerPeriod);
  events_->shared().system_time = host_.scheduler.now() * 10;
  raise(kSourceTimer);
}

void PvMonitor::raise(unsigned source) {
  raised_ |= source;
  if (attached_) host_.cpu.set_irq(true);
}

uint8_t PvMonitor::acknowledge() {
  acknowledged_ = raised_ ? raised_ : 0x100;  // 0x100: acknowledged, nothing left (spurious)
  raised_ = 0;
  host_.cpu.set_irq(false);
  return 0x20;
}

// An upcall is a bounce to the registered callback with events masked.
void PvMonitor::deliver_upcall_if_due(CpuState& s) {
  if (!events_ || !events_->upcall_due() || !callback_eip_) return;
  if (!bounce(s, kUpcallVector, false, 0, callback_cs_, callback_eip_, true, 0)) {
    fail("cannot deliver an event upcall: the guest's stack is not mapped");
    return;
  }
  ++stats_.upcalls;
}

bool PvMonitor::console_ready() const {
  if (!events_ || events_->masked(console_port_)) return false;
  const auto* ring = reinterpret_cast<const pv_console_ring*>(host_.memory.ram() + host_.guest_base() + console_gpa_);
  return ring->in_prod - ring->in_cons < sizeof ring->in;
}

void PvMonitor::console_receive(uint8_t byte) {
  auto* ring = reinterpret_cast<pv_console_ring*>(host_.memory.ram() + host_.guest_base() + console_gpa_);
  ring->in[ring->in_prod % sizeof ring->in] = char(byte);
  ++ring->in_prod;
  record_io_request(host_, stats_, console_port_, byte, true);
  raise(kSourceConsole);
}

// ------------------------------------------------------------ bounces ----

// What the processor does for a gate, done by the VMM for the guest's
// handler: on an entry from ring 3 the ring-1 stack from stack_switch; the
// frame (EFLAGS with IF = events unmasked, CS, EIP, the error code); the
// handler entered at ring 1; events masked for an interrupt gate.
bool PvMonitor::bounce(CpuState& s, uint8_t vector, bool has_error, uint32_t error, uint16_t cs, uint32_t eip,
                       bool mask_events, unsigned source) {
  uint32_t frame[6];
  unsigned n = 0;
  uint32_t esp = s.gpr[cpu::ESP];
  cpu::Segment ss = s.seg[cpu::SS];
  if (s.cpl == 3) {
    uint32_t esp1 = 0, ss1 = 0;
    std::memcpy(&esp1, host_.host(kRealTss) + 12, 4);
    std::memcpy(&ss1, host_.host(kRealTss) + 16, 4);
    if (!real_segment(uint16_t(ss1), ss)) return false;
    frame[n++] = s.seg[cpu::SS].selector;
    frame[n++] = esp;
    esp = esp1;
  }
  pv_shared_info& shared = events_->shared();
  frame[n++] = (s.eflags & ~cpu::flag::IF) | (shared.upcall_mask ? 0 : cpu::flag::IF);
  frame[n++] = s.seg[cpu::CS].selector;
  frame[n++] = s.eip;
  if (has_error) frame[n++] = error;
  uint32_t stacked[6];
  for (unsigned i = 0; i < n; ++i) stacked[i] = frame[n - 1 - i];
  esp -= n * 4;
  if (!linear_.write(ss.base + esp, stacked, n * 4, paging())) return false;
  cpu::Segment code;
  if (!real_segment(cs, code)) return false;
  s.seg[cpu::CS] = code;
  s.seg[cpu::SS] = ss;
  s.gpr[cpu::ESP] = esp;
  s.eip = eip;
  s.cpl = 1;
  s.eflags &= ~(cpu::flag::TF | cpu::flag::NT | cpu::flag::RF);
  s.halted = false;
  if (mask_events) shared.upcall_mask = 1;
  host_.log.emit(trace::EventKind::VirtualInterrupt, now(), vector, source, eip, cs);
  ++stats_.reflected;
  return true;
}

bool PvMonitor::bounce_to_handler(CpuState& s, uint8_t vector, bool has_error, uint32_t error, unsigned source) {
  const TrapEntry& t = traps_[vector];
  if (!t.present) return false;
  return bounce(s, vector, has_error, error, t.cs, t.address, t.flags & PV_TI_MASK_EVENTS, source);
}

void PvMonitor::exit(ExitReason reason, uint32_t qualification, const CpuState& s) {
  ++stats_.exits[reason];
  host_.log.emit(trace::EventKind::VmExit, now(), uint64_t(reason), qualification, s.eip, s.seg[cpu::CS].selector);
}

HookAction PvMonitor::fail(const std::string& why) {
  if (failure_.empty()) failure_ = "pv VMM: " + why;
  host_.cpu.request_stop();
  return HookAction::Stop;
}

// Exceptions all pass through the VMM (Barham et al. §2: handlers are the
// guest's, the page fault's CR2 is written to the shared-info page).
HookAction PvMonitor::on_exception(uint8_t vector, bool has_error, uint32_t error_code) {
  CpuState s = host_.cpu.state();
  exit(ExitReason::ExceptionOrNmi, vector, s);
  if (vector == kPageFault) {
    events_->shared().cr2 = s.cr2;
    ++stats_.guest_page_faults;
  }
  if (!bounce_to_handler(s, vector, has_error, error_code, 2)) {
    char where[64];
    std::snprintf(where, sizeof where, " at eip 0x%08x", s.eip);
    const bool no_table = std::none_of(traps_.begin(), traps_.end(), [](const TrapEntry& t) { return t.present; });
    return fail("the guest cannot take exception " + std::to_string(vector) + where +
                (no_table ? ": it registered no trap table (is it the paravirtual build, vs_kernel_pv.elf?)"
                          : " (no handler, or its stack is not mapped): the domain is destroyed"));
  }
  host_.cpu.resume_with(s);
  return HookAction::Handled;
}

HookAction PvMonitor::on_interrupt(uint8_t vector) {
  CpuState s = host_.cpu.state();
  if (acknowledged_) {  // the VMM's own interrupt
    const unsigned sources = acknowledged_;
    acknowledged_ = 0;
    exit(ExitReason::ExternalInterrupt, vector, s);
    if (sources & kSourceTimer) events_->send(timer_port_);
    if (sources & kSourceConsole) events_->send(console_port_);
    deliver_upcall_if_due(s);
  } else if (vector == PV_HYPERCALL_VECTOR && s.cpl == 1) {
    s.gpr[cpu::EAX] = uint32_t(hypercall(s));
    if (!failure_.empty()) return HookAction::Stop;
    deliver_upcall_if_due(s);
  } else if (vector == 0x80 && s.cpl == 3 && real_syscall_gate_) {
    ++stats_.syscalls;
    return HookAction::Deliver;  // the real gate: straight into the guest kernel, no VMM transition
  } else {
    // INT n of another vector: the trap table's privilege check, as a gate's DPL.
    exit(ExitReason::SoftwareInterrupt, vector, s);
    const TrapEntry& t = traps_[vector];
    const bool allowed = t.present && s.cpl <= (t.flags & 3u);
    if (!(allowed ? bounce_to_handler(s, vector, false, 0, 1)
                  : bounce_to_handler(s, kGeneralProtection, true, vector * 8u + 2, 2)))
      return fail("the guest cannot take INT " + std::to_string(vector));
  }
  if (!failure_.empty()) return HookAction::Stop;
  host_.cpu.resume_with(s);
  return HookAction::Handled;
}

}  // namespace vs::vmm
