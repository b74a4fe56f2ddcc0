// The Machine (DESIGN.md §1, §2 vmm/): one emulated PC — the CPU, the paging
// MMU and the board (memory map, port bus, timers, interrupt controllers,
// serial ports, keyboard controller, VGA text, CMOS, debug ports) — with the
// run loop that advances them together in virtual time, boot paths (a
// Multiboot kernel; a BIOS ROM booting a disk is issue 3's next step), and
// whole-machine snapshots.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "virtscope/cpu/cpu.h"
#include "virtscope/trace/event.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::mmu {
struct MmuStats;
}

namespace vs::devices {
struct MultibootImage;
class PhysicalMemory;
class PortBus;
class Scheduler;
}  // namespace vs::devices

namespace vs::vmm {

// What to build and boot. Field names follow the QEMU flags `virtscope run`
// accepts (docs/run.md).
struct MachineConfig {
  uint32_t ram_bytes = 128u << 20;  // -m
  std::string kernel;               // -kernel: a Multiboot ELF (else the BIOS boots the first disk)
  std::string bios;                 // -bios: a 64 or 128 KiB ROM image (empty: virtscope's own BIOS)
  std::vector<uint8_t> bios_image;  // the ROM itself, when the caller has it in memory (tests, the app)
  std::string append;               // -append
  // The kernel's name at the head of its Multiboot command line, as QEMU
  // puts the -kernel path there; empty: the path itself. `compare` sets a
  // fixed name so its figures do not depend on where the build lives.
  std::string kernel_name;
  std::vector<std::string> initrd;  // -initrd a,b: Multiboot modules
  std::string drives[2];            // -drive index=0/1 (-hda/-hdb): raw images on the ATA primary channel
  // Disk 0 from memory when drives[0] is empty (tests, compare's disk
  // workload); writes stay in the machine. Under a VMM each VM's disk
  // starts as a copy of disk 0 (-hda or this).
  std::vector<uint8_t> disk_image;
  // Byte sinks for the guest's output; empty: discarded. The app binds them
  // to stdout or files (-serial, -debugcon).
  std::function<void(uint8_t)> serial_out[2];
  std::function<void(uint8_t)> debugcon_out;
  // -device isa-debug-exit,iobase=...,iosize=...
  bool debug_exit = false;
  uint16_t debug_exit_base = 0xF4;
  uint16_t debug_exit_size = 4;
  // The TLB model's size (entries), for lessons on TLB pressure.
  unsigned tlb_entries = 64;
  // Run the -kernel as a virtual machine under a VMM (DESIGN.md §4) instead
  // of on the bare PC. ram_bytes is then the VM's RAM. Pv needs the
  // paravirtual build of the kernel (vs_kernel_pv.elf).
  enum class Vmm : uint8_t { None, Trap, Bt, Pv, Hvm, HvmShadow, Kvm };
  Vmm vmm = Vmm::None;
  // Model a hosted (type-2) VMM instead of a bare-metal (type-1) one: the
  // VM's device models run as a host user-space process, so each I/O
  // request takes the extra hop guest -> VMM -> host kernel -> device model
  // (IoRequest events, docs/events.md). Not for pv: Xen is bare-metal.
  bool hosted = false;
  // Several VMs at once on the one emulated CPU (trap, bt, pv, hvm,
  // hvm-shadow): each gets ram_bytes of its own, its own devices and
  // console, and the VMM switches between them every 10 ms of virtual time
  // or when one halts. VM i's command line is vm_append[i] when given (else
  // append); its console goes to vm_serial_out[i] when given, else to
  // serial_out[0] with each line marked "[vmN] ". Host input reaches VM 1.
  unsigned vms = 1;
  std::vector<std::string> vm_append;
  std::vector<std::function<void(uint8_t)>> vm_serial_out;
};

// Why Machine::run returned.
enum class MachineStop : uint8_t {
  Budget,       // the instruction budget ran out
  GuestExit,    // the guest wrote to isa-debug-exit (exit_status() says what)
  Shutdown,     // triple fault: the CPU shut down
  Idle,         // HLT with nothing that could ever wake it (no timer, interrupts off)
  Unsupported,  // the guest used a feature virtscope does not model (see unsupported())
  Requested,    // request_stop()
};
const char* machine_stop_name(MachineStop);

class Board;
class KvmMonitor;
class VmMonitor;
struct SerialInputGate;
struct VmmHost;

class Machine {
 public:
  // Builds the machine and boots what the config names. On a bad config or
  // image returns nullptr with a one-line reason in `error`.
  static std::unique_ptr<Machine> create(const MachineConfig& config, std::string& error);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Run until `max_instructions` more have retired, or something stops it.
  MachineStop run(uint64_t max_instructions);
  void request_stop();

  // Virtual time (instructions retired plus idle time skipped while halted)
  // and the instructions actually executed. Under kvm: wall-clock time in
  // 10 ns units, and 0 instructions (KVM does not count them).
  uint64_t now() const;
  uint64_t instructions() const;
  uint64_t idle_skipped() const { return idle_skipped_; }
  int exit_status() const { return exit_status_; }
  // What the guest did that virtscope does not model, or that the VMM cannot
  // emulate (MachineStop::Unsupported).
  const char* unsupported() const;
  // The VMM's counters (any MachineConfig::Vmm but None) and the trap VMM's
  // virtual CPU (Trap, Bt), else null.
  const TrapStats* trap_stats() const;
  // VM `vm`'s virtual CPU (virtual IF, paging registers, descriptor tables,
  // pending interrupt), beside the real CPU's state; nothing without a VM.
  std::optional<VirtualCpu> virtual_cpu(size_t vm = 0) const;
  // The real MMU's counters (TLB hits and misses, walks, nested references).
  const mmu::MmuStats& mmu_stats() const;
  // Several VMs (MachineConfig::vms): how many, each one's counters and
  // exit status (-1 while it runs), which one has the CPU (0-based), and
  // how often the VMM switched between them.
  size_t vm_count() const { return vms_.size(); }
  const TrapStats* vm_stats(size_t vm) const;
  int vm_exit_status(size_t vm) const;
  size_t current_vm() const { return current_; }
  uint64_t vm_switches() const { return vm_switches_; }

  // Host input to the guest (the terminal): queued, and delivered to COM1 and
  // the keyboard when the guest is idle, so the same input gives the same run.
  void queue_serial_input(std::string_view bytes);
  void queue_keyboard_input(std::string_view text);

  // Whole-machine snapshots (docs/snapshots.md): a versioned file; resuming
  // from one is bit-exact. Errors are one-line reasons. restore() builds the
  // machine the snapshot describes; `outputs` gives only the output sinks.
  bool save(const std::string& path, std::string& error) const;
  static std::unique_ptr<Machine> restore(const std::string& path, const MachineConfig& outputs,
                                          std::string& error);

  // VGA text screen as lines, and as ANSI escapes for a terminal.
  std::vector<std::string> screen_text() const;
  std::string screen_ansi() const;

  trace::EventLog& log() { return log_; }
  cpu::Cpu& cpu() { return *cpu_; }
  devices::PhysicalMemory& memory();
  devices::PortBus& ports();
  const MachineConfig& config() const { return config_; }
  // The memory and port maps, one line per range, for `virtscope run --info`.
  std::vector<std::string> describe() const;

 private:
  explicit Machine(const MachineConfig& config);
  static std::unique_ptr<Machine> build(const MachineConfig& config, std::string& error);
  bool boot(std::string& error);
  bool read_boot_image(devices::MultibootImage& image, const std::string& append, std::string& error) const;
  bool add_vms(const VmmHost& prototype, std::string& error);
  std::function<void(uint8_t)> console_for(unsigned vm);
  void vm_exited(size_t vm, int status);
  void maybe_switch_vm();
  bool switch_to_waiting_vm();
  void switch_to(size_t vm);
  bool map_bios(std::string& error);
  void reset();
  bool load_sections(const std::map<std::string, std::span<const uint8_t>>& sections, std::string& error);
  void schedule_input();
  void deliver_input();
  MachineStop run_on_kvm(uint64_t budget);

  MachineConfig config_;
  trace::EventLog log_;
  std::unique_ptr<Board> board_;
  std::unique_ptr<cpu::Cpu> cpu_;
  // The VMs of a VMM mode (trap, bt, pv, hvm, hvm-shadow), each with its
  // virtual CPU's state while another one has the real CPU.
  struct VmSlot {
    std::unique_ptr<VmMonitor> monitor;
    cpu::CpuState state;
    bool exited = false;
    int exit_status = -1;
  };
  std::vector<VmSlot> vms_;
  size_t current_ = 0;
  uint32_t switch_timer_ = 0;  // the VMM's time slice
  bool switch_due_ = false;
  uint64_t vm_switches_ = 0;
  int console_vm_ = -1;        // whose line the shared console is in (several VMs)
  bool console_at_line_start_ = true;
  std::unique_ptr<KvmMonitor> kvm_;    // the host's KVM when config_.vmm is Kvm (runs the guest itself)
  uint64_t idle_skipped_ = 0;
  int exit_status_ = 0;
  bool exit_requested_ = false;
  bool stop_requested_ = false;
  bool reset_requested_ = false;
  uint32_t input_timer_ = 0;  // the scheduler timer that feeds host input
  std::unique_ptr<SerialInputGate> board_input_;  // host input into the bare PC's COM1
  std::string serial_input_, keyboard_input_;
};

}  // namespace vs::vmm
