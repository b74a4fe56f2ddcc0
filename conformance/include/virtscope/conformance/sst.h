// SingleStepTests conformance runner: hardware-captured single-instruction
// tests (SingleStepTests 80286 real mode, an 80386 sample; SST JSON layout)
// run one by one on the interpreter, every register and checked byte compared.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace vs::conformance {

struct SstOptions {
  bool verbose = false;              // a line per file, and every failing test in full (no per-form cap)
  std::string forms;                 // comma-separated globs on form names ("F6.*,D4"); empty: all
  uint64_t stop_after_failures = 0;  // stop once this many tests failed; 0: never
  unsigned details_per_form = 3;     // failing tests described per form (when not verbose)
  uint64_t instruction_budget = 64;  // per test; a REP string instruction counts as one
};

// Results for one form (one <form>.json.gz: an opcode, or opcode.reg for groups).
struct SstFormResult {
  std::string form;
  std::string status;         // metadata "status" (normal, undefined, alias, fpu, ...), "" if unknown
  uint64_t passed = 0, failed = 0, skipped = 0;
  std::string first_failure;  // "<test name>: <first difference>" of the first failing test
};

struct SstSummary {
  uint64_t passed = 0, failed = 0, skipped = 0;
  std::vector<SstFormResult> forms;  // every form that ran, in file-name order
  std::vector<std::string> errors;   // directories or files that could not be read or parsed
  bool stopped_early = false;        // SstOptions::stop_after_failures was reached

  bool clean() const { return failed == 0 && errors.empty(); }
  // One line per form with failures ("F6.4 [normal]: 12/300 failed; e.g. ...")
  // plus every error; empty when clean.
  std::string failure_table() const;
};

// Runs every <form>.json.gz in `dir` (sorted by name; metadata.json and
// manifest.json there supply the CPU, the mode and undefined-flag masks).
// Writes failure details, per-form failure counts and, last, exactly the line
// "sst: P passed, F failed, S skipped" to `report`. Never throws on bad data:
// unreadable files land in SstSummary::errors, unusable tests count as skipped.
SstSummary run_sst_dir(const std::string& dir, const SstOptions& options, std::ostream& report);

}  // namespace vs::conformance
