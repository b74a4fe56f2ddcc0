// Expands opcodes.def into the public row table and the decoder's dispatch
// (opcode -> row, per ModRM.reg for groups), and parses each row's operand
// letters (SDM Vol. 2 Appendix A.2) into what the decoder must read.
#include "table.h"
#include "insn/all.inl"  // handler definitions, instantiated by the table below

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vs::cpu {

namespace {

constexpr int8_t X = -1;
constexpr int8_t MODRM_C1 = modrm_form(0xC1);
constexpr uint8_t LOCK = attr::LOCK, END = attr::END, REP = attr::REP, NOREAL = attr::NOREAL;
constexpr Privilege ORDINARY = Privilege::Ordinary, PRIVILEGED = Privilege::Privileged,
                    IOPL = Privilege::Iopl, SENSITIVE = Privilege::Sensitive, CONFIG = Privilege::Config;

constexpr OpcodeInfo kRows[] = {
#define VS_OP(opcode, ext, mn, operands, width, handler, attrs, priv, exit) \
  OpcodeInfo{opcode, ext, Mnemonic::mn, operands, attrs, priv, ExitClass::exit},
#include "virtscope/cpu/opcodes.def"
#undef VS_OP
};
constexpr size_t kRowCount = sizeof(kRows) / sizeof(kRows[0]);

enum class Width : uint8_t { B, V, W, D, N };
constexpr Width B = Width::B, V = Width::V, W = Width::W, D = Width::D, N = Width::N;

// Does a row's operand list name an E operand (register or memory by ModRM)?
constexpr bool has_e_operand(std::string_view ops) {
  for (size_t i = 0; i + 1 < ops.size(); ++i)
    if (ops[i] == 'E' && (i == 0 || ops[i - 1] == ',')) return true;
  return false;
}

// A row's chained handler for one ModRM form: rows with an E operand get a
// register-form and a memory-form instantiation (see run_chained), all other
// rows one for any form. Forms a row does not have stay null.
template <Handler H, bool kHasE, Form F>
constexpr Handler chained_form() {
  if constexpr (kHasE == (F != Form::Any)) return &run_chained<H, F>;
  else return nullptr;
}

// Handlers per row: [0] = 8-bit, [1] = 16-bit, [2] = 32-bit instantiation,
// each also in its chained (threaded) forms, indexed by Form.
struct RowHandlers {
  Width width;
  Handler fn[3];
  Handler chained[3][3];  // [form][width]
};

#define VS_WIDTHS(handler, mn) \
  { &handler<8, Mnemonic::mn>, &handler<16, Mnemonic::mn>, &handler<32, Mnemonic::mn> }
#define VS_CHAINED(handler, mn, operands, form)                                   \
  { chained_form<&handler<8, Mnemonic::mn>, has_e_operand(operands), form>(),      \
    chained_form<&handler<16, Mnemonic::mn>, has_e_operand(operands), form>(),     \
    chained_form<&handler<32, Mnemonic::mn>, has_e_operand(operands), form>() }
const RowHandlers kHandlers[] = {
#define VS_OP(opcode, ext, mn, operands, width, handler, attrs, priv, exit)              \
  RowHandlers{width, VS_WIDTHS(handler, mn),                                           \
              {VS_CHAINED(handler, mn, operands, Form::Any), VS_CHAINED(handler, mn, operands, Form::Reg), \
               VS_CHAINED(handler, mn, operands, Form::Mem)}},
#include "virtscope/cpu/opcodes.def"
#undef VS_OP
};
#undef VS_WIDTHS
#undef VS_CHAINED

// Parse the operand letters of one row into decode instructions.
DecodeSpec parse_operands(std::string_view ops, int8_t ext) {
  DecodeSpec d;
  d.modrm = ext >= 0;
  size_t pos = 0;
  while (pos < ops.size()) {
    size_t comma = ops.find(',', pos);
    std::string_view t = ops.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? ops.size() : comma + 1;
    auto imm = [&](ImmKind k) { (d.imm[0] == ImmKind::None ? d.imm[0] : d.imm[1]) = k; };
    if (t == "Eb" || t == "Ev" || t == "Ew" || t == "Ed" || t == "Gb" || t == "Gv" || t == "Gw" ||
        t == "Gd" || t == "Sw" || t == "Cd" || t == "Dd") {
      d.modrm = true;
    } else if (t == "M" || t == "Mp" || t == "Ma" || t == "Mq" || t == "Ms") {
      d.modrm = true;
      d.mem_only = true;
    } else if (t == "M87") {
      d.modrm = true;  // x87 escape: any mod, register forms included
    } else if (t == "Rd") {
      d.modrm = true;
      d.reg_only = true;  // MOV CRn/DRn: mod is ignored, rm names a register
    } else if (t == "Ib") {
      imm(ImmKind::Ib);
    } else if (t == "Ibs" || t == "Jb") {
      imm(ImmKind::Ibs);
    } else if (t == "Iw") {
      imm(ImmKind::Iw);
    } else if (t == "Iz" || t == "Iv" || t == "Jz") {
      imm(ImmKind::Iz);
    } else if (t == "Ap") {
      imm(ImmKind::FarPtr);
    } else if (t == "Ob" || t == "Ov") {
      imm(ImmKind::Moffs);
    } else if (t.empty() || t == "AL" || t == "eAX" || t == "DX" || t == "CL" || t == "1" ||
               t == "ES" || t == "CS" || t == "SS" || t == "DS" || t == "FS" || t == "GS" ||
               t == "Zb" || t == "Zv" || t == "Zd" || t == "Xb" || t == "Xv" || t == "Xz" ||
               t == "Yb" || t == "Yv" || t == "Yz") {
      // implicit operands: nothing to decode
    } else {
      std::fprintf(stderr, "virtscope: opcodes.def: unknown operand letters '%.*s'\n", int(t.size()), t.data());
      std::abort();  // a broken table is a build defect, caught by the first test
    }
  }
  return d;
}

struct Dispatch {
  // For each of the 512 opcodes: row index per ModRM.reg (all 8 equal for non-groups), -1 = #UD.
  std::array<std::array<int16_t, 8>, 512> row;
  std::array<bool, 512> group;
  std::array<DecodeSpec, kRowCount> spec;
  // Whole-ModRM register forms (mod = 3), which take precedence over the
  // group member ModRM.reg names: (opcode, ModRM bits 5:0) -> row.
  struct ModrmForm { uint16_t opcode; uint8_t modrm; int16_t row; };
  std::array<ModrmForm, 4> modrm_forms{};
  unsigned modrm_form_count = 0;
  std::array<bool, 512> has_modrm_form{};
  Dispatch() {
    for (auto& r : row) r.fill(-1);
    group.fill(false);
    for (size_t i = 0; i < kRowCount; ++i) {
      const OpcodeInfo& info = kRows[i];
      spec[i] = parse_operands(info.operands, info.ext);
      if (info.ext >= kModrmForm) {
        if (modrm_form_count == modrm_forms.size()) std::abort();  // grow the array
        modrm_forms[modrm_form_count++] = {info.opcode, uint8_t(info.ext & 0x3F), int16_t(i)};
        has_modrm_form[info.opcode] = true;
        group[info.opcode] = true;
      } else if (info.ext >= 0) {
        group[info.opcode] = true;
        row[info.opcode][info.ext] = int16_t(i);
      } else {
        row[info.opcode].fill(int16_t(i));
      }
    }
  }
};

const Dispatch& dispatch() {
  static const Dispatch d;  // immutable after construction; built on first use
  return d;
}

}  // namespace

std::span<const OpcodeInfo> opcode_table() { return {kRows, kRowCount}; }

int modrm_form_row(uint16_t opcode, uint8_t modrm) {
  const Dispatch& d = dispatch();
  if (opcode >= 512 || !d.has_modrm_form[opcode] || (modrm >> 6) != 3) return -1;
  for (unsigned i = 0; i < d.modrm_form_count; ++i)
    if (d.modrm_forms[i].opcode == opcode && d.modrm_forms[i].modrm == (modrm & 0x3F)) return d.modrm_forms[i].row;
  return -1;
}

const OpcodeInfo* find_opcode(uint16_t opcode, unsigned modrm_reg) {
  if (opcode >= 512) return nullptr;
  if (modrm_reg >= unsigned(kModrmForm)) {
    const int r = modrm_form_row(opcode, uint8_t(0xC0 | (modrm_reg & 0x3F)));
    return r < 0 ? nullptr : &kRows[r];
  }
  int16_t r = dispatch().row[opcode][modrm_reg & 7];
  return r < 0 ? nullptr : &kRows[r];
}

bool opcode_is_group(uint16_t opcode) { return opcode < 512 && dispatch().group[opcode]; }

int row_index(uint16_t opcode, unsigned modrm_reg) {
  return opcode < 512 ? dispatch().row[opcode][modrm_reg & 7] : -1;
}

bool opcode_has_modrm(uint16_t opcode) {
  if (opcode >= 512) return false;
  if (dispatch().group[opcode]) return true;
  int16_t r = dispatch().row[opcode][0];
  return r >= 0 && dispatch().spec[r].modrm;
}

const DecodeSpec& decode_spec(int row) { return dispatch().spec[row]; }

static unsigned width_index(Width w, bool o32) {
  switch (w) {
    case Width::B: return 0;
    case Width::V: return o32 ? 2 : 1;
    case Width::W: return 1;
    case Width::D: return 2;
    case Width::N: return 2;
  }
  return 2;
}

Handler row_handler(int row, bool o32) { return kHandlers[row].fn[width_index(kHandlers[row].width, o32)]; }

Handler row_chained_handler(int row, bool o32, bool register_form) {
  const RowHandlers& h = kHandlers[row];
  const unsigned w = width_index(h.width, o32);
  if (Handler any = h.chained[unsigned(Form::Any)][w]) return any;
  return h.chained[unsigned(register_form ? Form::Reg : Form::Mem)][w];
}

std::string_view mnemonic_name(Mnemonic m) {
  static constexpr std::string_view kNames[] = {
#define VS_MNEMONIC(name, text) text,
#include "virtscope/cpu/mnemonics.def"
#undef VS_MNEMONIC
  };
  return size_t(m) < std::size(kNames) ? kNames[size_t(m)] : "?";
}

std::string_view privilege_name(Privilege p) {
  switch (p) {
    case Privilege::Ordinary: return "ordinary";
    case Privilege::Privileged: return "privileged";
    case Privilege::Iopl: return "iopl-sensitive";
    case Privilege::Sensitive: return "sensitive-unprivileged";
    case Privilege::Config: return "cr4-restrictable";
  }
  return "?";
}

std::string_view exit_class_name(ExitClass e) {
  switch (e) {
    case ExitClass::NO_EXIT: return "none";
    case ExitClass::CPUID: return "CPUID";
    case ExitClass::HLT: return "HLT";
    case ExitClass::INVD: return "INVD";
    case ExitClass::INVLPG: return "INVLPG";
    case ExitClass::RDPMC: return "RDPMC";
    case ExitClass::RDTSC: return "RDTSC";
    case ExitClass::CR_ACCESS: return "CR_ACCESS";
    case ExitClass::DR_ACCESS: return "DR_ACCESS";
    case ExitClass::IO_INSTRUCTION: return "IO_INSTRUCTION";
    case ExitClass::RDMSR: return "RDMSR";
    case ExitClass::WRMSR: return "WRMSR";
    case ExitClass::WBINVD: return "WBINVD";
    case ExitClass::GDTR_IDTR_ACCESS: return "GDTR_IDTR_ACCESS";
    case ExitClass::LDTR_TR_ACCESS: return "LDTR_TR_ACCESS";
    case ExitClass::VMCALL: return "VMCALL";
  }
  return "?";
}

}  // namespace vs::cpu
