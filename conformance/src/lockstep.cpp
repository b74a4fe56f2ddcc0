// Lockstep driver, divergence minimizer and campaign helper (see lockstep.h).
// EFLAGS layout per Intel SDM Vol. 1 §3.4.3; prefixes per SDM Vol. 2 §2.1.1.
#include "virtscope/conformance/lockstep.h"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace vs::conformance {
using namespace eflags;
namespace {

const char* const kGprNames[8] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
const char* const kSregNames[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};

struct FlagName {
  uint32_t bit;
  const char* name;
};
constexpr FlagName kFlagNames[] = {
    {kCF, "CF"},       {1u << 1, "bit1"},  {kPF, "PF"},       {1u << 3, "bit3"},  {kAF, "AF"},
    {1u << 5, "bit5"}, {kZF, "ZF"},        {kSF, "SF"},       {kTF, "TF"},        {kIF, "IF"},
    {kDF, "DF"},       {kOF, "OF"},        {0x3000, "IOPL"},  {1u << 14, "NT"},   {1u << 15, "bit15"},
    {1u << 16, "RF"},  {1u << 17, "VM"},   {1u << 18, "AC"},  {1u << 19, "VIF"},  {1u << 20, "VIP"},
    {1u << 21, "ID"},
};

std::string hex(uint32_t v, int digits = 8) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*x", digits, v);
  return buf;
}

std::string flag_list(uint32_t bits, const char* sep = ",") {
  std::string out;
  for (const FlagName& f : kFlagNames) {
    if (!(bits & f.bit)) continue;
    if (!out.empty()) out += sep;
    out += f.name;
  }
  if (bits & 0xFFC00000u) out += std::string(out.empty() ? "" : sep) + "bits22-31";
  return out;
}

std::string bytes_text(const std::vector<uint8_t>& b) {
  std::string out;
  for (uint8_t v : b) out += (out.empty() ? "" : " ") + hex(v, 2);
  return out;
}

const char* mode_name(StartMode m) {
  switch (m) {
    case StartMode::UserFlat32: return "UserFlat32";
    case StartMode::Ring0Flat32: return "Ring0Flat32";
    case StartMode::Real16: return "Real16";
  }
  return "?";
}

std::string describe(const StepResult& r) {
  switch (r.kind) {
    case StepResult::Kind::Retired: return "retired";
    case StepResult::Kind::Exception: return "exception #" + std::to_string(r.vector) + " (error code " + hex(r.error_code, 4) + ")";
    case StepResult::Kind::Error: return "oracle error: " + r.message;
  }
  return "?";
}

bool is_legacy_prefix(uint8_t b) {
  switch (b) {
    case 0xF0: case 0xF2: case 0xF3: case 0x26: case 0x2E: case 0x36:
    case 0x3E: case 0x64: case 0x65: case 0x66: case 0x67:
      return true;
    default:
      return false;
  }
}

// Prefixes the minimizer may drop: operand size, address size, segment overrides.
bool is_droppable_prefix(uint8_t b) { return is_legacy_prefix(b) && b != 0xF0 && b != 0xF2 && b != 0xF3; }

// REP/REPE/REPNE on a string instruction (MOVS CMPS STOS LODS SCAS, A4-A7 AA-AF).
bool is_rep_string(const std::vector<uint8_t>& b) {
  bool rep = false;
  for (uint8_t v : b) {
    if (!is_legacy_prefix(v)) return rep && ((v >= 0xA4 && v <= 0xA7) || (v >= 0xAA && v <= 0xAF));
    rep |= v == 0xF2 || v == 0xF3;
  }
  return false;
}

// Steps one generated instruction. An oracle that reports every iteration of a
// REP string instruction as a step (as the trap flag does on silicon) is stepped
// until EIP leaves the instruction.
StepResult step_insn(Oracle& o, const GeneratedInsn& insn, uint32_t eip) {
  StepResult r = o.step();
  if (!is_rep_string(insn.bytes)) return r;
  for (int k = 0; k < 0x20000 && r.kind == StepResult::Kind::Retired && o.state().eip == eip; ++k) r = o.step();
  return r;
}

bool compares_selectors(const LockstepOptions& o, StartMode mode) {
  switch (o.selectors) {
    case SelectorCompare::Always: return true;
    case SelectorCompare::Never: return false;
    case SelectorCompare::Auto: return mode != StartMode::UserFlat32;
  }
  return false;
}

void compare_results(const StepResult& a, const StepResult& b, const LockstepOptions& o,
                     std::vector<std::string>& fields) {
  if (a.kind != b.kind) {
    fields.push_back("result");
    return;
  }
  if (a.kind != StepResult::Kind::Exception) return;
  if (a.vector != b.vector) fields.push_back("vector");
  else if (o.compare_error_codes && a.error_code != b.error_code) fields.push_back("error_code");
}

void compare_states(const ArchState& a, const ArchState& b, const GeneratedInsn& insn, uint32_t flags_compared,
                    bool selectors, std::vector<std::string>& fields) {
  for (int r = 0; r < 8; ++r) {
    uint32_t care = insn.undefined_gpr == r ? ~insn.undefined_gpr_bits : ~0u;
    if ((a.gpr[r] ^ b.gpr[r]) & care) fields.push_back(kGprNames[r]);
  }
  if (a.eip != b.eip) fields.push_back("EIP");
  if (uint32_t diff = (a.eflags ^ b.eflags) & flags_compared) fields.push_back("EFLAGS[" + flag_list(diff) + "]");
  if (!selectors) return;
  for (int s = 0; s < 6; ++s)
    if (a.seg[s] != b.seg[s]) fields.push_back(kSregNames[s]);
}

// Number of differing data-window bytes, or nullopt when an oracle cannot read it.
std::optional<size_t> diff_memory(Oracle& ref, Oracle& sub, const Layout& l, size_t max_listed,
                                  std::vector<MemoryDiff>& listed) {
  std::vector<uint8_t> a = ref.read_memory(l.data_base, l.data_size);
  std::vector<uint8_t> b = sub.read_memory(l.data_base, l.data_size);
  if (a.size() != l.data_size || b.size() != l.data_size) return std::nullopt;
  size_t count = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k] == b[k]) continue;
    if (listed.size() < max_listed) listed.push_back({l.data_base + uint32_t(k), a[k], b[k]});
    ++count;
  }
  return count;
}

// The state the subject continues from: the reference's, except for the bits
// the subject alone can know (unknowable EFLAGS bits, selectors when not compared).
ArchState resync_target(const ArchState& ref, const ArchState& sub, uint32_t unknowable, bool selectors) {
  ArchState s = ref;
  s.eflags = (ref.eflags & ~unknowable) | (sub.eflags & unknowable);
  if (!selectors) std::copy(std::begin(sub.seg), std::end(sub.seg), std::begin(s.seg));
  return s;
}

bool has_field(const Divergence& d, const std::string& name) {
  return std::find(d.fields.begin(), d.fields.end(), name) != d.fields.end();
}

void add_note(std::vector<std::string>& notes, const std::string& note) {
  if (notes.size() < 32 && std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
}

}  // namespace

// ---------------------------------------------------------------------------
// The driver

LockstepReport run_lockstep(Oracle& ref, Oracle& sub, const Program& prog, const LockstepOptions& o) {
  LockstepReport rep;
  if (prog.insns.empty()) {
    rep.notes.push_back("empty program");
    return rep;
  }
  if (auto e = ref.reset(prog.mode, prog.layout, prog.mem, prog.start)) {
    rep.error = ref.name() + " reset: " + *e;
    return rep;
  }
  if (auto e = sub.reset(prog.mode, prog.layout, prog.mem, prog.start)) {
    rep.error = sub.name() + " reset: " + *e;
    return rep;
  }
  const bool selectors = compares_selectors(o, prog.mode);
  const uint32_t unknowable = o.reference_unknowable_flags | o.subject_unknowable_flags;
  bool memory_ok = true;
  size_t checked_from = 0;  // first instruction since the last memory comparison
  uint32_t since_check = 0;
  const size_t n = prog.insns.size();

  for (size_t i = 0; i < n; ++i) {
    const GeneratedInsn& insn = prog.insns[i];
    ArchState before = ref.state();
    if (before.eip != prog.eip_of(i)) {
      rep.notes.push_back(ref.name() + " left the program: EIP " + hex(before.eip) + " before instruction " +
                          std::to_string(i));
      break;
    }
    StepResult ra = step_insn(ref, insn, before.eip);
    StepResult rb = step_insn(sub, insn, before.eip);
    if (ra.kind == StepResult::Kind::Error || rb.kind == StepResult::Kind::Error) {
      rep.error = ra.kind == StepResult::Kind::Error ? ref.name() + ": " + ra.message : sub.name() + ": " + rb.message;
      break;
    }
    ++rep.executed;
    ++rep.class_counts[insn.cls];
    ArchState a = ref.state(), b = sub.state();
    const uint32_t flags_compared = ~(insn.undefined_flags_mask | unknowable);
    std::vector<std::string> fields;
    compare_results(ra, rb, o, fields);
    compare_states(a, b, insn, flags_compared, selectors, fields);

    // The data window: at the end, every K steps and with any other difference (so that
    // one bad store counts once), but not while it holds host-specific bytes.
    bool last = i + 1 == n;
    ++since_check;
    bool periodic = o.memory_check_every && since_check >= o.memory_check_every;
    bool check = memory_ok && (last || (!insn.defer_memory_check && (periodic || !fields.empty())));
    std::vector<MemoryDiff> listed;
    size_t differing = 0;
    if (check) {
      std::optional<size_t> d = diff_memory(ref, sub, prog.layout, o.max_memory_diffs, listed);
      if (!d) {
        add_note(rep.notes, "memory not compared: an oracle could not read the data window");
        memory_ok = false;
      } else if (*d) {
        fields.push_back("memory");
        differing = *d;
      }
    }

    if (!fields.empty()) {
      Divergence d;
      d.index = i;
      d.insn = insn;
      d.mode = prog.mode;
      d.layout = prog.layout;
      d.before = before;
      d.reference_after = a;
      d.subject_after = b;
      d.reference_result = ra;
      d.subject_result = rb;
      d.flags_compared = flags_compared;
      d.fields = fields;
      d.memory = listed;
      d.memory_checked_from = differing ? checked_from : i;
      if (differing) d.note = std::to_string(differing) + " data-window bytes differ";
      rep.divergences.push_back(std::move(d));
      if (o.stop_at_first) break;
      if (differing) {  // memory cannot be resynced through the Oracle interface
        memory_ok = false;
        add_note(rep.notes, "memory comparison stopped after the first memory divergence");
      }
    }
    if (check) {
      checked_from = i + 1;
      since_check = 0;
    }

    // Move on: past a fault on both sides; and back in step after a divergence or
    // when only undefined bits differ (they must not leak into the next comparison).
    ArchState next = resync_target(a, b, unknowable, selectors);
    if (ra.kind == StepResult::Kind::Exception) {
      a.eip = next.eip = prog.eip_of(i + 1);
      ref.set_state(a);
      sub.set_state(next);
    } else if (!(next == b)) {
      sub.set_state(next);
    }
  }
  return rep;
}

// ---------------------------------------------------------------------------
// The minimizer

namespace {

// Runs the reference alone over instructions [0, upto) exactly as the driver does.
std::optional<std::string> replay_reference(Oracle& ref, const Program& prog, size_t upto, ArchState& state,
                                            std::vector<uint8_t>& data) {
  if (auto e = ref.reset(prog.mode, prog.layout, prog.mem, prog.start)) return "reset: " + *e;
  for (size_t i = 0; i < upto && i < prog.insns.size(); ++i) {
    StepResult r = step_insn(ref, prog.insns[i], prog.eip_of(i));
    if (r.kind == StepResult::Kind::Error) return r.message;
    if (r.kind == StepResult::Kind::Exception) {
      ArchState s = ref.state();
      s.eip = prog.eip_of(i + 1);
      ref.set_state(s);
    }
  }
  state = ref.state();
  data = ref.read_memory(prog.layout.data_base, prog.layout.data_size);
  return std::nullopt;
}

// One instruction, the given start state, the data window and only the code
// page(s) the instruction occupies.
Program single_insn_program(const Program& prog, const ArchState& before, const std::vector<uint8_t>& data,
                            const GeneratedInsn& insn) {
  Program p;
  p.mode = prog.mode;
  p.layout = prog.layout;
  p.start = before;
  p.mem.write(prog.layout.data_base, data);
  p.mem.write(insn.addr, insn.bytes);
  p.insns = {insn};
  p.insns[0].defer_memory_check = false;
  return p;
}

}  // namespace

Divergence minimize_divergence(Oracle& ref, Oracle& sub, const Program& prog, const Divergence& d,
                               const LockstepOptions& o) {
  LockstepOptions single = o;
  single.stop_at_first = true;
  single.memory_check_every = 1;

  Divergence cur = d;
  if (has_field(d, "memory") && d.memory_checked_from < d.index && d.index < prog.insns.size()) {
    Program head = prog;  // pin a periodic memory difference to one instruction
    head.insns.resize(d.index + 1);
    LockstepReport r = run_lockstep(ref, sub, head, single);
    if (!r.divergences.empty()) cur = r.divergences.front();
  }
  cur.minimized = true;
  cur.original_bytes = cur.insn.bytes;

  ArchState before;
  std::vector<uint8_t> data;
  if (auto e = replay_reference(ref, prog, cur.index, before, data)) {
    cur.note = "not minimized: replaying the reference failed: " + *e;
    return cur;
  }
  std::string notes;
  if (data.size() != prog.layout.data_size) {
    data.clear();
    for (uint32_t k = 0; k < prog.layout.data_size; ++k) data.push_back(prog.mem.read8(prog.layout.data_base + k));
    notes += " the reference cannot read memory: the reproducer uses the initial data window;";
  }
  if (!(before == cur.before)) notes += " the replayed state differs from the recorded one;";

  auto diverges_alone = [&](const GeneratedInsn& insn, Divergence& out) {
    LockstepReport r = run_lockstep(ref, sub, single_insn_program(prog, before, data, insn), single);
    if (r.divergences.empty()) return false;
    out = r.divergences.front();
    return true;
  };
  Divergence alone;
  if (!diverges_alone(cur.insn, alone)) {
    cur.reproduced_alone = false;
    cur.note = "does not diverge when run alone from the reference's registers and data window;" + notes;
    return cur;
  }

  std::string dropped;
  for (bool shrunk = true; shrunk;) {
    shrunk = false;
    const std::vector<uint8_t>& b = alone.insn.bytes;
    for (size_t k = 0; k < b.size() && is_legacy_prefix(b[k]); ++k) {
      if (!is_droppable_prefix(b[k])) continue;
      GeneratedInsn cand = alone.insn;
      cand.bytes.erase(cand.bytes.begin() + long(k));
      Divergence out;
      if (diverges_alone(cand, out) && out.fields == alone.fields) {
        dropped += (dropped.empty() ? "" : " ") + hex(b[k], 2);
        alone = out;
        shrunk = true;
        break;
      }
    }
  }
  alone.index = alone.memory_checked_from = cur.index;
  alone.minimized = true;
  alone.reproduced_alone = true;
  alone.original_bytes = cur.original_bytes;
  if (!dropped.empty()) alone.insn.text += " (dropped prefixes " + dropped + ")";
  alone.note = (cur.note.empty() ? "" : cur.note + ";") + notes;
  return alone;
}

// ---------------------------------------------------------------------------
// Formatting

std::string format_divergence(const Divergence& d) {
  std::string s;
  s += "divergence at instruction #" + std::to_string(d.index) + " [" + d.insn.cls + "] " + d.insn.text + "\n";
  s += "  bytes:   " + bytes_text(d.insn.bytes) + "  at " + hex(d.insn.addr) + " (" + mode_name(d.mode) + ")\n";
  if (d.minimized) {
    s += std::string("  reproduces alone: ") + (d.reproduced_alone ? "yes" : "no");
    if (d.original_bytes != d.insn.bytes) s += ", minimized from " + bytes_text(d.original_bytes);
    s += "\n";
  }
  std::string differs;
  for (const std::string& f : d.fields) differs += " " + f;
  s += "  differs:" + differs + "\n";
  s += "  result:  reference " + describe(d.reference_result) + ", subject " + describe(d.subject_result) + "\n";
  const ArchState& b = d.before;
  s += "  before (reference):\n   ";
  for (int r = 0; r < 8; ++r) s += std::string(" ") + kGprNames[r] + "=" + hex(b.gpr[r]) + (r == 3 ? "\n   " : "");
  s += "\n    EIP=" + hex(b.eip) + " EFLAGS=" + hex(b.eflags) + " [" + flag_list(b.eflags, " ") + "]\n   ";
  for (int g = 0; g < 6; ++g) s += std::string(" ") + kSregNames[g] + "=" + hex(b.seg[g], 4);
  s += "\n  after:          reference  subject\n";
  const ArchState& ra = d.reference_after;
  const ArchState& sa = d.subject_after;
  auto row = [&](const std::string& name, uint32_t x, uint32_t y, int digits = 8) {
    std::string label = name + std::string(name.size() < 16 ? 16 - name.size() : 1, ' ');
    s += "    " + label + hex(x, digits) + "   " + hex(y, digits) + (x != y ? "  <-" : "") + "\n";
  };
  for (int r = 0; r < 8; ++r)
    if (ra.gpr[r] != sa.gpr[r]) row(kGprNames[r], ra.gpr[r], sa.gpr[r]);
  row("EIP", ra.eip, sa.eip);
  row("EFLAGS", ra.eflags, sa.eflags);
  for (int g = 0; g < 6; ++g)
    if (ra.seg[g] != sa.seg[g]) row(kSregNames[g], ra.seg[g], sa.seg[g], 4);
  s += "  flags not compared: " + flag_list(~d.flags_compared & 0x3FFFFF, " ") + "\n";
  if (d.insn.undefined_gpr >= 0)
    s += std::string("  undefined after it: ") + kGprNames[d.insn.undefined_gpr] + " bits " + hex(d.insn.undefined_gpr_bits) + "\n";
  if (!d.memory.empty()) {
    s += "  memory (first differing bytes; arose in instructions #" + std::to_string(d.memory_checked_from) + "..#" +
         std::to_string(d.index) + "):\n";
    for (const MemoryDiff& m : d.memory)
      s += "    " + hex(m.addr) + "  reference " + hex(m.reference, 2) + "  subject " + hex(m.subject, 2) + "\n";
  }
  if (!d.note.empty()) s += "  note: " + d.note + "\n";
  return s;
}

std::string format_summary(const LockstepSummary& s) {
  std::string out = "lockstep " + s.subject + ": " + std::to_string(s.instructions) + " instructions, " +
                    std::to_string(s.divergences) + " divergences";
  if (!s.error.empty()) out += " (error: " + s.error + ")";
  return out;
}

// ---------------------------------------------------------------------------
// The campaign

LockstepSummary run_campaign(Oracle& ref, Oracle& sub, StartMode mode, uint64_t seed, uint64_t total,
                             size_t per_program, const CampaignOptions& opts) {
  LockstepSummary s;
  s.reference = ref.name();
  s.subject = sub.name();
  std::string why;
  if (!ref.available(mode, &why)) {
    s.error = s.reference + " is unavailable: " + why;
    return s;
  }
  if (!sub.available(mode, &why)) {
    s.error = s.subject + " is unavailable: " + why;
    return s;
  }
  StreamGenerator gen(seed, mode, opts.use_default_layout ? default_layout(mode) : opts.layout, opts.generator);
  if (!gen.error().empty()) {
    s.error = "unusable layout: " + gen.error();
    return s;
  }
  LockstepOptions lo = opts.lockstep;
  lo.stop_at_first = false;
  per_program = std::max<size_t>(per_program, 1);
  int idle = 0;
  while (s.instructions < total) {
    Program prog = gen.generate(size_t(std::min<uint64_t>(per_program, total - s.instructions)));
    LockstepReport r = run_lockstep(ref, sub, prog, lo);
    ++s.programs;
    s.instructions += r.executed;
    s.divergences += r.divergences.size();
    for (const auto& [cls, count] : r.class_counts) s.class_counts[cls] += count;
    for (const std::string& note : r.notes) add_note(s.notes, note);
    for (const Divergence& d : r.divergences) {
      if (s.minimized.size() >= opts.max_minimized) break;
      s.minimized.push_back(minimize_divergence(ref, sub, prog, d, lo));
    }
    if (!r.error.empty()) {
      s.error = r.error;
      break;
    }
    if (r.executed == 0 && ++idle >= 3) {
      s.error = "no instruction executed in three programs in a row";
      break;
    }
  }
  return s;
}

}  // namespace vs::conformance
