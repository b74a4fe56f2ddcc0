// The cost model (DESIGN.md §5): one table of modelled cycles per event kind,
// each default with the published figure it comes from, so `compare` can
// turn event counts into cycles and a lesson can change a cost and watch the
// totals move. Guest instructions cost one cycle each (a modelling choice:
// CPI 1); everything a VMM adds on top (world switches, exits by reason,
// hypercalls, shadow syncs, ...) is charged from this table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vs::vmm {

struct CostEntry {
  std::string name;    // e.g. "hw_exit": a lower-case identifier
  uint64_t cycles = 0;
  std::string what;    // what one unit of it is
  std::string source;  // where the default comes from
};

class CostModel {
 public:
  // The defaults (cost_model.cpp lists every figure and its source).
  CostModel();

  const std::vector<CostEntry>& entries() const { return entries_; }
  // Cycles for `name`; 0 for a name not in the table.
  uint64_t cycles(std::string_view name) const;
  // A hardware VM exit of `reason` (a VT-x name): hw_exit.REASON when the
  // table has it, else hw_exit.
  uint64_t exit_cycles(std::string_view reason) const;
  const CostEntry* find(std::string_view name) const;

  // "name=cycles" (the command line's --cost). Returns "" or why not.
  std::string set(std::string_view assignment);
  // A file of "name = cycles" lines; '#' starts a comment. Returns "" or
  // "FILE:LINE: why"; nothing changes unless the whole file is valid.
  std::string load(const std::string& path);

 private:
  std::vector<CostEntry> entries_;
};

}  // namespace vs::vmm
