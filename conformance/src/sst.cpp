// SingleStepTests runner: load each <form>.json.gz (gzip, RFC 1952, via zlib),
// set up the captured start state in real mode (SDM Vol. 3 §20.1), run to the
// HLT that ends every test, compare registers and bytes under the suite's masks.
#include "virtscope/conformance/sst.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>

#include "json.h"
#include "virtscope/cpu/bus.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/cpu/state.h"
#include "virtscope/trace/event.h"

namespace vs::conformance {
namespace {

using cpu::CpuState;

// Real mode reaches at most FFFF:FFFF = 0x10FFEF (the 80286 and later drive
// A20, so the 64 KiB above 1 MiB are real memory): 2 MiB covers it.
constexpr uint32_t kMemorySize = 2u << 20;
constexpr size_t kMaxDecompressed = size_t(512) << 20;  // a zip bomb gets an error, not the heap

// The 80386 implements EFLAGS bits 0-17 only (CF..VM; 386 Programmer's
// Reference §2.3.4). The sample's captured EFLAGS read bits 18-31 as 1 and the
// files carry no "mask", so those bits are not compared (a P6 keeps AC/ID/VIF/VIP
// writable and zeroes 22-31: neither is the 386's answer).
constexpr uint32_t kEflags386Implemented = 0x0003FFFF;

// ------------------------------------------------------------- registers ----

enum class RegKind : uint8_t { Gpr, Ip, Flags, Seg, Cr0, Cr3, Dr6, Dr7 };
struct RegInfo {
  const char* name;
  RegKind kind;
  uint8_t index;  // Reg / SegReg
  uint8_t bits;
};
// The names SST uses: 16-bit ones for the 80286 (the 32-bit registers' low
// halves), 32-bit ones plus CR0/CR3/DR6/DR7 for the 80386.
constexpr RegInfo kRegs[] = {
    {"ax", RegKind::Gpr, cpu::EAX, 16},   {"cx", RegKind::Gpr, cpu::ECX, 16},
    {"dx", RegKind::Gpr, cpu::EDX, 16},   {"bx", RegKind::Gpr, cpu::EBX, 16},
    {"sp", RegKind::Gpr, cpu::ESP, 16},   {"bp", RegKind::Gpr, cpu::EBP, 16},
    {"si", RegKind::Gpr, cpu::ESI, 16},   {"di", RegKind::Gpr, cpu::EDI, 16},
    {"eax", RegKind::Gpr, cpu::EAX, 32},  {"ecx", RegKind::Gpr, cpu::ECX, 32},
    {"edx", RegKind::Gpr, cpu::EDX, 32},  {"ebx", RegKind::Gpr, cpu::EBX, 32},
    {"esp", RegKind::Gpr, cpu::ESP, 32},  {"ebp", RegKind::Gpr, cpu::EBP, 32},
    {"esi", RegKind::Gpr, cpu::ESI, 32},  {"edi", RegKind::Gpr, cpu::EDI, 32},
    {"ip", RegKind::Ip, 0, 16},           {"eip", RegKind::Ip, 0, 32},
    {"flags", RegKind::Flags, 0, 16},     {"eflags", RegKind::Flags, 0, 32},
    {"es", RegKind::Seg, cpu::ES, 16},    {"cs", RegKind::Seg, cpu::CS, 16},
    {"ss", RegKind::Seg, cpu::SS, 16},    {"ds", RegKind::Seg, cpu::DS, 16},
    {"fs", RegKind::Seg, cpu::FS, 16},    {"gs", RegKind::Seg, cpu::GS, 16},
    {"cr0", RegKind::Cr0, 0, 32},         {"cr3", RegKind::Cr3, 0, 32},
    {"dr6", RegKind::Dr6, 0, 32},         {"dr7", RegKind::Dr7, 0, 32},
};
constexpr unsigned kRegCount = sizeof(kRegs) / sizeof(kRegs[0]);
static_assert(kRegCount <= 32, "RegSet keeps presence in a 32-bit mask");

uint32_t width_mask(const RegInfo& r) { return r.bits == 32 ? 0xFFFFFFFFu : 0xFFFFu; }

int find_reg(std::string_view name) {
  for (unsigned k = 0; k < kRegCount; ++k)
    if (name == kRegs[k].name) return int(k);
  return -1;
}

uint32_t read_reg(const CpuState& s, const RegInfo& r) {
  uint32_t v = 0;
  switch (r.kind) {
    case RegKind::Gpr: v = s.gpr[r.index]; break;
    case RegKind::Ip: v = s.eip; break;
    case RegKind::Flags: v = s.eflags; break;
    case RegKind::Seg: v = s.seg[r.index].selector; break;
    case RegKind::Cr0: v = s.cr0; break;
    case RegKind::Cr3: v = s.cr3; break;
    case RegKind::Dr6: v = s.dr[6]; break;
    case RegKind::Dr7: v = s.dr[7]; break;
  }
  return v & width_mask(r);
}

// A real-mode segment load: the cache follows the selector (SDM Vol. 3 §20.1.1).
void load_real_segment(CpuState& s, unsigned seg, uint16_t selector) {
  s.seg[seg].selector = selector;
  s.seg[seg].base = uint32_t(selector) << 4;
  s.seg[seg].limit = 0xFFFF;
  s.seg[seg].attr = seg == cpu::CS ? 0x009B : 0x0093;  // present, accessed; code readable / data writable
}

void write_reg(CpuState& s, const RegInfo& r, uint32_t v) {
  const auto merge = [&](uint32_t& dst) { dst = r.bits == 32 ? v : (dst & 0xFFFF0000u) | (v & 0xFFFF); };
  switch (r.kind) {
    case RegKind::Gpr: merge(s.gpr[r.index]); break;
    case RegKind::Ip: merge(s.eip); break;
    case RegKind::Flags: merge(s.eflags); break;
    case RegKind::Seg: load_real_segment(s, r.index, uint16_t(v)); break;
    case RegKind::Cr0: s.cr0 = v; break;
    case RegKind::Cr3: s.cr3 = v; break;
    case RegKind::Dr6: s.dr[6] = v; break;
    case RegKind::Dr7: s.dr[7] = v; break;
  }
}

std::string hex(uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (int k = 0; v != 0 || k < digits; ++k, v >>= 4) s.insert(s.begin(), kDigits[v & 0xF]);
  return "0x" + s;
}

// ----------------------------------------------------------------- memory ----

// A fresh 2 MiB FlatMemory per test is what the test means; clearing one is
// cheaper than allocating one. Every page the CPU asks to write through
// host_page(.., for_write=true) (the only way the bus contract lets it write
// RAM; its TLB is flushed by set_state) or that the runner poked is zeroed
// before the next test, which leaves the memory as a fresh one.
class TestMemory final : public cpu::MemoryBus {
 public:
  TestMemory() : dirty_(kMemorySize >> 12, 0) {}
  uint8_t* map_page(uint32_t phys, bool for_write) override {
    uint8_t* page = ram_.host_page(phys, for_write);
    if (page && for_write) mark(phys >> 12);
    return page;
  }
  uint32_t read(uint32_t phys, unsigned size) override { return ram_.read(phys, size); }
  void write(uint32_t phys, unsigned size, uint32_t value) override { ram_.write(phys, size, value); }

  void poke(uint32_t addr, uint8_t value) {
    mark(addr >> 12);
    ram_.data()[addr] = value;
  }
  uint8_t byte(uint32_t addr) { return ram_.data()[addr]; }
  void clear() {
    for (uint32_t page : dirty_list_) {
      std::memset(ram_.data() + (size_t(page) << 12), 0, 4096);
      dirty_[page] = 0;
    }
    dirty_list_.clear();
  }

 private:
  void mark(uint32_t page) {
    if (page < dirty_.size() && !dirty_[page]) {
      dirty_[page] = 1;
      dirty_list_.push_back(page);
    }
  }
  cpu::FlatMemory ram_{kMemorySize};
  std::vector<uint8_t> dirty_;
  std::vector<uint32_t> dirty_list_;
};

// ------------------------------------------------------------------- data ----

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0 || uint64_t(size) > kMaxDecompressed) {
    error = path + ": cannot size the file or it is too large";
    return false;
  }
  in.seekg(0);
  out.resize(size_t(size));
  if (size > 0 && !in.read(out.data(), size)) {
    error = path + ": read error";
    return false;
  }
  return true;
}

// One gzip member (RFC 1952) inflated into `out` (reused across files).
bool gunzip(const std::string& in, std::string& out, std::string& error) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    error = "zlib initialisation failed";
    return false;
  }
  if (in.size() > 0xFFFFFFFFu) {
    inflateEnd(&zs);
    error = "compressed file too large";
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  size_t used = 0;
  out.resize(std::max<size_t>(in.size() * 4, 1 << 16));
  bool ok = false;
  for (;;) {
    if (used == out.size()) {
      if (out.size() >= kMaxDecompressed) {
        error = "decompressed data exceeds " + std::to_string(kMaxDecompressed >> 20) + " MiB";
        break;
      }
      out.resize(std::min(out.size() * 2, kMaxDecompressed));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = uInt(std::min<size_t>(out.size() - used, 0x40000000));
    const uInt before = zs.avail_out;
    const int r = inflate(&zs, Z_NO_FLUSH);
    used += before - zs.avail_out;
    if (r == Z_STREAM_END) {
      ok = zs.avail_in == 0;
      if (!ok) error = "data after the end of the gzip stream";
      break;
    }
    if (r == Z_OK) continue;
    if (r == Z_BUF_ERROR && zs.avail_out == 0) continue;  // needs a larger buffer
    error = r == Z_BUF_ERROR ? "truncated gzip data"
                             : std::string("corrupt gzip data: ") + (zs.msg ? zs.msg : "unknown zlib error");
    break;
  }
  inflateEnd(&zs);
  out.resize(ok ? used : 0);
  return ok;
}

// A register file as the test data gives it: values by kRegs index.
struct RegSet {
  uint32_t present = 0;  // bit k: kRegs[k] given
  uint32_t value[kRegCount] = {};
  bool has(unsigned k) const { return present & (1u << k); }
};

struct RamByte {
  uint32_t addr;
  uint8_t value;
};

struct SstTest {
  std::string_view name;
  int64_t idx = -1;
  std::vector<uint8_t> bytes;
  RegSet init, fin, mask;
  std::vector<RamByte> init_ram, fin_ram;
  bool exception = false;
  uint32_t exception_number = 0, flag_address = 0;
};

// Reads {"ax": 1, ...}; false (with `why`) on an unknown name or a bad value.
bool parse_regs(json::Value obj, RegSet& out, std::string& why) {
  out.present = 0;
  if (!obj.is_object()) {
    why = "registers are not an object";
    return false;
  }
  for (size_t k = 0; k < obj.size(); ++k) {
    const std::string_view name = obj.key_at(k);
    const int r = find_reg(name);
    if (r < 0) {
      why = "unknown register \"" + std::string(name) + "\"";
      return false;
    }
    const auto v = obj.value_at(k).uint64();
    if (!v || *v > width_mask(kRegs[r])) {
      why = "register " + std::string(name) + " has a value that is not a " +
            std::to_string(kRegs[r].bits) + "-bit unsigned number";
      return false;
    }
    out.present |= 1u << r;
    out.value[r] = uint32_t(*v);
  }
  return true;
}

bool parse_ram(json::Value arr, std::vector<RamByte>& out, std::string& why) {
  out.clear();
  if (!arr.is_array()) {
    why = "ram is not an array";
    return false;
  }
  for (size_t k = 0; k < arr.size(); ++k) {
    const json::Value e = arr[k];
    const auto a = e[0].uint64();
    const auto v = e[1].uint64();
    if (!e.is_array() || e.size() != 2 || !a || !v || *v > 0xFF) {
      why = "ram entry " + std::to_string(k) + " is not [address, byte]";
      return false;
    }
    if (*a >= kMemorySize) {
      why = "address " + hex(*a, 6) + " lies outside the " + std::to_string(kMemorySize >> 20) + " MiB test memory";
      return false;
    }
    out.push_back({uint32_t(*a), uint8_t(*v)});
  }
  return true;
}

bool parse_test(json::Value t, SstTest& out, std::string& why) {
  out.name = "?";
  out.idx = -1;
  if (!t.is_object()) {
    why = "test is not an object";
    return false;
  }
  out.name = t.get("name").string().value_or("?");
  out.idx = t.get("idx").int64().value_or(-1);
  out.bytes.clear();
  const json::Value bytes = t.get("bytes");
  for (size_t k = 0; k < bytes.size(); ++k) out.bytes.push_back(uint8_t(bytes[k].uint64().value_or(0)));
  const json::Value init = t.get("initial"), fin = t.get("final");
  if (!init.is_object() || !fin.is_object()) {
    why = "missing \"initial\" or \"final\"";
    return false;
  }
  if (!parse_regs(init.get("regs"), out.init, why) || !parse_regs(fin.get("regs"), out.fin, why)) return false;
  if (!parse_ram(init.get("ram"), out.init_ram, why) || !parse_ram(fin.get("ram"), out.fin_ram, why)) return false;
  out.mask.present = 0;
  if (const json::Value m = t.get("mask"); m.present() && !parse_regs(m, out.mask, why)) return false;
  out.exception = false;
  if (const json::Value e = t.get("exception"); e.present()) {
    const auto num = e.get("number").uint64();
    const auto fa = e.get("flag_address").uint64();
    if (!num || !fa || *num > 255 || *fa + 1 >= kMemorySize) {
      why = "malformed \"exception\"";
      return false;
    }
    out.exception = true;
    out.exception_number = uint32_t(*num);
    out.flag_address = uint32_t(*fa);
  }
  return true;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative '*'/'?' matching with one backtrack point.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool form_selected(const std::string& patterns, const std::string& form) {
  if (patterns.empty()) return true;
  std::stringstream ss(patterns);
  std::string one;
  while (std::getline(ss, one, ','))
    if (!one.empty() && glob_match(one, form)) return true;
  return false;
}

// ----------------------------------------------------------------- runner ----

// What one file's tests share: the processor, the mode and the FLAGS mask.
struct FormContext {
  std::string form;
  cpu::CpuModel model = cpu::CpuModel::I286;
  bool cpu386 = false;     // 80386 data: compare EFLAGS bits 0-17 only
  bool real_mode = true;   // manifest cpu_mode 0 (or no manifest)
  uint32_t flags_mask = 0xFFFF;  // metadata flags-mask, else every bit (16-bit FLAGS)
  std::string status;
};

class Runner {
 public:
  Runner(const std::string& dir, const SstOptions& options, std::ostream& report)
      : dir_(dir), opt_(options), out_(report) {}

  SstSummary run();

 private:
  bool load_json(const std::string& path, json::Document& doc, bool gz);
  FormContext context_for(const std::string& form, json::Value first_test);
  void run_file(const std::string& path, const std::string& form);
  void run_test(const FormContext& ctx, SstFormResult& counts, json::Value t);
  cpu::Cpu& cpu_for(cpu::CpuModel model);
  CpuState start_state(const FormContext& ctx, const SstTest& t) const;
  uint32_t mask_for(const FormContext& ctx, const SstTest& t, unsigned r) const;
  void compare(const FormContext& ctx, const SstTest& t, const CpuState& got);
  void pushed_flags_address(const SstTest& t, uint32_t& lo, uint32_t& hi);
  void note_failure(const FormContext& ctx, SstFormResult& counts, const SstTest& t);
  void note_skip(SstFormResult& counts, const SstTest& t, const std::string& why);

  std::string dir_;
  const SstOptions& opt_;
  std::ostream& out_;
  SstSummary sum_;
  json::Document metadata_, manifest_, tests_;
  bool have_metadata_ = false, have_manifest_ = false;
  std::string raw_, text_;  // file buffers, reused
  TestMemory mem_;
  cpu::NullIo null_io_;
  trace::EventLog log_;
  std::map<cpu::CpuModel, std::unique_ptr<cpu::Cpu>> cpus_;
  SstTest test_;
  std::vector<std::string> diffs_;
  std::map<std::string, uint64_t> skip_reasons_;
  unsigned details_shown_ = 0;  // in the current form
  uint64_t flag_address_corrected_ = 0;
};

bool Runner::load_json(const std::string& path, json::Document& doc, bool gz) {
  std::string error;
  if (!read_file(path, raw_, error)) {
    sum_.errors.push_back(error);
    return false;
  }
  if (gz && !gunzip(raw_, text_, error)) {
    sum_.errors.push_back(path + ": " + error);
    return false;
  }
  if (!doc.parse(gz ? text_ : raw_)) {
    sum_.errors.push_back(path + ": invalid JSON: " + doc.error());
    return false;
  }
  return true;
}

// The processor comes from the data: manifest files[form].cpu ("C286",
// "386E"), else metadata "cpu" ("286"), else the register names (ip vs eip).
FormContext Runner::context_for(const std::string& form, json::Value first_test) {
  FormContext c;
  c.form = form;
  std::string cpu_name;
  const json::Value mf = have_manifest_ ? manifest_.root().get("files").get(form) : json::Value();
  if (auto s = mf.get("cpu").string()) cpu_name = *s;
  if (cpu_name.empty() && have_metadata_)
    if (auto s = metadata_.root().get("cpu").string()) cpu_name = *s;
  if (cpu_name.find("386") != std::string::npos) {
    c.cpu386 = true;
  } else if (cpu_name.find("286") == std::string::npos) {
    c.cpu386 = first_test.get("initial").get("regs").get("eip").present();
  }
  // No 80386 model yet: its sample runs on the P6 model, which agrees with the
  // 386 on what the sample tests (ADD r/m8,r8 in real mode). A 386 model may
  // be added later; select it here then.
  c.model = c.cpu386 ? cpu::CpuModel::P6 : cpu::CpuModel::I286;
  if (auto mode = mf.get("cpu_mode").int64()) c.real_mode = *mode == 0;

  // Metadata: opcodes["F6"]["reg"]["4"] for the group form "F6.4".
  json::Value entry;
  if (have_metadata_) {
    const size_t dot = form.find('.');
    const json::Value op = metadata_.root().get("opcodes").get(std::string_view(form).substr(0, dot));
    entry = op;
    if (dot != std::string::npos) {
      if (json::Value sub = op.get("reg").get(std::string_view(form).substr(dot + 1)); sub.present()) entry = sub;
    }
  }
  if (auto s = entry.get("status").string()) c.status = *s;
  const uint32_t meta_mask = uint32_t(entry.get("flags-mask").uint64().value_or(0xFFFF) & 0xFFFF);
  c.flags_mask = c.cpu386 ? (meta_mask | 0xFFFF0000u) & kEflags386Implemented : meta_mask;
  return c;
}

cpu::Cpu& Runner::cpu_for(cpu::CpuModel model) {
  // One Cpu per model for the whole run: constructing one allocates its
  // decoded-block cache (megabytes), and set_state() resets everything a
  // test can observe (registers, caches, TLB, decoded blocks).
  auto& slot = cpus_[model];
  if (!slot) slot = std::make_unique<cpu::Cpu>(mem_, null_io_, log_, cpu::CpuConfig{.model = model});
  return *slot;
}

CpuState Runner::start_state(const FormContext& ctx, const SstTest& t) const {
  CpuState s;
  s.eflags = cpu::flag::kFixed1;
  for (unsigned seg = 0; seg < cpu::kSegCount; ++seg) load_real_segment(s, seg, 0);
  s.gdtr = {0, 0xFFFF};
  s.idtr = {0, 0x03FF};  // the real-mode interrupt vector table
  s.ldtr.attr = 0x0082;
  s.tr.attr = 0x008B;
  // The 80286 has only the MSW; PE=0 is real mode. ET as on a P6.
  s.cr0 = ctx.cpu386 ? s.cr0 : cpu::cr0::ET;
  for (unsigned r = 0; r < kRegCount; ++r)
    if (t.init.has(r)) write_reg(s, kRegs[r], t.init.value[r]);
  return s;
}

uint32_t Runner::mask_for(const FormContext& ctx, const SstTest& t, unsigned r) const {
  if (t.mask.has(r)) return t.mask.value[r] & width_mask(kRegs[r]);
  if (kRegs[r].kind == RegKind::Flags) return ctx.flags_mask & width_mask(kRegs[r]);
  return width_mask(kRegs[r]);
}

// Where the exception pushed FLAGS. Real-mode delivery pushes FLAGS, CS, IP
// (SDM Vol. 3 §20.1.4) and the handler's HLT runs next, so FLAGS sit at
// SS:SP+4 of the expected final state, each byte's offset wrapping at 64 KiB.
// The data's flag_address agrees whenever SP is even; with an odd SP it is one
// byte low (rounded down to even: all 250 such tests of the 80286 set), so the
// runner derives the address from SS:SP and counts the disagreements.
void Runner::pushed_flags_address(const SstTest& t, uint32_t& lo, uint32_t& hi) {
  const int ss = find_reg("ss");
  int sp = find_reg("sp");
  if (!t.fin.has(sp) && !t.init.has(sp)) sp = find_reg("esp");
  const auto expected = [&](int r) { return t.fin.has(r) ? t.fin.value[r] : t.init.value[r]; };
  if ((!t.fin.has(ss) && !t.init.has(ss)) || (!t.fin.has(sp) && !t.init.has(sp))) return;
  const uint32_t base = expected(ss) << 4;
  const uint32_t offset = expected(sp) & 0xFFFF;
  lo = base + ((offset + 4) & 0xFFFF);
  hi = base + ((offset + 5) & 0xFFFF);
  if (lo != t.flag_address) ++flag_address_corrected_;
}

void Runner::compare(const FormContext& ctx, const SstTest& t, const CpuState& got) {
  uint32_t flags_mask = ctx.flags_mask;
  for (unsigned r = 0; r < kRegCount; ++r) {
    if (!t.init.has(r) && !t.fin.has(r)) continue;
    const RegInfo& ri = kRegs[r];
    // Registers absent from final.regs kept their initial value.
    const uint32_t expected = t.fin.has(r) ? t.fin.value[r] : t.init.value[r];
    const uint32_t mask = mask_for(ctx, t, r);
    if (ri.kind == RegKind::Flags) flags_mask = mask;
    const uint32_t actual = read_reg(got, ri);
    if ((actual ^ expected) & mask) {
      const int w = ri.bits / 4;
      diffs_.push_back(std::string(ri.name) + ": expected " + hex(expected, w) + " got " + hex(actual, w) +
                       " (mask " + hex(mask, w) + ")");
    }
    // In real mode a segment's cache base always follows its selector.
    if (ri.kind == RegKind::Seg && ctx.real_mode) {
      const cpu::Segment& sg = got.seg[ri.index];
      if (sg.base != uint32_t(sg.selector) << 4)
        diffs_.push_back(std::string(ri.name) + ".base: expected " + hex(uint32_t(sg.selector) << 4, 8) +
                         " (selector << 4) got " + hex(sg.base, 8));
    }
  }
  uint32_t flags_lo = t.flag_address, flags_hi = t.flag_address + 1;
  if (t.exception) pushed_flags_address(t, flags_lo, flags_hi);
  for (const RamByte& b : t.fin_ram) {
    uint32_t mask = 0xFF;
    // The FLAGS image an exception pushed: undefined flags are masked there too.
    if (t.exception && b.addr == flags_lo) mask = flags_mask & 0xFF;
    if (t.exception && b.addr == flags_hi) mask = (flags_mask >> 8) & 0xFF;
    const uint8_t actual = mem_.byte(b.addr);
    if ((actual ^ b.value) & mask)
      diffs_.push_back("ram[" + hex(b.addr, 6) + "]: expected " + hex(b.value, 2) + " got " + hex(actual, 2) +
                       " (mask " + hex(mask, 2) + ")");
  }
}

void Runner::note_failure(const FormContext& ctx, SstFormResult& counts, const SstTest& t) {
  ++counts.failed;
  ++sum_.failed;
  if (counts.first_failure.empty())
    counts.first_failure = std::string(t.name) + ": " + (diffs_.empty() ? std::string("?") : diffs_.front());
  if (!opt_.verbose && details_shown_ >= opt_.details_per_form) return;
  ++details_shown_;
  out_ << "FAIL " << ctx.form << " #" << t.idx << " \"" << t.name << "\" bytes";
  char b[4];
  for (uint8_t v : t.bytes) {
    std::snprintf(b, sizeof b, " %02x", v);
    out_ << b;
  }
  if (t.exception) out_ << " (exception " << t.exception_number << ")";
  out_ << '\n';
  for (const std::string& d : diffs_) out_ << "    " << d << '\n';
}

void Runner::note_skip(SstFormResult& counts, const SstTest& t, const std::string& why) {
  ++counts.skipped;
  ++sum_.skipped;
  if (skip_reasons_[why]++ == 0)
    out_ << "SKIP " << counts.form << " #" << t.idx << " \"" << t.name << "\": " << why << '\n';
}

void Runner::run_test(const FormContext& ctx, SstFormResult& counts, json::Value tv) {
  SstTest& t = test_;
  std::string why;
  if (!parse_test(tv, t, why)) {
    note_skip(counts, t, why);
    return;
  }
  if (!ctx.real_mode) {
    note_skip(counts, t, "not a real-mode test (manifest cpu_mode != 0): this runner sets up real mode only");
    return;
  }
  CpuState s = start_state(ctx, t);
  // A real-mode test must start with paging and protection off; the data is
  // checked, not corrected.
  if (s.cr0 & (cpu::cr0::PE | cpu::cr0::PG)) {
    note_skip(counts, t, "real-mode test whose CR0 has PE or PG set");
    return;
  }
  mem_.clear();
  for (const RamByte& b : t.init_ram) mem_.poke(b.addr, b.value);
  cpu::Cpu& cpu = cpu_for(ctx.model);
  cpu.set_state(s);  // after the pokes: it also drops decoded code
  const uint64_t before = cpu.instructions();
  const cpu::RunStop stop = cpu.run(opt_.instruction_budget);
  diffs_.clear();
  const CpuState got = cpu.state();
  if (stop != cpu::RunStop::Halted) {
    std::string d = std::string("stopped: ") + cpu::run_stop_name(stop);
    if (stop == cpu::RunStop::Budget)
      d += " (" + std::to_string(cpu.instructions() - before) + " instructions without reaching HLT)";
    if (stop == cpu::RunStop::Unsupported && cpu.unsupported_feature())
      d += std::string(" (") + cpu.unsupported_feature() + ")";
    d += " at " + hex(got.seg[cpu::CS].selector, 4) + ":" + hex(got.eip, 4);
    diffs_.push_back(d);
    note_failure(ctx, counts, t);
    return;
  }
  compare(ctx, t, got);
  if (diffs_.empty()) {
    ++counts.passed;
    ++sum_.passed;
  } else {
    note_failure(ctx, counts, t);
  }
}

void Runner::run_file(const std::string& path, const std::string& form) {
  if (!load_json(path, tests_, true)) return;
  const json::Value root = tests_.root();
  if (!root.is_array()) {
    sum_.errors.push_back(path + ": the top-level value is not an array of tests");
    return;
  }
  const FormContext ctx = context_for(form, root[0]);
  SstFormResult counts;
  counts.form = form;
  counts.status = ctx.status;
  details_shown_ = 0;
  for (size_t k = 0; k < root.size(); ++k) {
    if (opt_.stop_after_failures && sum_.failed >= opt_.stop_after_failures) {
      sum_.stopped_early = true;
      break;
    }
    run_test(ctx, counts, root[k]);
  }
  if (opt_.verbose)
    out_ << "form " << form << ": " << counts.passed << " passed, " << counts.failed << " failed, "
         << counts.skipped << " skipped\n";
  sum_.forms.push_back(std::move(counts));
}

SstSummary Runner::run() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> files;  // (form, path)
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    constexpr std::string_view kExt = ".json.gz";
    if (name.size() > kExt.size() && name.ends_with(kExt))
      files.emplace_back(name.substr(0, name.size() - kExt.size()), it->path().string());
  }
  if (ec) sum_.errors.push_back(dir_ + ": " + ec.message());
  if (files.empty() && sum_.errors.empty()) sum_.errors.push_back(dir_ + ": no <form>.json.gz files");
  std::sort(files.begin(), files.end());

  if (fs::exists(fs::path(dir_) / "metadata.json", ec))
    have_metadata_ = load_json((fs::path(dir_) / "metadata.json").string(), metadata_, false);
  if (fs::exists(fs::path(dir_) / "manifest.json", ec))
    have_manifest_ = load_json((fs::path(dir_) / "manifest.json").string(), manifest_, false);

  for (const auto& [form, path] : files) {
    if (sum_.stopped_early) break;
    if (!form_selected(opt_.forms, form)) continue;
    run_file(path, form);
  }

  for (const auto& [why, n] : skip_reasons_) out_ << "skipped " << n << ": " << why << '\n';
  if (flag_address_corrected_)
    out_ << "note: " << flag_address_corrected_
         << " exception tests give a flag_address other than SS:SP+4 of the final state (odd SP); "
            "their pushed FLAGS were checked at SS:SP+4\n";
  const std::string table = sum_.failure_table();
  if (!table.empty()) out_ << "failures by form:\n" << table;
  if (sum_.stopped_early) out_ << "stopped after " << opt_.stop_after_failures << " failures\n";
  out_ << "sst: " << sum_.passed << " passed, " << sum_.failed << " failed, " << sum_.skipped << " skipped\n";
  return std::move(sum_);
}

}  // namespace

std::string SstSummary::failure_table() const {
  std::ostringstream o;
  for (const SstFormResult& f : forms) {
    if (f.failed == 0) continue;
    o << "  " << f.form << " [" << (f.status.empty() ? "?" : f.status) << "]: " << f.failed << "/"
      << (f.passed + f.failed + f.skipped) << " failed; e.g. " << f.first_failure << '\n';
  }
  for (const std::string& e : errors) o << "  error: " << e << '\n';
  return o.str();
}

SstSummary run_sst_dir(const std::string& dir, const SstOptions& options, std::ostream& report) {
  // The Runner holds a 2 MiB memory and the CPUs: keep it off the stack.
  auto runner = std::make_unique<Runner>(dir, options, report);
  return runner->run();
}

}  // namespace vs::conformance
