// The decoder's private view of the opcode table (opcode_table.cpp).
#pragma once

#include <functional>

#include "core.h"

namespace vs::cpu {

// Immediate / displacement fields that follow ModRM, in encoding order.
enum class ImmKind : uint8_t {
  None,
  Ib,      // imm8, zero-extended
  Ibs,     // imm8 or rel8, sign-extended
  Iw,      // imm16
  Iz,      // imm16 or imm32 by operand size (also rel16/rel32)
  FarPtr,  // offset (16/32 by operand size) then selector16
  Moffs,   // offset (16/32 by address size)
};

struct DecodeSpec {
  bool modrm = false;
  bool mem_only = false;  // register form (mod = 3) is #UD
  bool reg_only = false;  // mod ignored: rm is a register (MOV CRn/DRn)
  ImmKind imm[2] = {ImmKind::None, ImmKind::None};
};

// Row index for an opcode (0x100 + byte for 0F) and ModRM.reg; -1 = undefined.
int row_index(uint16_t opcode, unsigned modrm_reg);
// Row of a whole-ModRM register form (0F 01 C1 VMCALL), or -1.
int modrm_form_row(uint16_t opcode, uint8_t modrm);
bool opcode_has_modrm(uint16_t opcode);
bool opcode_is_group(uint16_t opcode);
const DecodeSpec& decode_spec(int row);
Handler row_handler(int row, bool o32);
// The threaded form of a row's handler; rows with an E operand have one per
// ModRM form (register_form: mod = 3).
Handler row_chained_handler(int row, bool o32, bool register_form);

// Where instruction bytes come from: the CPU's code fetch, or a buffer.
using ByteSource = std::function<Fault(uint32_t offset, uint8_t& byte)>;
struct DecodeMode {
  bool code32 = true;          // CS.D (default operand and address size 32)
  bool protected_mode = true;  // false in real and virtual-8086 mode (NOREAL rows #UD)
  CpuModel model = CpuModel::P6;
};
Fault decode_insn(const ByteSource& src, uint32_t eip, const DecodeMode& mode, Insn& out);

}  // namespace vs::cpu
