// Lockstep conformance: run one generated program on two oracles, compare the
// architectural state after every instruction (undefined flags masked per the
// Intel SDM), minimize the first divergences into one-instruction reproducers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "virtscope/conformance/oracle.h"
#include "virtscope/conformance/stream_gen.h"

namespace vs::conformance {

// EFLAGS bits an oracle may not be able to report faithfully: TF (single
// stepping), IF, RF, VM, AC, VIF, VIP, ID (SDM Vol. 1 §3.4.3).
inline constexpr uint32_t kDefaultUnknowableFlags =
    eflags::kTF | eflags::kIF | (1u << 16) | (1u << 17) | (1u << 18) | (1u << 19) | (1u << 20) | (1u << 21);

enum class SelectorCompare {
  Auto,    // off for UserFlat32 (the host picks the selectors), on otherwise
  Always,
  Never,
};

struct LockstepOptions {
  bool stop_at_first = true;             // false: count every divergence (registers are resynced)
  uint32_t memory_check_every = 16;      // K: compare the data window every K steps and at the end; 0 = end only
  uint32_t reference_unknowable_flags = kDefaultUnknowableFlags;
  uint32_t subject_unknowable_flags = kDefaultUnknowableFlags;
  SelectorCompare selectors = SelectorCompare::Auto;
  bool compare_error_codes = false;      // StepResult cannot say whether an oracle knows the code
  size_t max_memory_diffs = 16;          // bytes listed per divergence
};

struct MemoryDiff {
  uint32_t addr;  // linear
  uint8_t reference;
  uint8_t subject;
};

struct Divergence {
  size_t index = 0;                // instruction index in its program
  GeneratedInsn insn;              // the divergent instruction (after minimization: the reduced one)
  StartMode mode = StartMode::UserFlat32;
  Layout layout;
  ArchState before;                // reference state before the instruction
  ArchState reference_after, subject_after;
  StepResult reference_result, subject_result;
  uint32_t flags_compared = 0;     // EFLAGS bits that were compared
  std::vector<std::string> fields; // "EAX", "EFLAGS[ZF,CF]", "result", "vector", "memory", ...
  std::vector<MemoryDiff> memory;  // first differing bytes of the data window
  size_t memory_checked_from = 0;  // a memory difference arose in insns [memory_checked_from, index]
  bool minimized = false;
  bool reproduced_alone = false;   // meaningful when minimized
  std::vector<uint8_t> original_bytes;  // before prefix shrinking
  std::string note;
};

struct LockstepReport {
  uint64_t executed = 0;                        // instructions stepped on both oracles
  std::vector<Divergence> divergences;
  std::map<std::string, uint64_t> class_counts; // executed instructions per generator class
  std::string error;                            // an oracle failed (reset or StepResult::Error)
  std::vector<std::string> notes;               // e.g. the reference left the program
};

LockstepReport run_lockstep(Oracle& reference, Oracle& subject, const Program& program,
                            const LockstepOptions& options = {});

// Reduces a divergence of `program` to a one-instruction program that starts
// from the reference's state (and data window) before the instruction, checks
// that it still diverges alone, then drops 66/67/segment prefixes one at a time
// while the same fields still differ. Memory divergences found by a periodic
// check are first pinned to one instruction by re-running with K = 1.
Divergence minimize_divergence(Oracle& reference, Oracle& subject, const Program& program,
                               const Divergence& divergence, const LockstepOptions& options = {});

// Human-readable block: bytes, description, state before, differing fields.
std::string format_divergence(const Divergence& d);

struct CampaignOptions {
  size_t max_minimized = 3;  // divergences minimized and kept
  LockstepOptions lockstep;  // stop_at_first is forced off: a campaign counts them all
  GeneratorOptions generator;
  bool use_default_layout = true;  // default_layout(mode); else `layout`
  Layout layout;
};

struct LockstepSummary {
  std::string reference, subject;  // oracle names
  uint64_t programs = 0;
  uint64_t instructions = 0;
  uint64_t divergences = 0;
  std::map<std::string, uint64_t> class_counts;
  std::vector<Divergence> minimized;  // the first few, minimized
  std::string error;
  std::vector<std::string> notes;
};

LockstepSummary run_campaign(Oracle& reference, Oracle& subject, StartMode mode, uint64_t seed,
                             uint64_t total_instructions, size_t insns_per_program,
                             const CampaignOptions& options = {});

// "lockstep SUBJECT: N instructions, D divergences" (plus the error, if any).
std::string format_summary(const LockstepSummary& s);

}  // namespace vs::conformance
