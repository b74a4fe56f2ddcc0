// The Machine's life: build the board and the CPU, boot, and the run loop
// that advances the CPU and the device timers together in virtual time.
#include "virtscope/vmm/machine.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "board.h"
#include "hvm/hvm_monitor.h"
#include "pv/pv_monitor.h"
#include "serial_input.h"
#include "virtscope/vmm/kvm.h"
#include "trap/trap_monitor.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/firmware/bios.h"

namespace vs::vmm {

namespace {

// Host input reaches the guest one byte per kInputInterval instructions
// (0.1 ms of virtual time), only into an empty receive buffer, and only once
// the guest listens: it enabled the receive interrupt or polled the line
// status since the last byte (input sent before the guest set the UART up
// would be discarded by its initialisation). The same input therefore
// arrives at the same points every run.
constexpr uint64_t kInputInterval = 10'000;

// The VMM's time slice when several VMs share the CPU: 10 ms of virtual
// time (Xen's credit scheduler uses 30 ms, its 2003 BVT scheduler 5 ms).
constexpr uint64_t kTimeSlice = 1'000'000;
constexpr unsigned kMaxVms = 8;
constexpr uint64_t kMaxHostRam = 2ull << 30;  // below the PC's device windows

bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(f), {});
  if (f.bad()) {
    error = "cannot read " + path;
    return false;
  }
  return true;
}

}  // namespace

const char* machine_stop_name(MachineStop s) {
  switch (s) {
    case MachineStop::Budget: return "instruction limit";
    case MachineStop::GuestExit: return "guest exit (isa-debug-exit)";
    case MachineStop::Shutdown: return "shutdown (triple fault)";
    case MachineStop::Idle: return "idle forever (HLT with nothing to wake it)";
    case MachineStop::Unsupported: return "unsupported feature";
    case MachineStop::Requested: return "stop requested";
  }
  return "?";
}

Machine::Machine(const MachineConfig& config) : config_(config) {}
Machine::~Machine() = default;

std::unique_ptr<Machine> Machine::create(const MachineConfig& config, std::string& error) {
  std::unique_ptr<Machine> m = build(config, error);
  if (!m) return nullptr;
  if (!config.kernel.empty()) {
    if (!m->boot(error)) return nullptr;
  } else if (!m->map_bios(error)) {
    return nullptr;
  }
  return m;
}

// The machine without anything booted: board, CPU, wiring.
std::unique_ptr<Machine> Machine::build(const MachineConfig& config, std::string& error) {
  std::unique_ptr<Machine> m(new Machine(config));
  Machine* self = m.get();
  BoardWiring w;
  w.clock = [self] { return self->cpu_ ? self->cpu_->instructions() : 0; };
  w.intr = [self](bool level) {
    if (self->cpu_) self->cpu_->set_irq(level);
  };
  w.a20 = [self](bool enabled) {
    if (self->cpu_) self->cpu_->set_a20_mask(enabled ? 0xFFFFFFFFu : 0xFFEFFFFFu);
  };
  w.reset = [self] {
    self->reset_requested_ = true;
    if (self->cpu_) self->cpu_->request_stop();
  };
  w.guest_exit = [self](int status) {
    self->exit_status_ = status;
    self->exit_requested_ = true;
    if (self->cpu_) self->cpu_->request_stop();
  };
  // Under a VMM the host's RAM holds, for each VM, the VMM's own pages for
  // it and then the VM's RAM.
  using Vmm = MachineConfig::Vmm;
  MachineConfig host = config;
  const bool software_cpu_vmm = config.vmm != Vmm::None && config.vmm != Vmm::Kvm;
  if (config.vms < 1 || config.vms > kMaxVms || (config.vms > 1 && !software_cpu_vmm)) {
    error = "--vms: 1 to " + std::to_string(kMaxVms) + " VMs, and more than one only under trap, bt, pv, hvm or hvm-shadow";
    return nullptr;
  }
  if (config.vmm != Vmm::None) {
    const uint64_t total = uint64_t(config.vms) * (kGuestBase + uint64_t(config.ram_bytes));
    if (total > kMaxHostRam) {
      error = "the VMs need " + std::to_string(total >> 20) + " MiB of host RAM; at most " +
              std::to_string(kMaxHostRam >> 20) + " MiB (fewer VMs, or less -m)";
      return nullptr;
    }
    host.ram_bytes = uint32_t(total);
  }
  m->board_ = std::make_unique<Board>(host, m->log_, w);
  if (!m->board_->wire(error)) return nullptr;
  cpu::CpuConfig cpu_config;
  cpu_config.cpuid_features |= mmu::Mmu::kCpuidFeatures | cpu::cpuid_edx::APIC;
  m->cpu_ = std::make_unique<cpu::Cpu>(m->board_->memory, m->board_->ports, m->log_, cpu_config);
  m->cpu_->set_translator(&m->board_->mmu);
  m->cpu_->set_interrupt_controller(&m->board_->router);
  // Under a VMM the disks are the VMs' (each VM's starts as a copy of disk 0).
  if ((config.vmm == Vmm::None && !m->board_->attach_drives(config, error)) || !m->board_->place_mp_tables(error))
    return nullptr;
  m->board_->configure_cmos();
  m->board_->scheduler.on_earlier_deadline([self] { self->cpu_->request_stop(); });
  m->board_input_ = std::make_unique<SerialInputGate>();
  if (config.hosted && (config.vmm == Vmm::None || config.vmm == Vmm::Pv)) {
    error = config.vmm == Vmm::Pv ? "--hosted: Xen-style paravirtualization is a bare-metal (type-1) design"
                                  : "--hosted needs a VMM mode (trap, bt, hvm, hvm-shadow)";
    return nullptr;
  }
  if (config.vmm == Vmm::Kvm) {
    // The hosted path for real: the guest runs on the host's /dev/kvm,
    // with its devices in this process (vmm/src/kvm, docs/modes/kvm.md).
    m->kvm_ = std::make_unique<KvmMonitor>(m->log_, config.ram_bytes, config.serial_out[0]);
  } else if (software_cpu_vmm) {
    VmmHost prototype{*m->cpu_, m->board_->memory, m->board_->scheduler, m->log_, m->board_->mmu,
                      nullptr,  m->config_.serial_out[0], config.hosted,  0,         1,
                      nullptr};
    if (!config.drives[0].empty()) {
      auto image = std::make_shared<std::vector<uint8_t>>();
      if (!read_file(config.drives[0], *image, error)) return nullptr;
      prototype.disk = std::move(image);
    } else if (!config.disk_image.empty()) {
      prototype.disk = std::make_shared<const std::vector<uint8_t>>(config.disk_image);
    }
    if (!m->add_vms(prototype, error)) return nullptr;
  }
  m->input_timer_ = m->board_->scheduler.add("host-input", [self] { self->deliver_input(); });
  return m;
}

devices::PhysicalMemory& Machine::memory() { return board_->memory; }
devices::PortBus& Machine::ports() { return board_->ports; }
uint64_t Machine::now() const { return kvm_ ? kvm_->virtual_time() : cpu_->instructions(); }
const char* Machine::unsupported() const {
  for (const VmSlot& vm : vms_)
    if (vm.monitor->failure()) return vm.monitor->failure();
  if (kvm_ && kvm_->failure()) return kvm_->failure();
  return cpu_->unsupported_feature();
}

const TrapStats* Machine::trap_stats() const {
  if (kvm_) return &kvm_->stats();
  return vm_stats(0);
}
const TrapStats* Machine::vm_stats(size_t vm) const { return vm < vms_.size() ? &vms_[vm].monitor->stats() : nullptr; }
int Machine::vm_exit_status(size_t vm) const { return vm < vms_.size() ? vms_[vm].exit_status : -1; }
const mmu::MmuStats& Machine::mmu_stats() const { return board_->mmu.stats(); }
std::optional<VirtualCpu> Machine::virtual_cpu(size_t vm) const {
  if (vm >= vms_.size()) return std::nullopt;
  return vms_[vm].monitor->vcpu(vm == current_ ? cpu_->state() : vms_[vm].state);
}

// One monitor per VM, each with its part of host RAM, its devices, its
// console and its exit.
bool Machine::add_vms(const VmmHost& prototype, std::string& error) {
  using Vmm = MachineConfig::Vmm;
  for (unsigned i = 0; i < config_.vms; ++i) {
    VmmHost host = prototype;
    host.base = i * (kGuestBase + config_.ram_bytes);
    host.vm = i + 1;
    host.guest_exit = [this, i](int status) { vm_exited(i, status); };
    host.serial_out = console_for(i);
    VmSlot slot;
    switch (config_.vmm) {
      case Vmm::Trap:
      case Vmm::Bt: slot.monitor = std::make_unique<TrapMonitor>(host, config_.ram_bytes, config_.vmm == Vmm::Bt); break;
      case Vmm::Pv: slot.monitor = std::make_unique<PvMonitor>(host, config_.ram_bytes); break;
      case Vmm::Hvm:
      case Vmm::HvmShadow:
        slot.monitor = std::make_unique<HvmMonitor>(host, config_.ram_bytes, config_.vmm == Vmm::HvmShadow);
        break;
      default: error = "no VMM for this mode"; return false;
    }
    vms_.push_back(std::move(slot));
  }
  if (vms_.size() > 1)
    switch_timer_ = board_->scheduler.add("vmm-time-slice", [this] {
      switch_due_ = true;
      board_->scheduler.schedule(switch_timer_, board_->scheduler.now() + kTimeSlice);
    });
  return true;
}

// VM i's console: its own sink, or with several VMs the shared one with
// every line marked by the VM it came from.
std::function<void(uint8_t)> Machine::console_for(unsigned vm) {
  if (vm < config_.vm_serial_out.size() && config_.vm_serial_out[vm]) return config_.vm_serial_out[vm];
  std::function<void(uint8_t)> out = config_.serial_out[0];
  if (config_.vms == 1 || !out) return out;
  const std::string mark = "[vm" + std::to_string(vm + 1) + "] ";
  return [this, vm, out, mark](uint8_t b) {
    if (console_vm_ != int(vm) && !console_at_line_start_) {
      out('\n');  // another VM's partial line ends here
      console_at_line_start_ = true;
    }
    if (console_at_line_start_)
      for (char c : mark) out(uint8_t(c));
    console_vm_ = int(vm);
    console_at_line_start_ = b == '\n';
    out(b);
  };
}

// A VM powered off (its isa-debug-exit): the machine stops once every VM
// has; the machine's exit status is the first VM's.
void Machine::vm_exited(size_t vm, int status) {
  vms_[vm].exited = true;
  vms_[vm].exit_status = status;
  cpu_->request_stop();
  for (const VmSlot& v : vms_)
    if (!v.exited) return;
  exit_status_ = vms_[0].exit_status;
  exit_requested_ = true;
}

uint64_t Machine::instructions() const { return kvm_ ? 0 : cpu_->instructions() - idle_skipped_; }
void Machine::request_stop() {
  stop_requested_ = true;
  cpu_->request_stop();
}

// Multiboot (spec §3.2 "Machine state"): protected mode, paging off, flat
// 4 GiB code and data segments, EAX = the magic, EBX = the information
// structure, interrupts off, A20 open. No GDT is needed: the segment caches
// are loaded directly, as the spec allows ("GDTR may be invalid").
bool Machine::read_boot_image(devices::MultibootImage& image, const std::string& append, std::string& error) const {
  if (!read_file(config_.kernel, image.kernel, error)) return false;
  const std::string& name = config_.kernel_name.empty() ? config_.kernel : config_.kernel_name;
  image.cmdline = name + (append.empty() ? "" : " " + append);
  for (const std::string& spec : config_.initrd) {
    // "FILE ARGS": the file name is up to the first space (QEMU's convention).
    const std::string path = spec.substr(0, spec.find(' '));
    devices::BootModule mod;
    if (!read_file(path, mod.bytes, error)) return false;
    mod.cmdline = spec;
    image.modules.push_back(std::move(mod));
  }
  return true;
}

bool Machine::boot(std::string& error) {
  devices::MultibootImage image;
  if (!vms_.empty()) {
    // Every VM boots the kernel, with its own command line; the first one
    // gets the CPU.
    for (size_t i = 0; i < vms_.size(); ++i) {
      const bool own = i < config_.vm_append.size() && !config_.vm_append[i].empty();
      devices::MultibootImage vm_image;
      if (!read_boot_image(vm_image, own ? config_.vm_append[i] : config_.append, error)) return false;
      if (!vms_[i].monitor->boot(vm_image, vms_[i].state, error)) {
        error = config_.kernel + ": " + error;
        return false;
      }
    }
    current_ = 0;
    cpu_->set_state(vms_[0].state);
    board_->mmu.flush(true);
    vms_[0].monitor->attach();
    if (vms_.size() > 1) board_->scheduler.schedule(switch_timer_, board_->scheduler.now() + kTimeSlice);
    return true;
  }
  if (!read_boot_image(image, config_.append, error)) return false;
  if (kvm_) return kvm_->boot(image, error);  // its error names the host's KVM, not the kernel
  const devices::MultibootResult r = devices::load_multiboot(image, board_->memory);
  if (!r.ok) {
    error = config_.kernel + ": " + r.error;
    return false;
  }
  // Under QEMU a Multiboot kernel starts after the BIOS ran, so the BIOS
  // data area holds what kernels read from it: the EBDA segment (where the MP
  // tables are) and the base memory size in KiB (IBM PC/AT BDA 0x40E, 0x413).
  const uint16_t ebda_segment = Board::kEbdaAddress >> 4, base_kib = Board::kEbdaAddress / 1024;
  const uint8_t bda_ebda[2] = {uint8_t(ebda_segment), uint8_t(ebda_segment >> 8)};
  const uint8_t bda_base[2] = {uint8_t(base_kib), uint8_t(base_kib >> 8)};
  board_->memory.load(0x40E, bda_ebda);
  board_->memory.load(0x413, bda_base);
  board_->a20.set(true);
  cpu::CpuState s = cpu_->state();
  cpu::enter_flat_protected_mode(s, r.entry);
  s.gpr[cpu::EAX] = devices::kMultibootBootloaderMagic;
  s.gpr[cpu::EBX] = r.info;
  cpu_->set_state(s);
  return true;
}

// A BIOS ROM: 64 KiB at 0xF0000, or 128 KiB at 0xE0000, and the same bytes
// at the top of the 4 GiB address space, where the CPU fetches its first
// instruction (F000:FFF0 with CS.base = 0xFFFF0000, SDM Vol. 3 §9.1.4).
bool Machine::map_bios(std::string& error) {
  std::vector<uint8_t>& rom = config_.bios_image;
  if (rom.empty()) {
    if (config_.bios.empty()) {
      const std::span<const uint8_t> builtin = firmware::builtin_bios();  // guest/firmware
      rom.assign(builtin.begin(), builtin.end());
    } else if (!read_file(config_.bios, rom, error)) {
      return false;
    }
  }
  if (rom.size() != 0x10000 && rom.size() != 0x20000) {
    error = (config_.bios.empty() ? std::string("the BIOS image") : config_.bios) + " is " +
            std::to_string(rom.size()) + " bytes; a BIOS ROM must be 64 KiB or 128 KiB";
    return false;
  }
  const uint32_t size = uint32_t(rom.size());
  if (!board_->memory.map_rom(0x100000 - size, rom, "bios") ||
      !board_->memory.map_rom(uint32_t(0x100000000ull - size), rom, "bios-high")) {
    error = "the BIOS ROM overlaps RAM or a device window";
    return false;
  }
  board_->a20.set(true);
  return true;
}

void Machine::queue_serial_input(std::string_view bytes) {
  serial_input_.append(bytes);
  schedule_input();
}
void Machine::queue_keyboard_input(std::string_view text) {
  keyboard_input_.append(text);
  schedule_input();
}

void Machine::schedule_input() {
  devices::Scheduler& s = board_->scheduler;
  if ((!serial_input_.empty() || !keyboard_input_.empty()) && !s.pending(input_timer_))
    s.schedule(input_timer_, now() + kInputInterval);
}

void Machine::deliver_input() {
  // Under a VMM the guest's console is the first VM's (its COM1, or the
  // paravirtual console ring).
  if (!serial_input_.empty()) {
    const uint8_t next = uint8_t(serial_input_.front());
    if (!vms_.empty() ? vms_[0].monitor->console_ready() : board_input_->ready(board_->com1)) {
      if (!vms_.empty()) vms_[0].monitor->console_receive(next);
      else board_input_->deliver(board_->com1, next);
      serial_input_.erase(0, 1);
    }
  }
  if (!keyboard_input_.empty() && board_->keyboard.type_text(keyboard_input_.substr(0, 1)) == 1)
    keyboard_input_.erase(0, 1);
  schedule_input();
}

// Several VMs: the VMM gives the CPU to the next VM when the time slice is
// over or the running VM has powered off (never with an injected event
// still pending: it belongs to this VM's state).
void Machine::maybe_switch_vm() {
  if (vms_.size() < 2 || cpu_->injection_pending()) return;
  if (!switch_due_ && !vms_[current_].exited) return;
  switch_due_ = false;
  for (size_t k = 1; k < vms_.size(); ++k) {
    const size_t next = (current_ + k) % vms_.size();
    if (!vms_[next].exited) return switch_to(next);
  }
}

// The running VM halted: another VM that can run gets the CPU now.
bool Machine::switch_to_waiting_vm() {
  if (vms_.size() < 2 || cpu_->injection_pending()) return false;
  for (size_t k = 1; k < vms_.size(); ++k) {
    const size_t next = (current_ + k) % vms_.size();
    const VmSlot& vm = vms_[next];
    if (!vm.exited && (!vm.state.halted || vm.monitor->wants_cpu())) {
      switch_to(next);
      return true;
    }
  }
  return false;
}

// A world switch between VMs: the outgoing VM's CPU state is kept, the
// incoming one's loaded, and the TLB emptied (no address-space tags here).
void Machine::switch_to(size_t vm) {
  VmSlot& out = vms_[current_];
  out.state = cpu_->state();
  out.monitor->detach();
  log_.emit(trace::EventKind::VmSwitch, trace::VirtualTime{now(), now()}, current_ + 1, vm + 1,
            out.exited ? 2 : out.state.halted ? 1 : 0);
  current_ = vm;
  cpu_->set_state(vms_[vm].state);
  board_->mmu.flush(true);
  vms_[vm].monitor->attach();
  ++vm_switches_;
}

// Run the CPU up to the next timer deadline, fire what is due, repeat. While
// the CPU is halted waiting for an interrupt, virtual time jumps to the next
// deadline (counted as idle, not as instructions).
MachineStop Machine::run(uint64_t max_instructions) {
  if (kvm_) return run_on_kvm(max_instructions);
  devices::Scheduler& sched = board_->scheduler;
  const uint64_t start = now();
  const uint64_t end = max_instructions > UINT64_MAX - start ? UINT64_MAX : start + max_instructions;
  stop_requested_ = false;
  for (;;) {
    if (exit_requested_) return MachineStop::GuestExit;
    if (reset_requested_) reset();
    if (stop_requested_) return MachineStop::Requested;
    maybe_switch_vm();
    const uint64_t t = now();
    if (t >= end) return MachineStop::Budget;
    const uint64_t deadline = sched.next_deadline();
    if (deadline <= t) {
      sched.run_due();
      continue;
    }
    const uint64_t until = std::min(end, deadline);
    sched.set_horizon(until);
    const cpu::RunStop stop = cpu_->run(until - t);
    sched.set_horizon(devices::Scheduler::kNever);
    switch (stop) {
      case cpu::RunStop::Budget: break;
      case cpu::RunStop::Halted: {
        if (switch_to_waiting_vm()) break;
        // Deadlines may have moved while the CPU ran (a device scheduled
        // one): sleep only until the earliest now pending. With several
        // VMs another one's device may wake it.
        const uint64_t wake = std::min(end, sched.next_deadline());
        const bool others_live = std::count_if(vms_.begin(), vms_.end(), [](const VmSlot& v) { return !v.exited; }) > 1;
        const bool can_wake = (cpu_->state().eflags & cpu::flag::IF) || others_live;
        if (wake == devices::Scheduler::kNever || !can_wake) return MachineStop::Idle;
        if (wake > now()) {
          idle_skipped_ += wake - now();
          cpu_->set_instructions(wake);
        }
        break;
      }
      case cpu::RunStop::Shutdown: return MachineStop::Shutdown;
      case cpu::RunStop::Unsupported: return MachineStop::Unsupported;
      case cpu::RunStop::Requested:
      case cpu::RunStop::Hook:
      case cpu::RunStop::VmExit:  // (non-root mode is entered only by a VMM that handles its exits)
        if (!vms_.empty()) {
          VmMonitor& vmm = *vms_[current_].monitor;
          if (stop == cpu::RunStop::VmExit && !vmm.handle_exit()) return MachineStop::Unsupported;
          if (vmm.failure()) return MachineStop::Unsupported;
        }
        break;  // the flags above say why
    }
  }
}

// Under kvm the host's KVM runs the guest, in wall-clock time: the budget
// is virtual time (10 ns units), as KVM counts no instructions.
MachineStop Machine::run_on_kvm(uint64_t budget) {
  switch (kvm_->run(budget)) {
    case KvmMonitor::Stop::Budget: return MachineStop::Budget;
    case KvmMonitor::Stop::GuestExit:
      exit_status_ = kvm_->exit_status();
      return MachineStop::GuestExit;
    case KvmMonitor::Stop::Halted: return MachineStop::Idle;
    case KvmMonitor::Stop::Failed: break;
  }
  return MachineStop::Unsupported;
}

// A warm reset (the 8042's pulse or port 0x92): the CPU restarts at the reset
// vector, the devices power on again; RAM keeps its contents, as on a PC.
void Machine::reset() {
  reset_requested_ = false;
  for (devices::Device* d : board_->devices) d->reset();
  cpu_->reset(cpu::Cpu::ResetCause::Requested);
  board_->mmu.flush(true);
}

std::vector<std::string> Machine::screen_text() const { return board_->vga.text_rows(); }
std::string Machine::screen_ansi() const { return board_->vga.render_ansi(); }

std::vector<std::string> Machine::describe() const {
  std::vector<std::string> lines;
  char buf[160];
  lines.push_back("memory map:");
  for (const devices::Mapping& m : board_->memory.mappings()) {
    std::snprintf(buf, sizeof buf, "  %08x-%08x  %s", m.first, m.last, m.what.c_str());
    lines.push_back(buf);
  }
  lines.push_back("I/O ports:");
  for (const devices::Mapping& m : board_->ports.mappings()) {
    std::snprintf(buf, sizeof buf, "  %04x-%04x  %s", m.first, m.last, m.what.c_str());
    lines.push_back(buf);
  }
  return lines;
}

}  // namespace vs::vmm
