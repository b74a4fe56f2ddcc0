// `virtscope run`: boot a PC headless, spelled like QEMU wherever QEMU has a
// flag (docs/run.md). At exit a summary goes to stderr: the stop reason, the
// line `instructions: N`, and the count of each event kind. The exit status
// follows isa-debug-exit when the guest used it.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bare_machine.h"
#include "host_terminal.h"
#include "options.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/trace/export.h"
#include "virtscope/vmm/machine.h"

namespace vs::app {

namespace {

// Ctrl-C (SIGINT) or SIGTERM ends the run at the next slice boundary, with
// the summary printed as for any other stop.
volatile std::sig_atomic_t interrupted = 0;
extern "C" void on_interrupt(int) { interrupted = 1; }

constexpr const char* kUsage =
    "usage: virtscope run [QEMU-style options] [virtscope options]\n"
    "  -m SIZE                       guest RAM (MiB, or with a M/G suffix; default 128M)\n"
    "  -kernel FILE                  boot a Multiboot (v1) ELF kernel directly\n"
    "  -append \"CMDLINE\"             the kernel's command line\n"
    "  -initrd \"FILE[ ARGS][,FILE...]\" Multiboot modules\n"
    "  -serial stdio|file:PATH|none  COM1 (a second -serial is COM2); default stdio\n"
    "  -debugcon stdio|file:PATH|none port 0xE9 output\n"
    "  -device isa-debug-exit[,iobase=0xf4][,iosize=0x04]\n"
    "  -display none|curses          curses: draw the VGA text screen in the terminal\n"
    "  -nographic                    same as -display none (serial on stdio)\n"
    "  -drive file=PATH,format=raw,if=ide,index=0|1, -hda FILE, -hdb FILE\n"
    "                                raw disk images on the ATA primary channel\n"
    "  -bios FILE                    a 64 or 128 KiB BIOS ROM image; without -kernel it boots the disks\n"
    "  --trace FILE                  write events: .json = Chrome trace (Perfetto), else JSON Lines\n"
    "  --max-instructions N          stop after N instructions (default: no limit)\n"
    "  --save-at N FILE              save a snapshot when virtual time reaches N\n"
    "  --load FILE                   resume from a snapshot\n"
    "  --info                        print the memory and port maps, then exit\n"
    "  --mode MODE                   the -kernel as a VM (-m is the VM's RAM): native (no VMM), trap\n"
    "                                (trap-and-emulate), bt (binary translation), pv (paravirtual:\n"
    "                                the kernel's pv build), hvm (simulated VT-x, nested paging),\n"
    "                                hvm-shadow (simulated VT-x, shadow paging), kvm (/dev/kvm)\n"
    "  --hosted                      model the VMM as hosted (type-2): each I/O request goes on\n"
    "                                to the host kernel and a user-space device model\n"
    "  --vms N                       N VMs at once on the one CPU (not native, not kvm); each\n"
    "                                console line is marked [vmN]; input goes to VM 1\n"
    "  --vm-append \"CMDLINE\"        the next VM's command line instead of -append (repeatable)\n";

int usage_error(const std::string& msg) { return report_usage_error("run", msg, kUsage); }

// A sink for guest output bytes: stdout, a file, or nothing.
struct Sink {
  FILE* file = nullptr;
  bool owned = false;
  ~Sink() {
    if (owned && file) std::fclose(file);
  }
};

bool open_sink(const std::string& spec, Sink& sink, std::string& error) {
  if (spec == "none" || spec == "null") return true;
  if (spec == "stdio") {
    // On a terminal every byte shows as the guest sends it (a prompt or an
    // echoed key has no newline after it); into a pipe, line by line.
    std::setvbuf(stdout, nullptr, isatty(STDOUT_FILENO) ? _IONBF : _IOLBF, 0);
    sink.file = stdout;
    return true;
  }
  if (spec.rfind("file:", 0) == 0) {
    const std::string path = spec.substr(5);
    sink.file = std::fopen(path.c_str(), "wb");
    if (!sink.file) {
      error = "cannot write " + path + ": " + std::strerror(errno);
      return false;
    }
    sink.owned = true;
    return true;
  }
  error = "unsupported character device '" + spec + "' (use stdio, file:PATH or none)";
  return false;
}

// isa-debug-exit,iobase=0xf4,iosize=0x04
bool parse_device(const std::string& spec, vmm::MachineConfig& cfg, std::string& error) {
  std::vector<std::string> parts;
  for (size_t pos = 0; pos <= spec.size();) {
    const size_t comma = spec.find(',', pos);
    parts.push_back(spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (parts.empty() || parts[0] != "isa-debug-exit") {
    error = "unsupported -device '" + (parts.empty() ? spec : parts[0]) + "' (virtscope offers isa-debug-exit)";
    return false;
  }
  cfg.debug_exit = true;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq);
    const auto value = eq == std::string::npos ? std::nullopt : parse_count(parts[i].substr(eq + 1));
    if (!value || *value > 0xFFFF) {
      error = "bad isa-debug-exit property '" + parts[i] + "'";
      return false;
    }
    if (key == "iobase") cfg.debug_exit_base = uint16_t(*value);
    else if (key == "iosize") cfg.debug_exit_size = uint16_t(*value);
    else {
      error = "unknown isa-debug-exit property '" + key + "'";
      return false;
    }
  }
  if (cfg.debug_exit_size == 0 || uint32_t(cfg.debug_exit_base) + cfg.debug_exit_size > 0x10000) {
    error = "isa-debug-exit iobase/iosize lie outside the I/O space";
    return false;
  }
  return true;
}

// -drive file=PATH,format=raw,if=ide,index=N (index 0 = master, 1 = slave).
bool parse_drive(const std::string& spec, vmm::MachineConfig& cfg, std::string& error) {
  std::string file, format = "raw", iface = "ide";
  long index = -1;
  for (size_t pos = 0; pos <= spec.size();) {
    const size_t comma = spec.find(',', pos);
    const std::string part = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq), value = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (key == "file") file = value;
    else if (key == "format") format = value;
    else if (key == "if") iface = value;
    else if (key == "index") index = (value == "0" || value == "1") ? value[0] - '0' : -2;
    else if (key == "media" && value == "disk") {
    } else {
      error = "unsupported -drive property '" + part + "'";
      return false;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (file.empty()) return error = "-drive needs file=PATH", false;
  if (format != "raw") return error = "-drive format '" + format + "' is not supported (raw images only)", false;
  if (iface != "ide") return error = "-drive if='" + iface + "' is not supported (ide only)", false;
  if (index == -2) return error = "-drive index must be 0 or 1 (the primary channel's master and slave)", false;
  if (index == -1) index = cfg.drives[0].empty() ? 0 : 1;
  cfg.drives[index] = file;
  return true;
}

}  // namespace

int run_run(int argc, char** argv) {
  vmm::MachineConfig cfg;
  std::vector<std::string> serial_specs;
  std::string debugcon_spec = "none", display = "none", trace_path, load_path, save_path, initrd_spec;
  std::optional<uint64_t> max_instructions, save_at;
  bool info = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    std::optional<std::string> v;
    if (a == "-m") {
      if (!(v = value())) return usage_error("-m needs a size");
      const auto size = parse_memory_size(*v);
      if (!size) return usage_error("bad -m size '" + *v + "' (2M to 3584M)");
      cfg.ram_bytes = *size;
    } else if (a == "-kernel") {
      if (!(v = value())) return usage_error("-kernel needs a file");
      cfg.kernel = *v;
    } else if (a == "-append") {
      if (!(v = value())) return usage_error("-append needs a string");
      cfg.append = *v;
    } else if (a == "-initrd") {
      if (!(v = value())) return usage_error("-initrd needs a file");
      initrd_spec = *v;
    } else if (a == "-serial") {
      if (!(v = value())) return usage_error("-serial needs a device");
      serial_specs.push_back(*v);
    } else if (a == "-debugcon") {
      if (!(v = value())) return usage_error("-debugcon needs a device");
      debugcon_spec = *v;
    } else if (a == "-device") {
      if (!(v = value())) return usage_error("-device needs a description");
      std::string error;
      if (!parse_device(*v, cfg, error)) return usage_error(error);
    } else if (a == "-display") {
      if (!(v = value())) return usage_error("-display needs a type");
      if (*v != "none" && *v != "curses") return usage_error("unsupported -display '" + *v + "' (none or curses)");
      display = *v;
    } else if (a == "-nographic") {
      display = "none";
    } else if (a == "-hda" || a == "-hdb") {
      if (!(v = value())) return usage_error(a + " needs a file");
      cfg.drives[a == "-hda" ? 0 : 1] = *v;
    } else if (a == "-drive") {
      if (!(v = value())) return usage_error("-drive needs a description");
      std::string error;
      if (!parse_drive(*v, cfg, error)) return usage_error(error);
    } else if (a == "-bios") {
      if (!(v = value())) return usage_error("-bios needs a file");
      cfg.bios = *v;
    } else if (a == "--trace") {
      if (!(v = value())) return usage_error("--trace needs a file");
      trace_path = *v;
    } else if (a == "--max-instructions") {
      if (!(v = value()) || !(max_instructions = parse_count(*v))) return usage_error("--max-instructions needs a number");
    } else if (a == "--save-at") {
      if (!(v = value()) || !(save_at = parse_count(*v))) return usage_error("--save-at needs a number and a file");
      if (!(v = value())) return usage_error("--save-at needs a file");
      save_path = *v;
    } else if (a == "--load") {
      if (!(v = value())) return usage_error("--load needs a file");
      load_path = *v;
    } else if (a == "--info") {
      info = true;
    } else if (a == "--hosted") {
      cfg.hosted = true;
    } else if (a == "--vms") {
      std::optional<uint64_t> n;
      if (!(v = value()) || !(n = parse_count(*v)) || *n < 1 || *n > 8) return usage_error("--vms needs a number from 1 to 8");
      cfg.vms = unsigned(*n);
    } else if (a == "--vm-append") {
      if (!(v = value())) return usage_error("--vm-append needs a string");
      cfg.vm_append.push_back(*v);
    } else if (a == "--mode") {
      using Vmm = vmm::MachineConfig::Vmm;
      static const std::pair<const char*, Vmm> kModes[] = {
          {"native", Vmm::None}, {"trap", Vmm::Trap}, {"bt", Vmm::Bt},           {"pv", Vmm::Pv},
          {"hvm", Vmm::Hvm},     {"hvm-shadow", Vmm::HvmShadow}, {"kvm", Vmm::Kvm}};
      if (!(v = value())) return usage_error("--mode needs native, trap, bt, pv, hvm, hvm-shadow or kvm");
      const auto* m = std::find_if(std::begin(kModes), std::end(kModes), [&](const auto& e) { return *v == e.first; });
      if (m == std::end(kModes))
        return usage_error("--mode '" + *v + "': the modes are native, trap, bt, pv, hvm, hvm-shadow and kvm");
      cfg.vmm = m->second;
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  if (!cfg.kernel.empty() && !load_path.empty()) return usage_error("give either -kernel or --load, not both");
  if (cfg.vmm != vmm::MachineConfig::Vmm::None && cfg.kernel.empty())
    return usage_error("--mode runs a -kernel (disk images and snapshots run natively)");

  // Multiboot modules: "file args,file args" (QEMU's -initrd for Multiboot).
  if (!initrd_spec.empty()) {
    for (size_t pos = 0; pos <= initrd_spec.size();) {
      const size_t comma = initrd_spec.find(',', pos);
      const std::string m = initrd_spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (m.empty()) return usage_error("empty module name in -initrd");
      cfg.initrd.push_back(m);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }

  if (serial_specs.empty()) serial_specs.push_back(display == "curses" ? "none" : "stdio");
  if (serial_specs.size() > 2) return usage_error("at most two -serial ports (COM1, COM2)");
  std::array<Sink, 2> serial;
  Sink debugcon;
  std::string error;
  for (size_t i = 0; i < serial_specs.size(); ++i)
    if (!open_sink(serial_specs[i], serial[i], error)) return usage_error("-serial: " + error);
  if (!open_sink(debugcon_spec, debugcon, error)) return usage_error("-debugcon: " + error);
  for (size_t i = 0; i < 2; ++i)
    if (FILE* f = serial[i].file) cfg.serial_out[i] = [f](uint8_t b) { std::fputc(b, f); };
  if (FILE* f = debugcon.file) cfg.debugcon_out = [f](uint8_t b) { std::fputc(b, f); };

  std::unique_ptr<vmm::Machine> m =
      load_path.empty() ? vmm::Machine::create(cfg, error) : vmm::Machine::restore(load_path, cfg, error);
  if (!m) {
    std::fprintf(stderr, "virtscope run: %s\n", error.c_str());
    return 1;
  }
  if (info) {
    for (const std::string& line : m->describe()) std::printf("%s\n", line.c_str());
    return 0;
  }
  // Host input: piped input is read whole now and goes to COM1, so a
  // scripted session runs the same every time. A terminal is read between
  // run slices as the user types (interactive, so not reproducible): to COM1
  // when the serial console is on stdio, else to the keyboard.
  HostTerminal terminal(STDIN_FILENO);
  if (serial_specs[0] == "stdio" && !terminal.interactive()) {
    std::string input;
    char buf[4096];
    for (ssize_t n; (n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0;) input.append(buf, size_t(n));
    m->queue_serial_input(input);
  }
  bool terminal_open = terminal.interactive();
  auto poll_terminal = [&] {
    if (!terminal_open) return;
    std::string typed;
    terminal_open = terminal.read_available(typed);
    if (typed.empty()) return;
    if (serial_specs[0] == "stdio") m->queue_serial_input(typed);
    else m->queue_keyboard_input(typed);
  };
  // An idle guest (halted, virtual time skipped to its next timer) would
  // otherwise have the host spin through slices as fast as it can: while a
  // user is at the terminal, the host sleeps as long as the guest idled in
  // virtual time (at most a tenth of a second), and wakes at a keystroke.
  auto pace_idle_guest = [&](uint64_t idle_before) {
    if (!terminal_open) return;
    const uint64_t idle = m->idle_skipped() - idle_before;
    const uint64_t ms = idle / (devices::Scheduler::kInstructionsPerSecond / 1000);
    if (ms > 0) terminal.wait_for_input(int(std::min<uint64_t>(ms, 100)));
  };

  // Events: counted for the summary, streamed to --trace.
  std::array<uint64_t, trace::kKindCount> counts{};
  const trace::KindSet counted =
      trace::KindSet::all().without(trace::EventKind::InsnRetired).without(trace::EventKind::PageWalk);
  m->log().subscribe(counted, [&](const trace::Event& e) { ++counts[size_t(e.kind)]; });
  std::ofstream trace_file;
  std::unique_ptr<trace::TraceWriter> writer;
  if (!trace_path.empty()) {
    trace_file.open(trace_path);
    if (!trace_file) {
      std::fprintf(stderr, "virtscope run: cannot write trace file %s\n", trace_path.c_str());
      return 1;
    }
    writer = std::make_unique<trace::TraceWriter>(trace_file, trace::TraceWriter::format_for_path(trace_path));
    m->log().subscribe(counted, [&](const trace::Event& e) { writer->write(e); });
  }

  // Run in slices so the curses screen refreshes and --save-at lands exactly.
  const uint64_t limit = max_instructions ? *max_instructions : UINT64_MAX;
  constexpr uint64_t kSlice = 10'000'000;
  vmm::MachineStop stop = vmm::MachineStop::Budget;
  bool saved = false;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  bool stopped_by_signal = false;
  while (m->now() < limit) {
    if (interrupted) {
      stopped_by_signal = true;
      stop = vmm::MachineStop::Requested;
      break;
    }
    uint64_t slice = std::min<uint64_t>(kSlice, limit - m->now());
    if (save_at && !saved) {
      if (m->now() >= *save_at) {
        if (!m->save(save_path, error)) {
          std::fprintf(stderr, "virtscope run: %s\n", error.c_str());
          return 1;
        }
        saved = true;
        continue;
      }
      slice = std::min(slice, *save_at - m->now());
    }
    poll_terminal();
    const uint64_t idle_before = m->idle_skipped();
    stop = m->run(slice);
    pace_idle_guest(idle_before);
    if (display == "curses") {
      std::fputs(m->screen_ansi().c_str(), stdout);
      std::fflush(stdout);
    }
    if (stop != vmm::MachineStop::Budget) break;
  }
  if (writer) writer->finish();
  for (auto& s : serial)
    if (s.file) std::fflush(s.file);
  if (debugcon.file) std::fflush(debugcon.file);

  std::fprintf(stderr, "\n--- virtscope run ---\n");
  std::fprintf(stderr, "stopped: %s", stopped_by_signal ? "interrupted (signal)" : vmm::machine_stop_name(stop));
  if (stop == vmm::MachineStop::GuestExit) std::fprintf(stderr, " (status %d)", m->exit_status());
  if (stop == vmm::MachineStop::Unsupported && m->unsupported()) std::fprintf(stderr, " (%s)", m->unsupported());
  std::fprintf(stderr, "\ninstructions: %" PRIu64 "\n", m->instructions());
  std::fprintf(stderr, "virtual time: %" PRIu64 " (idle skipped: %" PRIu64 ")\n", m->now(), m->idle_skipped());
  for (size_t k = 0; k < trace::kKindCount; ++k)
    if (counts[k]) std::fprintf(stderr, "  %-12s %10" PRIu64 "\n", trace::kind_info(trace::EventKind(k)).name, counts[k]);
  const size_t vms = m->vm_count();
  if (vms > 1) std::fprintf(stderr, "VMs: %zu, %" PRIu64 " switches between them\n", vms, m->vm_switches());
  for (size_t i = 0; i < std::max<size_t>(vms, 1); ++i) {
    const vmm::TrapStats* t = vms ? m->vm_stats(i) : m->trap_stats();
    if (!t) continue;
    if (vms > 1) std::fprintf(stderr, "vm%zu: exit status %d\n", i + 1, m->vm_exit_status(i));
    std::fprintf(stderr, "VMM: %" PRIu64 " emulated, %" PRIu64 " hidden page faults, %" PRIu64
                         " guest page faults, %" PRIu64 " reflected, %" PRIu64 " hypercalls, %" PRIu64
                         " I/O requests\n",
                 t->emulated, t->hidden_page_faults, t->guest_page_faults, t->reflected, t->total_hypercalls(),
                 t->io_requests);
    for (const auto& [reason, count] : t->exits)
      std::fprintf(stderr, "  exit %-20s %10" PRIu64 "\n", vmm::exit_reason_name(reason), count);
  }
  if (save_at && !saved) std::fprintf(stderr, "note: the run ended before --save-at %" PRIu64 "; no snapshot written\n", *save_at);
  switch (stop) {
    case vmm::MachineStop::GuestExit: return m->exit_status();
    case vmm::MachineStop::Budget:
    case vmm::MachineStop::Idle:
    case vmm::MachineStop::Requested: return 0;
    case vmm::MachineStop::Shutdown:
    case vmm::MachineStop::Unsupported: return 1;
  }
  return 1;
}

}  // namespace vs::app
