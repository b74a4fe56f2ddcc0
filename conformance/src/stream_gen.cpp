// Reproducible random IA-32 instruction streams (see stream_gen.h). Encodings follow
// Intel SDM Vol. 2 §2.1 and Appendix A; undefined flags follow each instruction's "Flags Affected".
#include "virtscope/conformance/stream_gen.h"

#include <algorithm>
#include <utility>

namespace vs::conformance {
using namespace eflags;
namespace {

constexpr uint32_t kRealModeTop = 0x100000;
constexpr int kEdge = 64;  // bytes kept free at both ends of the data window

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

int64_t sign_extend(uint64_t v, int bits) {
  uint64_t m = 1ull << (bits - 1);
  v &= bits == 64 ? ~0ull : (1ull << bits) - 1;
  return int64_t((v ^ m) - m);
}

uint32_t width_mask(int w) { return w == 32 ? 0xFFFFFFFFu : (1u << w) - 1; }

void put16(std::vector<uint8_t>& b, uint32_t v) { b.push_back(uint8_t(v)); b.push_back(uint8_t(v >> 8)); }
void put32(std::vector<uint8_t>& b, uint32_t v) { put16(b, v); put16(b, v >> 16); }

const char* const kAluNames[8] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
const char* const kShiftNames[8] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal(/6)", "sar"};
const char* const kCond[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};
const char* const kSegNames[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
constexpr uint8_t kSegPrefix[6] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65};

// Values that sit on carry/overflow/sign boundaries (SDM Vol. 1 §3.4.3.1).
constexpr uint32_t kEdgeValues[] = {0,      1,          2,          0x7F,       0x80,       0xFF,
                                    0x100,  0x7FFF,     0x8000,     0xFFFF,     0x10000,    0x7FFFFFFF,
                                    0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF};

// A memory store done by a setup instruction (mov [abs], imm) before the tested one.
struct Store {
  uint32_t ea;
  int width;
  uint32_t value;
};

// The instruction under construction plus the setup it needs first.
struct Pending {
  std::vector<uint8_t> prefixes;  // emitted in a random order
  std::vector<uint8_t> body;      // opcode, ModRM, SIB, displacement, immediate
  std::string name, ops, notes;   // "add", "Ev,Gv", " lock ss:"
  std::string cls;
  int osize = 0, asize = 0;  // shown in the text when set
  uint32_t undef = 0;
  bool may_fault = false;
  int undefined_gpr = -1;
  uint32_t undefined_gpr_bits = 0;
  bool defer_memory_check = false;
  std::vector<std::pair<int, uint32_t>> regs;  // setup: mov r32, imm32
  std::vector<Store> stores;                   // setup: mov [abs], imm
  uint8_t used = 0;                            // registers the setup already assigns
};

}  // namespace

// ---------------------------------------------------------------------------
// Layouts and selectors

Layout default_layout(StartMode mode) {
  Layout l;
  if (mode == StartMode::Real16) {
    l.code_base = 0x10000;
    l.code_size = 0x10000;
    l.data_base = 0x20000;
    l.data_size = 0x10000;
    l.stack_top = 0x30000;
  }
  return l;
}

std::string check_layout(StartMode mode, const Layout& l) {
  uint64_t code_end = uint64_t(l.code_base) + l.code_size;
  uint64_t data_end = uint64_t(l.data_base) + l.data_size;
  if (l.code_size < 0x1000) return "the code window is smaller than 4 KiB";
  if (l.data_size < 0x1000) return "the data window is smaller than 4 KiB";
  if (code_end > (1ull << 32) || data_end > (1ull << 32)) return "a window wraps past 4 GiB";
  if (l.code_base < data_end && l.data_base < code_end) return "the code and data windows overlap";
  if (l.stack_top < l.data_base || l.stack_top > data_end) return "stack_top lies outside the data window";
  if (mode == StartMode::Real16) {
    if (code_end > kRealModeTop || data_end > kRealModeTop) return "real-mode windows must lie below 1 MiB";
    if (l.code_size > 0x10000 || l.data_size > 0x10000) return "real-mode windows must fit one 64 KiB segment";
    if (l.code_base % 16 || l.data_base % 16) return "real-mode windows must start on a 16-byte paragraph";
  }
  return "";
}

void default_selectors(StartMode mode, const Layout& l, uint16_t seg[6]) {
  switch (mode) {
    case StartMode::UserFlat32:  // Linux __USER32_CS / __USER_DS on x86_64 hosts
      seg[CS] = 0x23;
      seg[ES] = seg[SS] = seg[DS] = 0x2B;
      seg[FS] = seg[GS] = 0;
      break;
    case StartMode::Ring0Flat32:
      seg[CS] = 0x08;
      seg[ES] = seg[SS] = seg[DS] = seg[FS] = seg[GS] = 0x10;
      break;
    case StartMode::Real16:
      seg[CS] = uint16_t(l.code_base >> 4);
      seg[ES] = seg[SS] = seg[DS] = seg[FS] = seg[GS] = uint16_t(l.data_base >> 4);
      break;
  }
}

uint32_t Program::code_segment_base() const {
  return mode == StartMode::Real16 ? uint32_t(start.seg[CS]) << 4 : 0;
}

uint32_t Program::eip_of(size_t i) const {
  if (i < insns.size()) return insns[i].addr - code_segment_base();
  if (insns.empty()) return start.eip;
  const GeneratedInsn& last = insns.back();
  return last.addr + uint32_t(last.bytes.size()) - code_segment_base();
}

// ---------------------------------------------------------------------------
// PRNG: xoshiro256** seeded through splitmix64 (fixed arithmetic, same on every host).

StreamGenerator::StreamGenerator(uint64_t seed, StartMode mode, Layout layout, GeneratorOptions options)
    : mode_(mode), layout_(layout), options_(options), error_(check_layout(mode, layout)) {
  uint64_t x = seed;
  for (uint64_t& s : s_) s = splitmix64(x);
}

uint64_t StreamGenerator::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint32_t StreamGenerator::below(uint32_t n) { return n ? uint32_t(next() % n) : 0; }

// ---------------------------------------------------------------------------
// The emitter: builds one program, instruction family by instruction family.

struct StreamGenerator::Emitter {
  StreamGenerator& g;
  Program& p;
  const GeneratorOptions& opt;
  bool code16;               // real mode: 16-bit operand and address size by default
  uint32_t win_start = 0;    // data window as offsets in DS (linear in the flat modes)
  uint32_t win_end = 0;
  bool a16_reaches_data;     // 16-bit addressing can reach the data window
  uint32_t next_addr = 0;    // linear address of the next instruction
  uint32_t code_end = 0;
  uint32_t esp = 0;          // ESP as far as the generator knows

  Emitter(StreamGenerator& gen, Program& prog)
      : g(gen), p(prog), opt(gen.options_), code16(prog.mode == StartMode::Real16) {
    const Layout& l = p.layout;
    win_start = code16 ? 0 : l.data_base;
    win_end = win_start + l.data_size;
    a16_reaches_data = code16 || uint64_t(l.data_base) + l.data_size <= 0x10000;
    next_addr = l.code_base;
    code_end = l.code_base + l.code_size;
    esp = p.start.gpr[ESP];
  }

  uint32_t cs_base() const { return p.code_segment_base(); }
  bool room() const { return uint64_t(next_addr) + 256 <= code_end; }

  // -- random choices -------------------------------------------------------

  uint32_t interesting() {
    switch (g.below(4)) {
      case 0: return kEdgeValues[g.below(sizeof kEdgeValues / sizeof kEdgeValues[0])];
      case 1: return g.below(256);
      case 2: return 0u - g.below(256);
      default: return uint32_t(g.next());
    }
  }

  int pick_reg(bool writable, int width) {
    for (;;) {
      int r = int(g.below(8));
      if (writable && width != 8 && r == ESP) continue;  // ESP is moved only by stack ops and setups
      return r;
    }
  }

  int pick_free_reg(const Pending& i) {  // a non-ESP register the setup does not assign yet
    for (int tries = 0; tries < 32; ++tries) {
      int r = int(g.below(8));
      if (r != ESP && !(i.used & (1u << r))) return r;
    }
    return -1;
  }

  // An effective address (DS offset) for an access of `span` bytes inside the data window.
  uint32_t pick_ea(uint32_t span) {
    uint32_t lo = win_start + kEdge, hi = win_end - kEdge - span;
    return lo + g.below(hi - lo + 1);
  }

  int choose_osize(Pending& i) {
    int size = g.chance(30) ? (code16 ? 32 : 16) : (code16 ? 16 : 32);
    if ((size == 16) != code16) i.prefixes.push_back(0x66);
    i.osize = size;
    return size;
  }

  void set_asize(Pending& i, bool a16) {
    if (a16 != code16) i.prefixes.push_back(0x67);
    i.asize = a16 ? 16 : 32;
  }

  bool choose_a16(bool no_access) {
    if (code16) return !g.chance(25);
    return (a16_reaches_data || no_access) && g.chance(30);
  }

  void maybe_segment(Pending& i) {
    if (!g.chance(20)) return;
    static constexpr int kFlat[] = {ES, SS, DS};
    static constexpr int kReal[] = {ES, SS, DS, FS, GS};
    int s = code16 ? kReal[g.below(5)] : kFlat[g.below(3)];
    i.prefixes.push_back(kSegPrefix[s]);
    i.notes += std::string(" ") + kSegNames[s] + ":";
  }

  // Gives register `r` (an encoding of `width`) an interesting value before the instruction.
  void seed(Pending& i, int r, int width, int percent = 30) {
    int full = width == 8 ? (r & 3) : r;
    if (full == ESP || (i.used & (1u << full)) || !g.chance(uint32_t(percent))) return;
    uint32_t v = interesting();
    if (width == 8 && r >= 4) v = (uint32_t(g.next()) & 0xFFFF00FF) | ((v & 0xFF) << 8);
    i.regs.push_back({full, v});
    i.used |= uint8_t(1u << full);
  }

  void set_reg(Pending& i, int r, uint32_t v) {
    i.regs.push_back({r, v});
    i.used |= uint8_t(1u << r);
  }

  void imm(Pending& i, int width, uint32_t v) {
    if (width == 8) i.body.push_back(uint8_t(v));
    else if (width == 16) put16(i.body, v);
    else put32(i.body, v);
  }

  void lock(Pending& i) {
    i.prefixes.push_back(0xF0);
    i.notes += " lock";
  }

  void invalid_lock(Pending& i) {  // SDM Vol. 2 LOCK: #UD unless a lockable memory-destination form
    i.prefixes.push_back(0xF0);
    i.notes += " lock(invalid: #UD)";
    i.may_fault = true;
  }

  // -- ModRM / SIB (SDM Vol. 2 Tables 2-1, 2-2, 2-3) -------------------------

  // Appends a 32-bit-address ModRM[+SIB][+disp] for `ea`; registers go to the setup.
  void modrm32(Pending& i, int reg, uint32_t ea) {
    auto usable = [&](int r) { return !(i.used & (1u << r)); };
    int form = int(g.below(8));
    uint8_t ro = uint8_t(reg << 3);
    if (form >= 1 && form <= 3) {  // [base], [base+disp8], [base+disp32]
      int base = int(g.below(8));
      if (base == ESP || (form == 1 && base == EBP) || !usable(base)) form = 0;
      else if (form == 1) {
        i.body.push_back(uint8_t(ro | base));
        set_reg(i, base, ea);
        return;
      } else if (form == 2) {
        int8_t d = int8_t(g.next());
        i.body.push_back(uint8_t(0x40 | ro | base));
        i.body.push_back(uint8_t(d));
        set_reg(i, base, ea - uint32_t(int32_t(d)));
        return;
      } else {
        uint32_t d = uint32_t(g.next());
        i.body.push_back(uint8_t(0x80 | ro | base));
        put32(i.body, d);
        set_reg(i, base, ea - d);
        return;
      }
    }
    if (form >= 4) {  // SIB forms
      int mod = int(g.below(3)), scale = int(g.below(4));
      int base = int(g.below(8)), index = g.chance(20) ? ESP /* none */ : int(g.below(8));
      bool no_base = mod == 0 && base == EBP;
      bool ok = (no_base || usable(base)) && (index == ESP || (usable(index) && (no_base || index != base)));
      if (base == ESP) {  // keep ESP a valid stack pointer: no index, small non-positive disp
        index = ESP;
        ok = usable(ESP);
      }
      if (ok) {
        uint32_t idx_value = 0;
        if (index != ESP) idx_value = g.chance(50) ? g.below(0x1000) : uint32_t(g.next());
        uint32_t scaled = idx_value << scale;
        i.body.push_back(uint8_t(mod << 6 | ro | 4));
        i.body.push_back(uint8_t(scale << 6 | index << 3 | base));
        uint32_t disp = 0;
        if (base == ESP) disp = mod == 0 ? 0 : 0u - g.below(33);
        else if (mod != 0 || no_base) disp = mod == 1 ? uint32_t(int32_t(int8_t(g.next()))) : uint32_t(g.next());
        if (no_base) {
          disp = ea - scaled;
          put32(i.body, disp);
        } else if (mod == 1) {
          i.body.push_back(uint8_t(disp));
        } else if (mod == 2) {
          put32(i.body, disp);
        }
        if (index != ESP) set_reg(i, index, idx_value);
        if (!no_base) set_reg(i, base, ea - disp - scaled);
        return;
      }
    }
    i.body.push_back(uint8_t(ro | 5));  // [disp32]
    put32(i.body, ea);
  }

  // Appends a 16-bit-address ModRM[+disp] for `ea` (offset wraps at 64 KiB).
  void modrm16(Pending& i, int reg, uint32_t ea) {
    static constexpr int kRegs[8][2] = {{EBX, ESI}, {EBX, EDI}, {EBP, ESI}, {EBP, EDI},
                                        {ESI, -1},  {EDI, -1},  {EBP, -1},  {EBX, -1}};
    uint8_t ro = uint8_t(reg << 3);
    for (int tries = 0; tries < 8; ++tries) {
      int rm = int(g.below(8)), mod = int(g.below(3));
      if (mod == 0 && rm == 6) break;  // that encoding is [disp16]
      int r0 = kRegs[rm][0], r1 = kRegs[rm][1];
      if ((i.used & (1u << r0)) || (r1 >= 0 && (i.used & (1u << r1)))) continue;
      uint32_t disp = mod == 1 ? uint32_t(int32_t(int8_t(g.next()))) : mod == 2 ? g.below(0x10000) : 0;
      i.body.push_back(uint8_t(mod << 6 | ro | rm));
      if (mod == 1) i.body.push_back(uint8_t(disp));
      if (mod == 2) put16(i.body, disp);
      uint32_t high = uint32_t(g.next()) & 0xFFFF0000;  // ignored by 16-bit addressing
      uint32_t v0 = r1 >= 0 ? g.below(0x10000) : 0;
      if (r1 >= 0) set_reg(i, r1, high | v0);
      set_reg(i, r0, high | ((ea - disp - v0) & 0xFFFF));
      return;
    }
    i.body.push_back(uint8_t(ro | 6));  // [disp16]
    put16(i.body, ea);
  }

  // A memory operand at `ea`: address size, segment override and ModRM.
  void memory(Pending& i, int reg, uint32_t ea, bool no_access = false) {
    bool a16 = choose_a16(no_access);
    if (a16 && !a16_reaches_data) ea = g.below(0x10000);  // LEA / hint NOP only
    set_asize(i, a16);
    maybe_segment(i);
    if (a16) modrm16(i, reg, ea);
    else modrm32(i, reg, ea);
  }

  // An E operand: a register (seeded sometimes) or memory; returns true for memory.
  bool e_operand(Pending& i, int reg, int width, bool writable, int mem_percent = 50) {
    if (g.chance(uint32_t(mem_percent))) {
      memory(i, reg, pick_ea(8));
      return true;
    }
    int rm = pick_reg(writable, width);
    seed(i, rm, width);
    i.body.push_back(uint8_t(0xC0 | reg << 3 | rm));
    return false;
  }

  // -- emission ---------------------------------------------------------------

  void push_insn(std::vector<uint8_t> bytes, std::string text, std::string cls, uint32_t undef = 0) {
    GeneratedInsn insn;
    insn.addr = next_addr;
    insn.bytes = std::move(bytes);
    insn.text = std::move(text);
    insn.cls = std::move(cls);
    insn.undefined_flags_mask = undef;
    next_addr += uint32_t(insn.bytes.size());
    p.insns.push_back(std::move(insn));
  }

  std::vector<uint8_t> mov_imm_bytes(int r, uint32_t v) const {
    std::vector<uint8_t> b;
    if (code16) b.push_back(0x66);
    b.push_back(uint8_t(0xB8 + r));
    put32(b, v);
    return b;
  }

  std::vector<uint8_t> store_bytes(const Store& s) const {  // mov [abs], imm (C6 /0, C7 /0)
    std::vector<uint8_t> b;
    if (s.width != 8 && (s.width == 16) != code16) b.push_back(0x66);
    b.push_back(s.width == 8 ? 0xC6 : 0xC7);
    b.push_back(code16 ? 0x06 : 0x05);
    if (code16) put16(b, s.ea);
    else put32(b, s.ea);
    std::vector<uint8_t> v;
    if (s.width == 8) v.push_back(uint8_t(s.value));
    else if (s.width == 16) put16(v, s.value);
    else put32(v, s.value);
    b.insert(b.end(), v.begin(), v.end());
    return b;
  }

  void setup_reg(int r, uint32_t v) {
    push_insn(mov_imm_bytes(r, v), "mov r32,imm32 (setup)", "setup");
    if (r == ESP) esp = v;
  }

  void setup_store(const Store& s) { push_insn(store_bytes(s), "mov E,I (setup store)", "setup"); }

  // Bytes the setup of `i` will take (values do not change lengths).
  uint32_t setup_length(const Pending& i) const {
    uint32_t n = 0;
    for (const Store& s : i.stores) n += uint32_t(store_bytes(s).size());
    n += uint32_t(i.regs.size() * mov_imm_bytes(EAX, 0).size());
    return n;
  }

  void emit(Pending& i) {
    for (const Store& s : i.stores) setup_store(s);
    for (auto [r, v] : i.regs) setup_reg(r, v);
    for (size_t k = i.prefixes.size(); k > 1; --k) std::swap(i.prefixes[k - 1], i.prefixes[g.below(uint32_t(k))]);
    std::vector<uint8_t> bytes = i.prefixes;
    bytes.insert(bytes.end(), i.body.begin(), i.body.end());
    std::string text = i.name + (i.ops.empty() ? "" : " " + i.ops);
    if (i.osize) text += i.osize == 16 ? " o16" : " o32";
    if (i.asize) text += i.asize == 16 ? " a16" : " a32";
    text += i.notes;
    push_insn(std::move(bytes), std::move(text), i.cls, i.undef);
    GeneratedInsn& out = p.insns.back();
    out.may_fault = i.may_fault;
    out.undefined_gpr = i.undefined_gpr;
    out.undefined_gpr_bits = i.undefined_gpr_bits;
    out.defer_memory_check = i.defer_memory_check;
  }

  // -- the stack pointer ---------------------------------------------------------

  void stack_moved(int32_t delta) {
    if (code16) esp = (esp & 0xFFFF0000) | ((esp + uint32_t(delta)) & 0xFFFF);  // SS is a 16-bit stack
    else esp += uint32_t(delta);
  }

  // Sets ESP (when needed) so that `below` bytes can be pushed and `above` popped.
  void ensure_stack(uint32_t below_bytes, uint32_t above_bytes) {
    uint64_t e = esp;
    bool ok = e >= uint64_t(win_start) + kEdge + below_bytes && e + above_bytes + kEdge <= win_end;
    if (ok && !g.chance(10)) return;
    uint32_t lo = win_start + (win_end - win_start) / 2, hi = win_end - kEdge - above_bytes;
    uint32_t v = lo + g.below(hi - lo);
    if (!g.chance(10)) v &= ~3u;
    setup_reg(ESP, v);
  }

  // -- instruction families ----------------------------------------------------

  // ADD OR ADC SBB AND SUB XOR CMP, opcodes 00-3D and 80-83 (SDM Vol. 2 Appendix A Table A-2).
  void alu() {
    Pending i;
    i.cls = "alu";
    int op = int(g.below(8)), form = int(g.below(9));
    bool writes = op != 7, logic = op == 1 || op == 4 || op == 6;
    i.name = kAluNames[op];
    i.undef = logic ? kAF : 0;  // AND/OR/XOR: "The state of the AF flag is undefined"
    bool byte = form == 0 || form == 2 || form == 4 || form == 6;
    int w = byte ? 8 : choose_osize(i);
    bool mem_dest = false;
    switch (form) {
      case 0: case 1: {
        int r = pick_reg(false, w);
        seed(i, r, w);
        i.ops = byte ? "Eb,Gb" : "Ev,Gv";
        i.body = {uint8_t(op * 8 + (byte ? 0 : 1))};
        mem_dest = e_operand(i, r, w, writes);
        break;
      }
      case 2: case 3: {
        int r = pick_reg(writes, w);
        seed(i, r, w);
        i.ops = byte ? "Gb,Eb" : "Gv,Ev";
        i.body = {uint8_t(op * 8 + (byte ? 2 : 3))};
        e_operand(i, r, w, false);
        break;
      }
      case 4: case 5:
        seed(i, EAX, w, 50);
        i.ops = byte ? "AL,Ib" : "eAX,Iz";
        i.body = {uint8_t(op * 8 + (byte ? 4 : 5))};
        imm(i, w, interesting());
        break;
      case 6: {
        uint8_t opc = g.chance(10) ? 0x82 : 0x80;  // 82 is the 32-bit-only alias of 80
        i.ops = opc == 0x82 ? "Eb,Ib (82)" : "Eb,Ib";
        i.body = {opc};
        mem_dest = e_operand(i, op, 8, writes);
        imm(i, 8, interesting());
        break;
      }
      case 7: case 8:
        i.ops = form == 7 ? "Ev,Iz" : "Ev,Ib";
        i.body = {uint8_t(form == 7 ? 0x81 : 0x83)};
        mem_dest = e_operand(i, op, w, writes);
        imm(i, form == 7 ? w : 8, interesting());
        break;
    }
    if (mem_dest && writes && g.chance(15)) lock(i);
    else if (!(mem_dest && writes) && opt.faults && opt.invalid_lock && g.chance(3)) invalid_lock(i);
    emit(i);
  }

  // INC DEC NOT NEG TEST: 40-4F, FE/FF /0 /1, F6/F7 /0 /2 /3, 84/85, A8/A9.
  void unary() {
    Pending i;
    i.cls = "alu";
    int kind = int(g.below(6));
    if (kind == 0) {  // inc/dec r16/r32 (one-byte forms)
      int w = choose_osize(i), r = pick_reg(true, w);
      bool dec = g.chance(50);
      seed(i, r, w, 50);
      i.name = dec ? "dec" : "inc";
      i.ops = "Zv";
      i.body = {uint8_t((dec ? 0x48 : 0x40) + r)};
      emit(i);
      return;
    }
    if (kind <= 3) {  // FE/FF /0 /1 inc/dec, F6/F7 /2 not, /3 neg
      bool byte = g.chance(40);
      int w = byte ? 8 : choose_osize(i);
      int ext = kind == 1 ? int(g.below(2)) : kind == 2 ? 2 : 3;
      static const char* const kNames[4] = {"inc", "dec", "not", "neg"};
      i.name = kNames[ext];
      i.ops = byte ? "Eb" : "Ev";
      i.body = {uint8_t(ext < 2 ? (byte ? 0xFE : 0xFF) : (byte ? 0xF6 : 0xF7))};
      bool mem = e_operand(i, ext, w, true);
      if (mem && g.chance(15)) lock(i);
      emit(i);
      return;
    }
    // TEST: AF undefined (SDM Vol. 2 TEST, Flags Affected)
    i.name = "test";
    i.undef = kAF;
    bool byte = g.chance(40);
    int w = byte ? 8 : choose_osize(i);
    int form = int(g.below(3));
    if (form == 0) {
      int r = pick_reg(false, w);
      seed(i, r, w);
      i.ops = byte ? "Eb,Gb" : "Ev,Gv";
      i.body = {uint8_t(byte ? 0x84 : 0x85)};
      e_operand(i, r, w, false);
    } else if (form == 1) {
      seed(i, EAX, w, 50);
      i.ops = byte ? "AL,Ib" : "eAX,Iz";
      i.body = {uint8_t(byte ? 0xA8 : 0xA9)};
      imm(i, w, interesting());
    } else {
      i.ops = byte ? "Eb,Ib" : "Ev,Iz";
      i.body = {uint8_t(byte ? 0xF6 : 0xF7)};
      e_operand(i, 0, w, false);
      imm(i, w, interesting());
    }
    emit(i);
  }

  uint32_t shift_count(int width) {
    switch (g.below(8)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return uint32_t(width);
      case 3: return 2 + g.below(uint32_t(width - 2));
      case 4: return width < 31 ? uint32_t(width) + 1 + g.below(uint32_t(31 - width)) : 31;
      case 5: return 32 + g.below(224);
      case 6: return 31;
      default: return g.below(256);
    }
  }

  // ROL ROR RCL RCR SHL SHR SAL SAR: C0/C1 ib, D0/D1 (1), D2/D3 (CL).
  void shift() {
    Pending i;
    i.cls = "shift";
    int r = int(g.below(8));
    if (r == 6 && !opt.undocumented_sal6) r = 4;
    bool byte = g.chance(35);
    int w = byte ? 8 : choose_osize(i);
    int form = int(g.below(3));
    uint32_t count = form == 1 ? 1 : shift_count(w);
    i.name = kShiftNames[r];
    if (form == 2) {  // the count lives in CL
      set_reg(i, ECX, (uint32_t(g.next()) & 0xFFFFFF00) | count);
      i.ops = byte ? "Eb,CL" : "Ev,CL";
    } else {
      i.ops = byte ? (form == 0 ? "Eb,Ib" : "Eb,1") : (form == 0 ? "Ev,Ib" : "Ev,1");
    }
    i.body = {uint8_t((form == 0 ? 0xC0 : form == 1 ? 0xD0 : 0xD2) + (byte ? 0 : 1))};
    e_operand(i, r, w, true);
    if (form == 0) imm(i, 8, count);
    uint32_t masked = count & 0x1F;
    i.notes += " count=" + std::to_string(count);
    if (masked != 0) {
      bool rotate = r < 4;
      if (masked != 1) i.undef |= kOF;  // OF: defined for 1-bit shifts/rotates only
      if (!rotate) {
        i.undef |= kAF;  // AF undefined for a non-zero count
        if (r != 7 && masked >= uint32_t(w)) i.undef |= kCF;  // SHL/SHR: CF undefined when count >= size
      }
    }
    emit(i);
  }

  // SHLD/SHRD: 0F A4/AC ib, 0F A5/AD CL. Counts above the operand size leave the
  // result undefined, so 16-bit forms keep the masked count <= 16.
  void double_shift() {
    Pending i;
    i.cls = "shift";
    bool right = g.chance(50), cl = g.chance(50);
    int w = choose_osize(i);
    uint32_t masked = g.chance(20) ? g.below(2) : g.below(w == 16 ? 17 : 32);
    uint32_t count = masked + 32 * g.below(8);
    int src = pick_reg(false, w);
    seed(i, src, w);
    i.name = right ? "shrd" : "shld";
    i.ops = cl ? "Ev,Gv,CL" : "Ev,Gv,Ib";
    if (cl) set_reg(i, ECX, (uint32_t(g.next()) & 0xFFFFFF00) | count);
    i.body = {0x0F, uint8_t((right ? 0xAC : 0xA4) + (cl ? 1 : 0))};
    e_operand(i, src, w, true);
    if (!cl) imm(i, 8, count);
    i.notes += " count=" + std::to_string(count);
    if (masked >= 1) i.undef |= kAF;
    if (masked >= 2) i.undef |= kOF;
    emit(i);
  }

  // MUL/IMUL F6/F7 /4 /5, IMUL 0F AF, 69, 6B: SF ZF AF PF undefined.
  void multiply() {
    Pending i;
    i.cls = "muldiv";
    i.undef = kSF | kZF | kAF | kPF;
    int kind = int(g.below(5));
    if (kind <= 1) {
      bool byte = g.chance(30);
      int w = byte ? 8 : choose_osize(i);
      seed(i, EAX, w, 50);
      i.name = kind == 0 ? "mul" : "imul";
      i.ops = byte ? "Eb" : "Ev";
      i.body = {uint8_t(byte ? 0xF6 : 0xF7)};
      e_operand(i, 4 + kind, w, false);
      emit(i);
      return;
    }
    int w = choose_osize(i), dst = pick_reg(true, w);
    seed(i, dst, w);
    i.name = "imul";
    if (kind == 2) {
      i.ops = "Gv,Ev";
      i.body = {0x0F, 0xAF};
      e_operand(i, dst, w, false);
    } else {
      i.ops = kind == 3 ? "Gv,Ev,Iz" : "Gv,Ev,Ib";
      i.body = {uint8_t(kind == 3 ? 0x69 : 0x6B)};
      e_operand(i, dst, w, false);
      imm(i, kind == 3 ? w : 8, interesting());
    }
    emit(i);
  }

  // A dividend (2w bits) and divisor (w bits) for DIV/IDIV: normally a quotient
  // that fits, sometimes a zero divisor or an overflowing quotient (#DE).
  struct DivCase { uint64_t dividend; uint32_t divisor; const char* what; bool faults; };
  DivCase div_case(bool sign, int w) {
    uint64_t mask = width_mask(w), wide = w == 32 ? ~0ull : (1ull << (2 * w)) - 1;
    uint64_t rnd = g.next() & wide;
    uint32_t pick = opt.faults ? g.below(100) : 99;
    if (pick < 6) return {rnd, 0, " divisor=0 (#DE)", true};
    if (pick < 12) {
      if (sign) return {(1ull << (w - 1)) | (rnd & mask), 1, " quotient overflow (#DE)", true};
      uint32_t d = 1 + g.below(uint32_t(mask));
      uint64_t hi = d + g.below(uint32_t(mask - d + 1));
      return {(hi << w) | (rnd & mask), d, " quotient overflow (#DE)", true};
    }
    if (!sign) {
      uint32_t d = g.chance(50) ? 1 + g.below(std::min<uint32_t>(uint32_t(mask), 0xFF)) : 1 + g.below(uint32_t(mask));
      uint64_t q = g.next() & mask, r = g.below(d);
      return {q * d + r, d, "", false};
    }
    int64_t d = 0;
    while (d == 0) d = sign_extend(g.chance(50) ? g.next() & 0xFF : g.next(), w);
    int64_t q = sign_extend(g.chance(30) ? g.next() & 0x7F : g.next(), w);
    int64_t prod = q * d;
    uint64_t abs_d = uint64_t(d < 0 ? -d : d);
    int64_t r = int64_t(g.below(uint32_t(std::min<uint64_t>(abs_d, 0xFFFFFFFFu))));
    bool negative = prod < 0 || (prod == 0 && g.chance(50));
    int64_t dividend = prod + (negative ? -r : r);  // remainder takes the dividend's sign
    return {uint64_t(dividend) & wide, uint32_t(uint64_t(d) & mask), "", false};
  }

  // DIV/IDIV F6/F7 /6 /7: all six status flags undefined.
  void divide() {
    Pending i;
    i.cls = "muldiv";
    i.undef = kArithFlags;
    bool sign = g.chance(50), byte = g.chance(30);
    int w = byte ? 8 : choose_osize(i);
    int ext = sign ? 7 : 6;
    DivCase c = div_case(sign, w);
    i.name = sign ? "idiv" : "div";
    i.ops = byte ? "Eb" : "Ev";
    i.notes += c.what;
    i.may_fault = c.faults;
    uint32_t hi_junk = uint32_t(g.next()) & 0xFFFF0000;
    if (w == 32) {
      set_reg(i, EAX, uint32_t(c.dividend));
      set_reg(i, EDX, uint32_t(c.dividend >> 32));
    } else {
      set_reg(i, EAX, hi_junk | uint32_t(c.dividend & 0xFFFF));
      if (w == 16) set_reg(i, EDX, hi_junk | uint32_t((c.dividend >> 16) & 0xFFFF));
    }
    i.body = {uint8_t(byte ? 0xF6 : 0xF7)};
    if (g.chance(60)) {  // divisor in a register
      static constexpr int kByteRegs[6] = {1, 2, 3, 5, 6, 7};  // CL DL BL CH DH BH (not AL/AH)
      static constexpr int kWideRegs[5] = {ECX, EBX, EBP, ESI, EDI};
      int enc = byte ? kByteRegs[g.below(6)] : kWideRegs[g.below(5)];
      uint32_t v = uint32_t(g.next());
      if (byte) v = enc >= 4 ? (v & 0xFFFF00FF) | (c.divisor << 8) : (v & 0xFFFFFF00) | c.divisor;
      else v = w == 16 ? (v & 0xFFFF0000) | c.divisor : c.divisor;
      set_reg(i, byte ? (enc & 3) : enc, v);
      i.body.push_back(uint8_t(0xC0 | ext << 3 | enc));
    } else {  // divisor in memory, stored by a setup instruction first
      uint32_t ea = pick_ea(4);
      i.stores.push_back({ea, w, c.divisor});
      memory(i, ext, ea);
    }
    emit(i);
  }

  // BT BTS BTR BTC: 0F A3/AB/B3/BB Ev,Gv and 0F BA /4-/7 Ev,Ib.
  // CF from the bit; ZF unaffected; OF SF AF PF undefined.
  void bit_test() {
    static constexpr uint8_t kRegForm[4] = {0xA3, 0xAB, 0xB3, 0xBB};
    static const char* const kNames[4] = {"bt", "bts", "btr", "btc"};
    Pending i;
    i.cls = "bit";
    i.undef = kOF | kSF | kAF | kPF;
    int op = int(g.below(4));
    bool writes = op != 0, mem = false;
    int w = choose_osize(i);
    i.name = kNames[op];
    if (g.chance(50)) {  // bit offset in a register: with memory it may leave the operand
      i.ops = "Ev,Gv";
      i.body = {0x0F, kRegForm[op]};
      int off_reg = pick_free_reg(i);
      if (g.chance(50)) {
        int32_t offset = int32_t(g.below(512)) - 256;  // +-32 bytes around the operand
        uint32_t v = w == 16 ? (uint32_t(g.next()) & 0xFFFF0000) | (uint32_t(offset) & 0xFFFF) : uint32_t(offset);
        set_reg(i, off_reg, v);
        memory(i, off_reg, pick_ea(8));
        mem = true;
      } else {
        seed(i, off_reg, w);
        int rm = pick_reg(writes, w);
        seed(i, rm, w);
        i.body.push_back(uint8_t(0xC0 | off_reg << 3 | rm));
      }
    } else {
      i.ops = "Ev,Ib";
      i.body = {0x0F, 0xBA};
      mem = e_operand(i, 4 + op, w, writes);
      imm(i, 8, g.below(256));
    }
    if (mem && writes && g.chance(15)) lock(i);
    emit(i);
  }

  // BSF/BSR 0F BC/BD: ZF from the source; CF OF SF AF PF undefined; with a zero
  // source the destination is undefined too (SDM Vol. 2 BSF/BSR).
  void bit_scan() {
    Pending i;
    i.cls = "bit";
    i.undef = kCF | kOF | kSF | kAF | kPF;
    bool reverse = g.chance(50), zero = g.chance(25);
    int w = choose_osize(i), dst = pick_reg(true, w);
    uint32_t value = zero ? 0 : (interesting() & width_mask(w));
    if (value == 0 && !zero) value = 1u << g.below(uint32_t(w));
    i.name = reverse ? "bsr" : "bsf";
    i.ops = "Gv,Ev";
    i.body = {0x0F, uint8_t(reverse ? 0xBD : 0xBC)};
    if (g.chance(50)) {
      int src = pick_free_reg(i);
      set_reg(i, src, (w == 16 ? uint32_t(g.next()) & 0xFFFF0000 : 0) | value);
      i.body.push_back(uint8_t(0xC0 | dst << 3 | src));
    } else {
      uint32_t ea = pick_ea(4);
      i.stores.push_back({ea, w, value});
      memory(i, dst, ea);
    }
    if (zero) {
      i.notes += " zero source";
      i.undefined_gpr = dst;
      i.undefined_gpr_bits = width_mask(w);
    }
    emit(i);
  }

  // SETcc 0F 90+cc Eb, CMOVcc 0F 40+cc Gv,Ev.
  void conditional() {
    Pending i;
    i.cls = "cond";
    int cc = int(g.below(16));
    if (g.chance(50)) {
      i.name = std::string("set") + kCond[cc];
      i.ops = "Eb";
      i.body = {0x0F, uint8_t(0x90 + cc)};
      e_operand(i, 0, 8, true);
    } else {
      int w = choose_osize(i), dst = pick_reg(true, w);
      i.name = std::string("cmov") + kCond[cc];
      i.ops = "Gv,Ev";
      i.body = {0x0F, uint8_t(0x40 + cc)};
      e_operand(i, dst, w, false);
    }
    emit(i);
  }

  // MOV 88-8B, C6/C7, B0-BF, A0-A3; MOVZX/MOVSX 0F B6/B7/BE/BF.
  void moves() {
    Pending i;
    i.cls = "mov";
    i.name = "mov";
    int kind = int(g.below(7));
    bool byte = g.chance(35);
    int w = (byte && kind < 5) ? 8 : choose_osize(i);
    switch (kind) {
      case 0: {
        int r = pick_reg(false, w);
        i.ops = byte ? "Eb,Gb" : "Ev,Gv";
        i.body = {uint8_t(byte ? 0x88 : 0x89)};
        e_operand(i, r, w, true);
        break;
      }
      case 1: {
        int r = pick_reg(true, w);
        i.ops = byte ? "Gb,Eb" : "Gv,Ev";
        i.body = {uint8_t(byte ? 0x8A : 0x8B)};
        e_operand(i, r, w, false);
        break;
      }
      case 2:
        i.ops = byte ? "Eb,Ib" : "Ev,Iz";
        i.body = {uint8_t(byte ? 0xC6 : 0xC7)};
        e_operand(i, 0, w, true);
        imm(i, w, interesting());
        break;
      case 3:
        i.ops = byte ? "Zb,Ib" : "Zv,Iv";
        i.body = {uint8_t((byte ? 0xB0 : 0xB8) + pick_reg(true, w))};
        imm(i, w, interesting());
        break;
      case 4: {  // moffs: the address is the displacement itself
        int dir = int(g.below(2));
        bool a16 = choose_a16(false);
        set_asize(i, a16);
        maybe_segment(i);
        i.ops = dir ? (byte ? "Ob,AL" : "Ov,eAX") : (byte ? "AL,Ob" : "eAX,Ov");
        i.body = {uint8_t(0xA0 + dir * 2 + (byte ? 0 : 1))};
        uint32_t ea = pick_ea(4);
        if (a16) put16(i.body, ea);
        else put32(i.body, ea);
        break;
      }
      default: {
        bool sx = g.chance(50), from16 = g.chance(40);
        i.name = sx ? "movsx" : "movzx";
        i.ops = from16 ? "Gv,Ew" : "Gv,Eb";
        i.body = {0x0F, uint8_t((sx ? 0xBE : 0xB6) + (from16 ? 1 : 0))};
        e_operand(i, pick_reg(true, w), from16 ? 16 : 8, false);
        break;
      }
    }
    emit(i);
  }

  // XCHG 86/87/91-97, XADD 0F C0/C1, CMPXCHG 0F B0/B1, CMPXCHG8B 0F C7 /1.
  void exchange() {
    Pending i;
    i.cls = "xchg";
    int kind = int(g.below(5));
    bool byte = g.chance(30) && kind != 4 && kind != 1;
    int w = (byte || kind == 4) ? 8 : choose_osize(i);
    if (kind == 1) {  // xchg eAX, r: 91-97 (90 is NOP)
      int r = 1 + int(g.below(7));
      if (r == ESP) r = EBP;
      i.name = "xchg";
      i.ops = "eAX,Zv";
      i.body = {uint8_t(0x90 + r)};
      emit(i);
      return;
    }
    if (kind == 4) {  // cmpxchg8b: ZF only; a register operand is #UD
      i.name = "cmpxchg8b";
      i.ops = "Mq";
      i.osize = 0;
      i.body = {0x0F, 0xC7};
      if (opt.faults && g.chance(3)) {
        i.body.push_back(uint8_t(0xC8 | g.below(8)));
        i.notes += " register operand (#UD)";
        i.may_fault = true;
        emit(i);
        return;
      }
      uint32_t ea = pick_ea(8);
      if (g.chance(50)) {  // make the comparison succeed
        uint32_t lo = interesting(), hi = interesting();
        i.stores.push_back({ea, 32, lo});
        i.stores.push_back({ea + 4, 32, hi});
        set_reg(i, EAX, lo);
        set_reg(i, EDX, hi);
      } else {
        set_reg(i, EAX, uint32_t(g.next()));
        set_reg(i, EDX, uint32_t(g.next()));
      }
      set_reg(i, ECX, uint32_t(g.next()));
      set_reg(i, EBX, uint32_t(g.next()));
      memory(i, 1, ea);
      if (g.chance(30)) lock(i);
      emit(i);
      return;
    }
    int r = pick_reg(kind != 3, w);  // CMPXCHG only reads its register operand
    seed(i, r, w);
    bool mem = false;
    if (kind == 0) {
      i.name = "xchg";
      i.ops = byte ? "Eb,Gb" : "Ev,Gv";
      i.body = {uint8_t(byte ? 0x86 : 0x87)};
      mem = e_operand(i, r, w, true);
    } else if (kind == 2) {
      i.name = "xadd";
      i.ops = byte ? "Eb,Gb" : "Ev,Gv";
      i.body = {0x0F, uint8_t(byte ? 0xC0 : 0xC1)};
      mem = e_operand(i, r, w, true);
    } else {
      i.name = "cmpxchg";
      i.ops = byte ? "Eb,Gb" : "Ev,Gv";
      i.body = {0x0F, uint8_t(byte ? 0xB0 : 0xB1)};
      uint32_t equal = interesting() & width_mask(w);
      if (g.chance(50) && !(i.used & 1u)) {  // memory operand equal to the accumulator
        uint32_t ea = pick_ea(4);
        i.stores.push_back({ea, w, equal});
        set_reg(i, EAX, (uint32_t(g.next()) & ~width_mask(w)) | equal);
        memory(i, r, ea);
        mem = true;
      } else {
        mem = e_operand(i, r, w, true);
      }
    }
    if (mem && g.chance(25)) lock(i);
    emit(i);
  }

  // BSWAP, LEA, CBW/CWDE, CWD/CDQ, XLAT, NOP/PAUSE, UD2.
  void misc() {
    Pending i;
    i.cls = "misc";
    switch (g.below(9)) {
      case 0: {  // bswap r32 only: with a 16-bit operand the result is undefined
        int r = pick_reg(true, 32);
        seed(i, r, 32, 50);
        i.name = "bswap";
        i.ops = "Zd";
        i.body = {0x0F, uint8_t(0xC8 + r)};
        if (code16) i.prefixes.push_back(0x66);
        break;
      }
      case 1: case 2: {
        int w = choose_osize(i), dst = pick_reg(true, w);
        i.name = "lea";
        i.ops = "Gv,M";
        i.body = {0x8D};
        if (opt.faults && g.chance(3)) {
          i.body.push_back(uint8_t(0xC0 | dst << 3 | g.below(8)));
          i.notes += " register operand (#UD)";
          i.may_fault = true;
        } else {
          memory(i, dst, pick_ea(8), true);
        }
        break;
      }
      case 3: case 4: {
        bool wide = g.chance(50);
        int w = choose_osize(i);
        seed(i, EAX, 32, 60);
        i.name = wide ? (w == 16 ? "cwd" : "cdq") : (w == 16 ? "cbw" : "cwde");
        i.body = {uint8_t(wide ? 0x99 : 0x98)};
        i.osize = w;
        break;
      }
      case 5: {  // xlat: AL <- [eBX + AL]
        bool a16 = choose_a16(false);
        set_asize(i, a16);
        maybe_segment(i);
        uint32_t ea = pick_ea(256);
        set_reg(i, EBX, a16 ? (uint32_t(g.next()) & 0xFFFF0000) | ea : ea);
        i.name = "xlat";
        i.body = {0xD7};
        break;
      }
      case 6: case 7: {
        i.cls = "nop";
        uint32_t k = g.below(4);
        if (k == 0) { i.name = "nop"; i.body = {0x90}; }
        else if (k == 1) { i.name = "pause"; i.body = {0xF3, 0x90}; }
        else if (k == 2) { i.name = "nop"; i.ops = "(66 90)"; i.body = {0x66, 0x90}; }
        else {  // 0F 1F /0: hint NOP with a ModRM operand that is never accessed
          i.name = "nop";
          i.ops = "Ev";
          choose_osize(i);
          i.body = {0x0F, 0x1F};
          if (g.chance(50)) memory(i, 0, pick_ea(8), true);
          else i.body.push_back(uint8_t(0xC0 | g.below(8)));
        }
        break;
      }
      default:
        if (!opt.faults) { i.cls = "nop"; i.name = "nop"; i.body = {0x90}; break; }
        i.cls = "fault";
        i.name = "ud2";
        i.body = {0x0F, 0x0B};
        i.may_fault = true;
        break;
    }
    emit(i);
  }

  // CLC STC CMC CLD STD LAHF SAHF.
  void flag_ops() {
    static constexpr uint8_t kOps[7] = {0xF8, 0xF9, 0xF5, 0xFC, 0xFD, 0x9F, 0x9E};
    static const char* const kNames[7] = {"clc", "stc", "cmc", "cld", "std", "lahf", "sahf"};
    Pending i;
    i.cls = "flags";
    int k = int(g.below(7));
    if (k == 6) seed(i, EAX, 32, 70);
    i.name = kNames[k];
    i.body = {kOps[k]};
    emit(i);
  }

  // MOVS CMPS STOS LODS SCAS, with REP/REPE/REPNE, small counts, DF either way.
  void string_op() {
    static constexpr uint8_t kOps[5] = {0xA4, 0xA6, 0xAA, 0xAC, 0xAE};
    static const char* const kNames[5] = {"movs", "cmps", "stos", "lods", "scas"};
    static constexpr bool kReadsSi[5] = {true, true, false, true, false};
    static constexpr bool kUsesDi[5] = {true, true, true, false, true};
    if (g.chance(30)) {  // flip the direction first
      Pending d;
      d.cls = "flags";
      bool down = g.chance(50);
      d.name = down ? "std" : "cld";
      d.body = {uint8_t(down ? 0xFD : 0xFC)};
      emit(d);
    }
    Pending i;
    i.cls = "string";
    int op = int(g.below(5));
    bool byte = g.chance(40);
    if (!byte) choose_osize(i);
    bool a16 = choose_a16(false);
    set_asize(i, a16);
    if (kReadsSi[op]) maybe_segment(i);
    int rep = int(g.below(3));  // 0 none, 1 F3, 2 F2 (CMPS/SCAS only)
    bool compares = op == 1 || op == 4;
    if (rep == 2 && !compares) rep = 1;
    if (rep) {
      i.prefixes.push_back(rep == 1 ? 0xF3 : 0xF2);
      i.notes += rep == 2 ? " repne" : compares ? " repe" : " rep";
    }
    uint32_t high = a16 ? uint32_t(g.next()) & 0xFFFF0000 : 0;  // ignored with 16-bit addressing
    if (kReadsSi[op]) set_reg(i, ESI, high | pick_ea(8));
    if (kUsesDi[op]) set_reg(i, EDI, high | pick_ea(8));
    if (rep || g.chance(30)) set_reg(i, ECX, high | g.below(9));
    if (compares || op == 2) seed(i, EAX, 32, 40);
    i.name = kNames[op];
    i.ops = byte ? "b" : "v";
    i.body = {uint8_t(kOps[op] + (byte ? 0 : 1))};
    emit(i);
  }

  // PUSH/POP r, imm, Ev; PUSHA/POPA; PUSHF/POPF; ENTER/LEAVE.
  void stack_op() {
    Pending i;
    i.cls = "stack";
    int w = choose_osize(i), n = w / 8;
    switch (g.below(9)) {
      case 0: {
        ensure_stack(uint32_t(n), 0);
        int r = int(g.below(8));
        i.name = "push";
        i.ops = "Zv";
        i.body = {uint8_t(0x50 + r)};
        stack_moved(-n);
        break;
      }
      case 1: {
        ensure_stack(0, uint32_t(n));
        i.name = "pop";
        i.ops = "Zv";
        i.body = {uint8_t(0x58 + pick_reg(true, 32))};
        stack_moved(n);
        break;
      }
      case 2: {
        ensure_stack(uint32_t(n), 0);
        bool short_imm = g.chance(50);
        i.name = "push";
        i.ops = short_imm ? "Ib" : "Iz";
        i.body = {uint8_t(short_imm ? 0x6A : 0x68)};
        imm(i, short_imm ? 8 : w, interesting());
        stack_moved(-n);
        break;
      }
      case 3: case 4: {  // FF /6 push Ev, 8F /0 pop Ev (an ESP base reads ESP after the pop)
        bool pop = g.chance(50);
        ensure_stack(uint32_t(n), uint32_t(n));
        i.name = pop ? "pop" : "push";
        i.ops = "Ev";
        i.body = {uint8_t(pop ? 0x8F : 0xFF)};
        i.used = uint8_t(1u << ESP);  // keep the tracked ESP exact
        e_operand(i, pop ? 0 : 6, w, pop);
        i.used &= uint8_t(~(1u << ESP));
        stack_moved(pop ? n : -n);
        break;
      }
      case 5: {
        bool pop = g.chance(50);
        ensure_stack(uint32_t(8 * n), uint32_t(8 * n));
        i.name = pop ? "popa" : "pusha";
        i.body = {uint8_t(pop ? 0x61 : 0x60)};
        stack_moved(pop ? 8 * n : -8 * n);
        break;
      }
      case 6: pushf_popf(i, w); return;
      default: enter_leave(i, w); return;
    }
    emit(i);
  }

  // PUSHF stores host-specific bits (IF, RF...) in memory: the next instruction
  // masks the pushed image down to the arithmetic flags, DF and bit 1. POPF loads
  // a user-safe value (TF, AC, NT, IOPL clear) pushed just before.
  void pushf_popf(Pending& i, int w) {
    int n = w / 8;
    ensure_stack(uint32_t(n), uint32_t(n));
    if (g.chance(50)) {
      i.name = "pushf";
      i.body = {0x9C};
      i.defer_memory_check = true;
      emit(i);
      stack_moved(-n);
      Pending clean;
      clean.cls = "setup";
      clean.name = "and";
      clean.ops = "[esp],Iz (keep the defined pushf bits)";
      clean.undef = kAF;
      if ((w == 16) != code16) clean.prefixes.push_back(0x66);
      if (code16) clean.prefixes.push_back(0x67);  // [esp] needs 32-bit addressing
      clean.body = {0x81, 0x24, 0x24};            // and [esp], imm (ModRM /4, SIB base=ESP)
      imm(clean, w, kArithFlags | kDF | 0x2);
      emit(clean);
      return;
    }
    uint32_t value = (uint32_t(g.next()) & (kArithFlags | kDF)) | 0x2;
    if (p.mode == StartMode::UserFlat32) value |= kIF;
    Pending push;
    push.cls = "setup";
    push.name = "push";
    push.ops = "Iz (popf value)";
    if ((w == 16) != code16) push.prefixes.push_back(0x66);
    push.body = {0x68};
    imm(push, w, value);
    emit(push);
    i.name = "popf";
    i.body = {0x9D};
    emit(i);
  }

  // ENTER iw, ib (nesting level mod 32) and LEAVE; EBP is set inside the window first.
  void enter_leave(Pending& i, int w) {
    int n = w / 8;
    uint32_t frame_lo = win_start + (win_end - win_start) / 2, frame_hi = win_end - kEdge - 8;
    uint32_t ebp = frame_lo + (g.below(frame_hi - frame_lo) & ~1u);
    if (g.chance(50)) {
      uint32_t size = g.chance(30) ? 0 : g.below(64), level = g.below(4) + (g.chance(10) ? 32 : 0);
      uint32_t masked = level & 31;
      uint32_t bytes = uint32_t(n) * (1 + (masked ? masked : 0)) + size;
      ensure_stack(bytes, 0);
      setup_reg(EBP, ebp);
      i.name = "enter";
      i.ops = "Iw,Ib";
      i.notes += " level=" + std::to_string(level);
      i.body = {0xC8};
      imm(i, 16, size);
      imm(i, 8, level);
      emit(i);
      stack_moved(-int32_t(bytes));
      return;
    }
    setup_reg(EBP, ebp);
    i.name = "leave";
    i.body = {0xC9};
    emit(i);
    esp = ebp;  // ESP <- EBP (stack width), then pop EBP
    stack_moved(n);
  }

  // Control transfers whose target is always the next generated instruction.
  void branch() {
    Pending i;
    i.cls = "branch";
    int rel = code16 ? 16 : 32;
    switch (g.below(8)) {
      case 0: {
        int cc = int(g.below(16));
        i.name = std::string("j") + kCond[cc];
        i.ops = "Jb +0";
        i.body = {uint8_t(0x70 + cc), 0};
        break;
      }
      case 1: {
        int cc = int(g.below(16));
        i.name = std::string("j") + kCond[cc];
        i.ops = "Jz +0";
        i.body = {0x0F, uint8_t(0x80 + cc)};
        imm(i, rel, 0);
        break;
      }
      case 2: {
        bool near = g.chance(50);
        i.name = "jmp";
        i.ops = near ? "Jz +0" : "Jb +0";
        i.body = {uint8_t(near ? 0xE9 : 0xEB)};
        imm(i, near ? rel : 8, 0);
        break;
      }
      case 3: {  // loop/loope/loopne/jcxz; 0x67 picks CX or ECX as the counter
        int k = int(g.below(4));
        static const char* const kNames[4] = {"loopne", "loope", "loop", "jcxz"};
        if (g.chance(30)) set_asize(i, !code16);
        else i.asize = code16 ? 16 : 32;
        if (g.chance(50)) set_reg(i, ECX, g.chance(50) ? g.below(3) : interesting());
        i.name = kNames[k];
        i.ops = "Jb +0";
        i.body = {uint8_t(0xE0 + k), 0};
        break;
      }
      case 4: {  // call +0, then pop the return address
        int n = rel / 8;
        ensure_stack(uint32_t(n), 0);
        i.name = "call";
        i.ops = "Jz +0";
        i.body = {0xE8};
        imm(i, rel, 0);
        emit(i);
        pop_return_address(n);
        return;
      }
      case 5: {  // push the next address, then ret / ret iw
        int n = rel / 8;
        uint32_t extra = g.chance(50) ? 0 : 2 * g.below(8);
        ensure_stack(uint32_t(n), extra);
        std::vector<uint8_t> ret = extra ? std::vector<uint8_t>{0xC2, uint8_t(extra), 0} : std::vector<uint8_t>{0xC3};
        std::vector<uint8_t> push = {0x68};
        imm_into(push, rel, 0);
        uint32_t target = next_addr + uint32_t(push.size() + ret.size()) - cs_base();
        push.resize(1);
        imm_into(push, rel, target);
        push_insn(push, "push Iz (return address)", "setup");
        stack_moved(-n);
        i.name = "ret";
        i.ops = extra ? "Iw" : "";
        i.body = ret;
        emit(i);
        stack_moved(n + int32_t(extra));
        return;
      }
      default: indirect_branch(i); return;
    }
    emit(i);
  }

  void imm_into(std::vector<uint8_t>& b, int width, uint32_t v) {
    if (width == 16) put16(b, v);
    else put32(b, v);
  }

  void pop_return_address(int n) {
    Pending pop;
    pop.cls = "stack";
    pop.name = "pop";
    pop.ops = "Zv (return address)";
    pop.body = {uint8_t(0x58 + pick_reg(true, 32))};
    emit(pop);
    stack_moved(n);
  }

  // JMP/CALL Ev (FF /4, FF /2) through a register or memory holding the next address.
  void indirect_branch(Pending& i) {
    bool call = g.chance(50);
    int w = code16 ? 16 : 32, n = w / 8;
    if (call) ensure_stack(uint32_t(n), 0);
    i.name = call ? "call" : "jmp";
    i.ops = "Ev";
    i.body = {0xFF};
    i.used = uint8_t(1u << ESP);
    size_t slot;
    bool in_memory = g.chance(50);
    if (in_memory) {
      uint32_t ea = pick_ea(4);
      i.stores.push_back({ea, w, 0});
      memory(i, call ? 2 : 4, ea);
      slot = 0;
    } else {
      int r = pick_free_reg(i);
      set_reg(i, r, 0);
      i.body.push_back(uint8_t(0xC0 | (call ? 2 : 4) << 3 | r));
      slot = i.regs.size() - 1;
    }
    uint32_t target = next_addr + setup_length(i) + uint32_t(i.prefixes.size() + i.body.size()) - cs_base();
    if (in_memory) i.stores[0].value = target;
    else i.regs[slot].second = target;
    emit(i);
    if (call) {
      stack_moved(-n);
      pop_return_address(n);
    }
  }

  // DAA DAS AAA AAS AAM AAD (SDM Vol. 2: DAA/DAS OF undefined; AAA/AAS OF SF ZF PF
  // undefined; AAM/AAD OF AF CF undefined; AAM 0 raises #DE).
  void bcd() {
    Pending i;
    i.cls = "bcd";
    seed(i, EAX, 32, 60);
    switch (g.below(6)) {
      case 0: i.name = "daa"; i.body = {0x27}; i.undef = kOF; break;
      case 1: i.name = "das"; i.body = {0x2F}; i.undef = kOF; break;
      case 2: i.name = "aaa"; i.body = {0x37}; i.undef = kOF | kSF | kZF | kPF; break;
      case 3: i.name = "aas"; i.body = {0x3F}; i.undef = kOF | kSF | kZF | kPF; break;
      default: {
        bool aam = g.chance(50);
        uint32_t base = g.chance(60) ? 10 : g.below(256);
        if (aam && base == 0 && !opt.faults) base = 10;
        if (aam && opt.faults && g.chance(5)) base = 0;
        i.name = aam ? "aam" : "aad";
        i.ops = "Ib=" + std::to_string(base);
        i.body = {uint8_t(aam ? 0xD4 : 0xD5), uint8_t(base)};
        i.undef = kOF | kAF | kCF;
        if (aam && base == 0) {
          i.may_fault = true;
          i.notes += " (#DE)";
        }
      }
    }
    emit(i);
  }

  // Ring 0 only: MOV CRn, CLTS, SGDT/LGDT and SIDT/LIDT round trips, INVLPG, WBINVD, CLI/STI.
  void system() {
    Pending i;
    i.cls = "system";
    switch (g.below(7)) {
      case 0: case 1: {  // write CR0/CR2/CR3, then maybe read it back
        static constexpr int kCrs[3] = {0, 2, 3};
        int cr = kCrs[g.below(3)];
        uint32_t v = uint32_t(g.next());
        if (cr == 0) v = 0x11 | (v & (0x2 | 0x8 | 0x20 | 0x10000 | 0x40000));  // PE ET, maybe MP TS NE WP AM
        if (cr == 3) v &= 0xFFFFF000;
        int r = pick_free_reg(i);
        set_reg(i, r, v);
        i.name = "mov";
        i.ops = "Cd,Rd cr" + std::to_string(cr);
        i.undef = kArithFlags;  // MOV CRn: OF SF ZF AF PF CF undefined
        i.body = {0x0F, 0x22, uint8_t(0xC0 | cr << 3 | r)};
        emit(i);
        if (g.chance(60)) {
          Pending rd;
          rd.cls = "system";
          rd.name = "mov";
          rd.ops = "Rd,Cd cr" + std::to_string(cr);
          rd.undef = kArithFlags;
          rd.body = {0x0F, 0x20, uint8_t(0xC0 | cr << 3 | pick_reg(true, 32))};
          emit(rd);
        }
        return;
      }
      case 2: i.name = "clts"; i.body = {0x0F, 0x06}; break;
      case 3: descriptor_table_round_trip(); return;
      case 4:
        i.name = "invlpg";
        i.ops = "M";
        i.body = {0x0F, 0x01};
        memory(i, 7, pick_ea(8));
        break;
      case 5: i.name = "wbinvd"; i.body = {0x0F, 0x09}; break;
      default: {
        bool sti = g.chance(50);
        i.name = sti ? "sti" : "cli";
        i.body = {uint8_t(sti ? 0xFB : 0xFA)};
      }
    }
    emit(i);
  }

  // SGDT/SIDT into the data window, load the same value back, then overwrite it
  // (the stored base/limit is oracle-specific, so it must not stay in memory).
  void descriptor_table_round_trip() {
    bool idt = g.chance(50);
    uint32_t ea = pick_ea(8);
    size_t first = p.insns.size();
    for (int load = 0; load < 2; ++load) {
      Pending i;
      i.cls = "system";
      i.name = std::string(load ? "l" : "s") + (idt ? "idt" : "gdt");
      i.ops = "Ms";
      i.body = {0x0F, 0x01};
      i.defer_memory_check = true;
      memory(i, (load ? 2 : 0) + (idt ? 1 : 0), ea);
      emit(i);
    }
    Pending wipe;
    wipe.cls = "setup";
    wipe.name = "nop";
    wipe.ops = "(wipe the stored table register)";
    wipe.stores = {{ea, 32, 0}, {ea + 2, 32, 0}};
    wipe.body = {0x90};
    emit(wipe);
    for (size_t k = first; k + 2 < p.insns.size(); ++k) p.insns[k].defer_memory_check = true;
  }
};

// ---------------------------------------------------------------------------

Program StreamGenerator::generate(size_t count) {
  Program p;
  p.mode = mode_;
  p.layout = layout_;
  if (!error_.empty()) return p;
  const Layout& l = layout_;
  bool code16 = mode_ == StartMode::Real16;

  default_selectors(mode_, l, p.start.seg);
  for (uint32_t& r : p.start.gpr) r = uint32_t(next());
  uint32_t seg_base = code16 ? l.data_base : 0;
  uint32_t esp = l.stack_top - seg_base;
  if (code16 && esp > 0xFFFF) esp = 0xFFFC;
  p.start.gpr[ESP] = esp;
  p.start.gpr[EBP] = esp - 0x40 - (below(0x100) & ~3u);
  p.start.eip = code16 ? 0 : l.code_base;
  p.start.eflags = 0x2 | (uint32_t(next()) & (kArithFlags | kDF)) | (mode_ == StartMode::UserFlat32 ? kIF : 0);

  p.mem.map(l.code_base, l.code_size);
  std::vector<uint8_t> data(l.data_size);
  for (size_t k = 0; k < data.size(); k += 8) {
    uint64_t v = next();
    for (size_t b = 0; b < 8 && k + b < data.size(); ++b) data[k + b] = uint8_t(v >> (8 * b));
  }
  p.mem.write(l.data_base, data);

  struct Family {
    uint32_t weight;
    void (Emitter::*make)();
  };
  static constexpr Family kFamilies[] = {
      {14, &Emitter::alu},      {6, &Emitter::unary},        {9, &Emitter::shift},
      {3, &Emitter::double_shift}, {5, &Emitter::multiply}, {5, &Emitter::divide},
      {4, &Emitter::bit_test},  {3, &Emitter::bit_scan},     {5, &Emitter::conditional},
      {5, &Emitter::moves},     {5, &Emitter::exchange},     {5, &Emitter::misc},
      {3, &Emitter::flag_ops},  {7, &Emitter::string_op},    {7, &Emitter::stack_op},
      {6, &Emitter::branch},    {4, &Emitter::bcd},          {4, &Emitter::system},
  };
  bool system_ok = options_.system_class && mode_ == StartMode::Ring0Flat32;
  uint32_t total = 0;
  for (const Family& f : kFamilies) total += (f.make == &Emitter::system && !system_ok) ? 0 : f.weight;

  Emitter e(*this, p);
  while (p.insns.size() < count && e.room()) {
    uint32_t pick = below(total);
    for (const Family& f : kFamilies) {
      if (f.make == &Emitter::system && !system_ok) continue;
      if (pick < f.weight) {
        (e.*f.make)();
        break;
      }
      pick -= f.weight;
    }
  }
  for (const GeneratedInsn& insn : p.insns) p.mem.write(insn.addr, insn.bytes);
  return p;
}

}  // namespace vs::conformance
