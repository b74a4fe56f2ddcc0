#include "virtscope/vmm/cost_model.h"

#include <charconv>
#include <fstream>

namespace vs::vmm {

namespace {

// Figures from ../shared/SEMANTICS.md §7 and §10; [R] there marks figures
// still to verify against the paper's own tables.
std::vector<CostEntry> default_entries() {
  return {
      {"instruction", 1, "one guest instruction",
       "modelling choice: CPI 1, so a mode's extra cycles stand out against the instruction count"},
      {"hw_exit", 1360, "a VM exit and re-entry round trip (hvm)",
       "AMD SVM VMRUN -> #VMEXIT round trip, 1,344-1,376 cycles (LKML, Dec 2020)"},
      {"hw_exit.IO_INSTRUCTION", 12617, "an I/O exit with the VMM's emulation of the port (hvm, hvm-shadow, kvm)",
       "Adams & Agesen 2006, first-generation VT-x: in from a port 15,826 cycles under the hardware VMM, 3,209 native"},
      {"hw_exit.EXCEPTION_NMI", 10149, "an exception exit (hvm-shadow's page faults) with the VMM's handling",
       "Adams & Agesen 2006, first-generation VT-x: a page fault 11,242 cycles under the hardware VMM, 1,093 native"},
      {"hw_exit_to_user", 1200, "the extra hop of a hosted VMM: host kernel -> user-space device model and back",
       "whole KVM_RUN ioctl 2,528-2,576 cycles minus the VMRUN round trip 1,344-1,376 (LKML, Dec 2020)"},
      {"trap", 2334, "a fault into a software VMM and back (trap-and-emulate)",
       "Adams & Agesen 2006 divzero: software VMM 3,223 cycles minus native 889"},
      {"emulate", 200, "decoding and emulating one trapped instruction in the VMM",
       "modelling choice, of the order of BT's in-line port emulation (~214 cycles, Adams & Agesen 2006)"},
      {"hypercall", 1230, "a hypercall round trip (pv)",
       "Dall et al. 2016, x86 Xen hypercall ~1,230 cycles [R]"},
      {"shadow_sync_bt", 391, "a traced guest PTE write under a software VMM (trap, bt)",
       "Adams & Agesen 2006 ptemod, software VMM 391 cycles"},
      {"shadow_sync_hw", 12733, "a traced guest PTE write under hardware assistance with shadow paging",
       "Adams & Agesen 2006 ptemod, hardware VMM 12,733 cycles"},
      {"hidden_fault", 2834, "a page fault the VMM handles itself (shadow fill), beyond a native fault",
       "Adams & Agesen 2006 pgfault: software VMM 3,927 minus native 1,093 cycles"},
      {"nested_walk_ref", 1, "one memory reference of a two-dimensional page walk beyond the native walk's",
       "modelling choice: a cache hit; up to 24 references per TLB miss with 4+4 levels (Bhargava et al. 2008)"},
      {"bt_callout", 40, "a binary-translated sensitive instruction calling the VMM in line (no trap)",
       "Adams & Agesen 2006: call/ret under BT 51 cycles against 11 native, ~40 extra for a call into the VMM"},
      {"kernel_syscall", 87, "the shared kernel's work for one system call (container: the kernel is not emulated)",
       "measured on the teaching kernel: compare --workload syscall 1000 and 2000, native minus container instructions per call, at CPI 1"},
      {"kernel_page_fault", 383, "the shared kernel's work for one page fault (container)",
       "measured on the teaching kernel: compare --workload pagefault 100 and 200, native minus container instructions per fault, at CPI 1"},
      {"container_intercept", 0, "extra cost of a container's system call or fault beyond the shared kernel's own work",
       "0: namespaces and cgroups add no path to a system call (Felter et al. 2015: containers ~ native); set it to model a gVisor-style platform's interception"},
      {"bt_translate", 50, "translating one guest kernel instruction into the translation cache",
       "modelling choice; BT translates once and reuses (Adams & Agesen 2006 §3)"},
  };
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Parses "name=cycles" against `entries`; on success stores it there.
std::string assign(std::vector<CostEntry>& entries, std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) return "expected NAME=CYCLES, got '" + std::string(assignment) + "'";
  const std::string_view name = trim(assignment.substr(0, eq));
  const std::string_view value = trim(assignment.substr(eq + 1));
  CostEntry* entry = nullptr;
  for (CostEntry& e : entries)
    if (e.name == name) entry = &e;
  // Any exit reason may get a cost of its own: hw_exit.REASON (a VT-x name, docs/events.md).
  const bool exit_reason = name.size() > 8 && name.substr(0, 8) == "hw_exit." &&
                           name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", 8) == std::string_view::npos;
  if (!entry && exit_reason) {
    entries.push_back({std::string(name), 0, "an exit of this reason", "set by the user"});
    entry = &entries.back();
  }
  if (!entry) {
    std::string known;
    for (const CostEntry& e : entries) known += (known.empty() ? "" : ", ") + e.name;
    return "unknown cost '" + std::string(name) + "' (known: " + known + ")";
  }
  uint64_t cycles = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), cycles);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || cycles > 1'000'000'000)
    return "cost '" + std::string(name) + "' must be a whole number of cycles up to 10^9, got '" +
           std::string(value) + "'";
  entry->cycles = cycles;
  return "";
}

}  // namespace

CostModel::CostModel() : entries_(default_entries()) {}

const CostEntry* CostModel::find(std::string_view name) const {
  for (const CostEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

uint64_t CostModel::cycles(std::string_view name) const {
  const CostEntry* e = find(name);
  return e ? e->cycles : 0;
}

uint64_t CostModel::exit_cycles(std::string_view reason) const {
  const CostEntry* e = find("hw_exit." + std::string(reason));
  return e ? e->cycles : cycles("hw_exit");
}

std::string CostModel::set(std::string_view assignment) { return assign(entries_, assignment); }

std::string CostModel::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return path + ": cannot read";
  std::vector<CostEntry> updated = entries_;
  std::string line;
  for (unsigned number = 1; std::getline(in, line); ++number) {
    std::string_view text = line;
    if (const size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    text = trim(text);
    if (text.empty()) continue;
    if (std::string why = assign(updated, text); !why.empty())
      return path + ":" + std::to_string(number) + ": " + why;
  }
  entries_ = std::move(updated);
  return "";
}

}  // namespace vs::vmm
