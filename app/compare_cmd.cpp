// `virtscope compare`: one workload of guest/user on the teaching kernel in
// each virtualization mode, side by side (DESIGN.md §5, docs/compare.md).
// The figures come from vmm::run_workload(); host seconds are measured here,
// outside the core, and are the one column that changes between runs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bare_machine.h"
#include "options.h"
#include "virtscope/container_sim/compare.h"
#include "virtscope/vmm/compare.h"

namespace vs::app {

namespace {

constexpr const char* kUsage =
    "usage: virtscope compare --workload NAME [ARGS...] [--modes M1,M2,...] [--json|--csv]\n"
    "                         [--kernel FILE] [--kernel-pv FILE] [--initrd FILE] [-m SIZE]\n"
    "                         [--max-instructions N]\n"
    "                         [--hosted] [--cost NAME=CYCLES]... [--costs FILE] [--list-costs]\n"
    "  NAME: hello, cpu N, syscall N, write N, fork N, pagefault N, mmap N, pipe N, disk N\n"
    "  modes (default: all): native, trap, bt, pv, hvm, hvm-shadow, kvm, container\n"
    "  --kernel/--kernel-pv/--initrd default to the teaching kernel, its paravirtual build\n"
    "  and the initrd built beside this program\n"
    "  --hosted models the VMMs as hosted (type-2): I/O goes on to the host kernel and a\n"
    "  user-space device model (pv stays bare-metal)\n"
    "  --cost/--costs change the cost model (see --list-costs)\n";

int usage_error(const std::string& msg) { return report_usage_error("compare", msg, kUsage); }

struct Row {
  vmm::ModeResult result;
  double host_seconds = 0;
};

std::string exits_by_reason(const vmm::ModeResult& r) {
  std::string s;
  for (const auto& [reason, count] : r.exits) s += (s.empty() ? "" : " ") + reason + "=" + std::to_string(count);
  return s;
}

void print_table(const std::vector<Row>& rows, const vmm::Workload& w) {
  std::string name;
  for (const std::string& a : w.argv) name += (name.empty() ? "" : " ") + a;
  std::printf("workload: %s\n", name.c_str());
  const Row* native = nullptr;
  for (const Row& row : rows)
    if (row.result.mode == vmm::Mode::Native && row.result.ran()) native = &row;
  std::printf("%-11s %14s %9s %10s %9s %8s %8s %8s %16s %8s %9s %s\n", "mode", "instructions", "exits",
              "hypercalls", "syscalls", "guest PF", "hidden", "syncs", "modelled cycles", "host s", "vs native",
              "output");
  for (const Row& row : rows) {
    const vmm::ModeResult& r = row.result;
    if (!r.ran()) {
      std::printf("%-11s unavailable: %s\n", vmm::mode_name(r.mode), r.unavailable.c_str());
      continue;
    }
    char ratio[16] = "-";
    if (native && native->result.modelled_cycles)
      std::snprintf(ratio, sizeof ratio, "%.2f", double(r.modelled_cycles) / double(native->result.modelled_cycles));
    const char* output = r.stop != vmm::MachineStop::GuestExit ? "DID NOT FINISH"
                         : !native                               ? "-"
                         : r.console == native->result.console   ? "same"
                                                                 : "DIFFERS";
    std::printf("%-11s %14" PRIu64 " %9" PRIu64 " %10" PRIu64 " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                " %16" PRIu64 " %8.3f %9s %s\n",
                vmm::mode_name(r.mode), r.instructions, r.total_exits(), r.hypercalls, r.syscalls,
                r.guest_page_faults, r.hidden_page_faults, r.shadow_syncs, r.modelled_cycles, row.host_seconds, ratio,
                output);
    if (!r.exits.empty()) std::printf("%-11s exits by reason: %s\n", "", exits_by_reason(r).c_str());
    if (r.nested_references)
      std::printf("%-11s two-dimensional walks: %" PRIu64 " nested-table references\n", "", r.nested_references);
    if (r.io_requests)
      std::printf("%-11s I/O requests: %" PRIu64 ", each guest -> VMM%s\n", "", r.io_requests,
                  r.io_path == 2 ? " -> host kernel -> device model (hosted)" : " (bare-metal)");
    if (r.mode == vmm::Mode::Container && r.ran())
      std::printf("%-11s user instructions only: the shared kernel is already up (no boot) and its work is\n"
                  "%-11s charged per call and fault (kernel_syscall, kernel_page_fault; fork and exec alike)\n",
                  "", "");
    if (r.stop != vmm::MachineStop::GuestExit)
      std::printf("%-11s stopped: %s after %" PRIu64 " instructions; console: \"%s\"\n", "",
                  vmm::machine_stop_name(r.stop), r.instructions, r.console.c_str());
  }
  if (native) {
    std::printf("native console:\n");
    std::fwrite(native->result.console.data(), 1, native->result.console.size(), stdout);
  }
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c == '\n') out += "\\n";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += char(c);
  }
  return out + "\"";
}

void print_json(const std::vector<Row>& rows) {
  std::printf("[\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    const vmm::ModeResult& r = rows[i].result;
    std::printf("  {\"mode\": \"%s\", ", vmm::mode_name(r.mode));
    if (!r.ran()) {
      std::printf("\"available\": false, \"reason\": %s}", json_string(r.unavailable).c_str());
    } else {
      std::printf("\"available\": true, \"finished\": %s, \"exit_status\": %d, \"instructions\": %" PRIu64
                  ", \"exits\": {",
                  r.stop == vmm::MachineStop::GuestExit ? "true" : "false", r.exit_status, r.instructions);
      bool first = true;
      for (const auto& [reason, count] : r.exits) {
        std::printf("%s%s: %" PRIu64, first ? "" : ", ", json_string(reason).c_str(), count);
        first = false;
      }
      std::printf("}, \"hypercalls\": %" PRIu64 ", \"syscalls\": %" PRIu64 ", \"guest_page_faults\": %" PRIu64
                  ", \"hidden_page_faults\": %" PRIu64 ", \"shadow_syncs\": %" PRIu64 ", \"io_requests\": %" PRIu64
                  ", \"io_path\": %d, \"nested_references\": %" PRIu64 ", \"modelled_cycles\": %" PRIu64 ", \"host_seconds\": %.6f, \"console\": %s}",
                  r.hypercalls, r.syscalls, r.guest_page_faults, r.hidden_page_faults, r.shadow_syncs, r.io_requests,
                  r.io_path, r.nested_references, r.modelled_cycles, rows[i].host_seconds, json_string(r.console).c_str());
    }
    std::printf("%s\n", i + 1 < rows.size() ? "," : "");
  }
  std::printf("]\n");
}

void print_csv(const std::vector<Row>& rows) {
  std::printf("mode,available,exit_status,instructions,exits,hypercalls,syscalls,guest_page_faults,"
              "hidden_page_faults,shadow_syncs,modelled_cycles,host_seconds,finished,io_requests,io_path,nested_references,reason\n");
  for (const Row& row : rows) {
    const vmm::ModeResult& r = row.result;
    if (!r.ran()) {
      std::printf("%s,0,,,,,,,,,,,,,,,\"%s\"\n", vmm::mode_name(r.mode), r.unavailable.c_str());
      continue;
    }
    std::printf("%s,1,%d,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%.6f,%d,%" PRIu64 ",%d,%" PRIu64 ",\n",
                vmm::mode_name(r.mode), r.exit_status, r.instructions, r.total_exits(), r.hypercalls, r.syscalls,
                r.guest_page_faults, r.hidden_page_faults, r.shadow_syncs, r.modelled_cycles, row.host_seconds,
                r.stop == vmm::MachineStop::GuestExit ? 1 : 0, r.io_requests, r.io_path, r.nested_references);
  }
}

void list_costs(const vmm::CostModel& costs) {
  for (const vmm::CostEntry& e : costs.entries())
    std::printf("%-16s %8" PRIu64 "  %s\n%-16s %8s  source: %s\n", e.name.c_str(), e.cycles, e.what.c_str(), "", "",
                e.source.c_str());
}

}  // namespace

int run_compare(int argc, char** argv) {
  vmm::Workload w;
  w.kernel = beside_this_program("guest/kernel/vs_kernel.elf");
  w.kernel_pv = beside_this_program("guest/kernel/vs_kernel_pv.elf");
  w.initrd = beside_this_program("guest/kernel/initrd.cpio");
  std::vector<vmm::Mode> modes;
  vmm::CostModel costs;
  enum class Format { Table, Json, Csv } format = Format::Table;
  bool show_costs = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--workload") {
      // The workload's name and its arguments: everything up to the next option.
      while (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0 && std::strcmp(argv[i + 1], "-m") != 0)
        w.argv.push_back(argv[++i]);
      if (w.argv.empty()) return usage_error("--workload needs a program name");
    } else if (a == "--modes") {
      const char* v = value();
      if (!v) return usage_error("--modes needs a list");
      std::string list = v;
      for (size_t at = 0; at <= list.size();) {
        const size_t end = std::min(list.find(',', at), list.size());
        const std::string name = list.substr(at, end - at);
        const auto mode = vmm::mode_from_name(name);
        if (!mode) return usage_error("unknown mode '" + name + "'");
        modes.push_back(*mode);
        at = end + 1;
      }
    } else if (a == "--hosted") {
      w.hosted = true;
    } else if (a == "--json") {
      format = Format::Json;
    } else if (a == "--csv") {
      format = Format::Csv;
    } else if (a == "--kernel" || a == "--kernel-pv" || a == "--initrd") {
      const char* v = value();
      if (!v) return usage_error(a + " needs a file");
      (a == "--kernel" ? w.kernel : a == "--kernel-pv" ? w.kernel_pv : w.initrd) = v;
    } else if (a == "-m") {
      const char* v = value();
      const auto size = v ? parse_memory_size(v) : std::nullopt;
      if (!size) return usage_error("-m needs a memory size such as 64 or 64M");
      w.ram_bytes = *size;
    } else if (a == "--max-instructions") {
      const char* v = value();
      const auto n = v ? parse_count(v) : std::nullopt;
      if (!n || *n == 0) return usage_error("--max-instructions needs a positive number");
      w.max_instructions = *n;
    } else if (a == "--cost") {
      const char* v = value();
      if (!v) return usage_error("--cost needs NAME=CYCLES");
      if (std::string why = costs.set(v); !why.empty()) return usage_error("--cost: " + why);
    } else if (a == "--costs") {
      const char* v = value();
      if (!v) return usage_error("--costs needs a file");
      if (std::string why = costs.load(v); !why.empty()) return usage_error("--costs: " + why);
    } else if (a == "--list-costs") {
      show_costs = true;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  if (show_costs) {
    list_costs(costs);
    return 0;
  }
  if (w.argv.empty()) return usage_error("which workload? (--workload NAME [ARGS...])");
  for (const std::string* f : {&w.kernel, &w.initrd})
    if (access(f->c_str(), R_OK) != 0)
      return usage_error("cannot read " + *f + " (build the project, or give --kernel and --initrd)");
  if (modes.empty())
    for (const vmm::ModeInfo& m : vmm::all_modes()) modes.push_back(m.mode);

  // Native first: the other modes get a budget of 20 times its instructions
  // (plus 100 million), so a mode whose guest goes wrong (trap, by design)
  // stops in seconds rather than at the 20-billion default.
  std::stable_partition(modes.begin(), modes.end(), [](vmm::Mode m) { return m == vmm::Mode::Native; });
  std::vector<Row> rows;
  int status = 0;
  const uint64_t limit = w.max_instructions;
  for (vmm::Mode mode : modes) {
    const auto start = std::chrono::steady_clock::now();
    // container-sim links vmm, so the container row is routed here, above both.
    Row row{mode == vmm::Mode::Container ? container_sim::run_workload(w, costs) : vmm::run_workload(mode, w, costs), 0};
    row.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (mode == vmm::Mode::Native && row.result.ran()) {
      if (row.result.stop != vmm::MachineStop::GuestExit) {
        std::fprintf(stderr, "virtscope compare: the workload did not finish natively: %s\n",
                     vmm::machine_stop_name(row.result.stop));
        status = 1;
      }
      w.max_instructions = std::min(limit, row.result.instructions * 20 + 100'000'000);
    }
    rows.push_back(std::move(row));
  }
  switch (format) {
    case Format::Table: print_table(rows, w); break;
    case Format::Json: print_json(rows); break;
    case Format::Csv: print_csv(rows); break;
  }
  return status;
}

}  // namespace vs::app
