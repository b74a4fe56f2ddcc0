// Instruction decoding: prefixes, opcode, ModRM/SIB, displacement and
// immediates (Intel SDM Vol. 2 Chapter 2, "Instruction Format"), driven by the
// opcode table. The result is an Insn the block cache keeps and re-executes.
#include "table.h"
#include "insn/common.inl"

namespace vs::cpu {

namespace {

// Executed in place of an undefined or invalidly prefixed instruction, so that
// #UD is raised at its address in program order (SDM Vol. 3 §6.15, #UD).
Fault raise_ud(Core&, const Insn&) { return ud(); }

// Instructions longer than 15 bytes raise #GP(0) (SDM Vol. 2 §2.3.11).
Fault raise_too_long(Core&, const Insn&) { return gp(0); }

constexpr unsigned kMaxLength = 15;
// The 80286 limits instructions to 10 bytes, prefixes included (#GP beyond).
constexpr unsigned kMaxLength286 = 10;

struct Reader {
  const ByteSource& src;
  uint32_t eip;
  unsigned len = 0;
  Fault fault;
  uint8_t byte() {
    uint8_t b = 0;
    if (!fault) {
      if (len >= kMaxLength) {
        ++len;  // marks "too long"; the caller turns it into #GP(0)
        return 0;
      }
      fault = src(eip + len, b);
    }
    ++len;
    return b;
  }
  uint32_t word() { uint32_t lo = byte(); return lo | uint32_t(byte()) << 8; }
  uint32_t dword() { uint32_t lo = word(); return lo | word() << 16; }
};

void decode_modrm16(Reader& r, Insn& in) {
  static constexpr uint8_t kBase[8] = {EBX, EBX, EBP, EBP, 8, 8, EBP, EBX};
  static constexpr uint8_t kIndex[8] = {ESI, EDI, ESI, EDI, ESI, EDI, 8, 8};
  in.base = kBase[in.rm];
  in.index = kIndex[in.rm];
  in.scale = 0;
  if (in.mod == 0 && in.rm == 6) {
    in.base = 8;
    in.disp = r.word();
  } else if (in.mod == 1) {
    in.disp = uint32_t(int32_t(int8_t(r.byte())));
  } else if (in.mod == 2) {
    in.disp = r.word();
  }
  in.seg = in.base == EBP ? SS : DS;
}

void decode_modrm32(Reader& r, Insn& in) {
  in.base = in.rm;
  in.index = 8;
  in.scale = 0;
  if (in.rm == 4) {  // SIB follows (SDM Vol. 2 Table 2-3)
    uint8_t sib = r.byte();
    in.scale = sib >> 6;
    in.index = (sib >> 3) & 7;
    if (in.index == ESP) in.index = 8;  // no index
    in.base = sib & 7;
    if (in.base == EBP && in.mod == 0) {
      in.base = 8;
      in.disp = r.dword();
    }
  } else if (in.rm == 5 && in.mod == 0) {
    in.base = 8;
    in.disp = r.dword();
  }
  if (in.mod == 1) in.disp = uint32_t(int32_t(int8_t(r.byte())));
  else if (in.mod == 2) in.disp = r.dword();
  in.seg = (in.base == EBP || in.base == ESP) ? SS : DS;
}

uint32_t read_imm(Reader& r, ImmKind k, const Insn& in, uint16_t& second) {
  switch (k) {
    case ImmKind::None: return 0;
    case ImmKind::Ib: return r.byte();
    case ImmKind::Ibs: return uint32_t(int32_t(int8_t(r.byte())));
    case ImmKind::Iw: return r.word();
    case ImmKind::Iz: return in.o32 ? r.dword() : uint32_t(int32_t(int16_t(r.word())));
    case ImmKind::FarPtr: {
      uint32_t off = in.o32 ? r.dword() : r.word();
      second = uint16_t(r.word());
      return off;
    }
    case ImmKind::Moffs: return in.a32 ? r.dword() : r.word();
  }
  return 0;
}

}  // namespace

Fault Core::decode(uint32_t eip, Insn& in) {
  const ByteSource fetch = [this](uint32_t at, uint8_t& b) { return fetch_byte(at, b); };
  DecodeMode mode;
  mode.code32 = s.seg[CS].big() && !v86();
  mode.protected_mode = protected_mode() && !v86();
  mode.model = config.model;
  const Fault f = decode_insn(fetch, eip, mode, in);
  // Non-root mode: an instruction the controls make exit runs the exit
  // handler instead (decided here, once per decode, so the run loop pays
  // nothing; entering/leaving non-root mode or changing controls flushes
  // the decoded blocks). Encodings that #UD or #GP whatever the state keep
  // doing so: those faults have priority over VM exits (SDM Vol. 3C §25.1.1).
  if (vmx_active && !f && in.row != 0xFFFF && in.fn != raise_ud && in.fn != raise_too_long &&
      instruction_exits(opcode_table()[in.row], in)) {
    in.fn = vmx_exit_insn;
    in.chained = vmx_exit_insn_chained;
    in.end = 1;
  }
  return f;
}

Fault decode_insn(const ByteSource& src, uint32_t eip, const DecodeMode& mode, Insn& in) {
  in = Insn{};
  Reader r{src, eip, 0, Fault{}};
  const bool code32 = mode.code32;
  bool o32 = code32, a32 = code32, lock = false;
  int seg_override = -1;
  uint8_t rep = 0;
  uint16_t opcode = 0;
  // Prefixes, any order, the last of a group wins (SDM Vol. 2 §2.1.1).
  for (;;) {
    uint8_t b = r.byte();
    if (r.fault) return r.fault;
    switch (b) {
      case 0x26: seg_override = ES; continue;
      case 0x2E: seg_override = CS; continue;
      case 0x36: seg_override = SS; continue;
      case 0x3E: seg_override = DS; continue;
      case 0x64: seg_override = FS; continue;
      case 0x65: seg_override = GS; continue;
      case 0x66: o32 = !code32; continue;
      case 0x67: a32 = !code32; continue;
      case 0xF0: lock = true; continue;
      case 0xF2: case 0xF3: rep = b; continue;
      default: break;
    }
    opcode = b;
    break;
  }
  if (opcode == 0x0F) opcode = 0x100 | r.byte();
  in.o32 = o32;
  in.a32 = a32;
  in.addr_mask = a32 ? 0xFFFFFFFFu : 0xFFFFu;
  in.rep = rep;
  in.op = uint8_t(opcode);
  in.base = in.index = 8;
  in.seg = DS;

  // ModRM first when the opcode has one: groups need ModRM.reg to find the row.
  if (opcode_has_modrm(opcode)) {
    uint8_t modrm = r.byte();
    in.mod = modrm >> 6;
    in.reg = (modrm >> 3) & 7;
    in.rm = modrm & 7;
  }
  int row = row_index(opcode, in.reg);
  if (in.mod == 3) {  // a whole-ModRM register form (0F 01 C1) outranks the group member
    const int form = modrm_form_row(opcode, uint8_t(0xC0 | in.reg << 3 | in.rm));
    if (form >= 0) row = form;
  }
  if (r.fault) return r.fault;
  if (row < 0) {
    in.fn = raise_ud;
    in.chained = run_chained<raise_ud>;
    in.len = uint8_t(std::min<unsigned>(r.len, kMaxLength));
    in.end = 1;
    in.row = 0xFFFF;
    return {};
  }
  const DecodeSpec& spec = decode_spec(row);
  if (spec.modrm && !spec.reg_only && in.mod != 3) {
    if (a32) decode_modrm32(r, in);
    else decode_modrm16(r, in);
  }
  if (seg_override >= 0) in.seg = uint8_t(seg_override);
  in.imm = read_imm(r, spec.imm[0], in, in.imm2);
  if (spec.imm[0] == ImmKind::Moffs) {
    in.disp = in.imm;
    in.mod = 0;
  }
  if (spec.imm[1] != ImmKind::None) in.imm2 = uint16_t(read_imm(r, spec.imm[1], in, in.imm2));
  if (r.fault) return r.fault;

  const OpcodeInfo& info = opcode_table()[row];
  in.row = uint16_t(row);
  in.len = uint8_t(std::min<unsigned>(r.len, kMaxLength));
  in.end = (info.attrs & attr::END) ? 1 : 0;
  // The 80286 has no FS or GS: MOV to or from Sreg 4 and 5 is #UD there.
  const bool no_fs_gs = mode.model == CpuModel::I286 && (opcode == 0x8C || opcode == 0x8E) && in.reg >= FS;
  in.fn = row_handler(row, o32);
  in.chained = row_chained_handler(row, o32, in.mod == 3);

  // Validity checks that make the whole instruction #UD or #GP.
  const bool lock_ok = (info.attrs & attr::LOCK) && in.mod != 3;
  if (r.len > (mode.model == CpuModel::I286 ? kMaxLength286 : kMaxLength)) {
    in.fn = raise_too_long;
    in.chained = run_chained<raise_too_long>;
    in.end = 1;
  } else if ((lock && !lock_ok && mode.model != CpuModel::I286) ||
             (spec.mem_only && in.mod == 3) || no_fs_gs ||
             ((info.attrs & attr::NOREAL) && !mode.protected_mode)) {
    in.fn = raise_ud;
    in.chained = run_chained<raise_ud>;
    in.end = 1;
  }
  return {};
}

Fault Core::fetch_byte(uint32_t eip, uint8_t& b) {
  // The code segment limit applies to every instruction byte (SDM Vol. 3 §5.3).
  const Segment& cs = s.seg[CS];
  uint32_t off = eip;
  if (off > cs.limit) return gp(0);
  uint32_t lin = cs.base + off;
  const bool user = user_access();
  TlbEntry& e = tlb[user][(lin >> 12) & (kTlbSize - 1)];
  if (e.exec_tag == (lin & ~0xFFFu)) {
    b = *reinterpret_cast<const uint8_t*>(intptr_t(lin) + e.addend);
    return {};
  }
  uint32_t phys;
  if (auto f = translate(lin, Access::Execute, user, phys)) return f;
  if (uint8_t* page = mem.host_page(phys, false)) {
    b = page[phys & 0xFFF];
  } else {
    b = uint8_t(mem.read(phys, 1));
  }
  return {};
}

}  // namespace vs::cpu

namespace vs::cpu {

std::optional<InstructionInfo> describe_instruction(std::span<const uint8_t> bytes, bool code32) {
  const ByteSource src = [&](uint32_t at, uint8_t& b) -> Fault {
    if (at >= bytes.size()) return fault(vec::PF);  // ran off the supplied bytes
    b = bytes[at];
    return {};
  };
  DecodeMode mode;
  mode.code32 = code32;
  mode.protected_mode = true;
  Insn in;
  if (decode_insn(src, 0, mode, in)) return std::nullopt;
  InstructionInfo info;
  info.length = in.len;
  // Encodings that raise #UD or #GP whatever the state (undefined opcodes,
  // register forms of memory-only rows, LOCK misuse, > 15 bytes) have no row.
  const bool always_faults = in.fn == raise_ud || in.fn == raise_too_long;
  if (in.row != 0xFFFF && !always_faults) info.row = &opcode_table()[in.row];
  info.operand_size = in.o32 ? 32 : 16;
  info.address_size = in.a32 ? 32 : 16;
  info.has_memory_operand = info.row && in.mod != 3 && decode_spec(in.row).modrm;
  return info;
}

}  // namespace vs::cpu
