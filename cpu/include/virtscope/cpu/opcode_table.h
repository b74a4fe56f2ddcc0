// Public view of the opcode table (opcodes.def): what each instruction form is
// called, how it is encoded, whether LOCK is allowed, its privilege class and
// the VT-x exit it can cause. The decoder, the virtualization modes and the UI
// all read these rows; nothing else describes instructions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vs::cpu {

enum class Mnemonic : uint16_t {
#define VS_MNEMONIC(name, text) name,
#include "virtscope/cpu/mnemonics.def"
#undef VS_MNEMONIC
  kCount
};
std::string_view mnemonic_name(Mnemonic);

// Popek & Goldberg / Robin & Irvine classification (SEMANTICS.md §5-6).
enum class Privilege : uint8_t {
  Ordinary,     // behaves the same at every CPL
  Privileged,   // #GP(0) when CPL > 0: a trap-and-emulate VMM sees it
  Iopl,         // faults when CPL > IOPL (I/O: unless the TSS bitmap allows it)
  Sensitive,    // sensitive but unprivileged: silently differs at CPL > 0
  Config,       // privileged only when CR4.TSD / CR4.PCE ask for it
};
std::string_view privilege_name(Privilege);

// VT-x basic exit reasons an instruction can cause (SDM Vol. 3 Appendix C).
enum class ExitClass : uint8_t {
  NO_EXIT, CPUID, HLT, INVD, INVLPG, RDPMC, RDTSC, CR_ACCESS, DR_ACCESS,
  IO_INSTRUCTION, RDMSR, WRMSR, WBINVD, GDTR_IDTR_ACCESS, LDTR_TR_ACCESS, VMCALL,
};
std::string_view exit_class_name(ExitClass);

// Row attributes.
namespace attr {
constexpr uint8_t LOCK = 1, END = 2, REP = 4, NOREAL = 8;
}

// A row's `ext` for a register form selected by a whole ModRM byte (mod = 3),
// e.g. 0F 01 C1 (VMCALL): kModrmForm | ModRM bits 5:0.
constexpr int8_t kModrmForm = 0x40;
constexpr int8_t modrm_form(uint8_t modrm) { return int8_t(kModrmForm | (modrm & 0x3F)); }

struct OpcodeInfo {
  uint16_t opcode;        // 0x00-0xFF, or 0x100 + second byte for the 0F map
  int8_t ext;             // ModRM.reg for group members, modrm_form(m) for whole-ModRM register forms, -1 otherwise
  Mnemonic mnemonic;
  std::string_view operands;  // SDM Appendix A notation, e.g. "Ev,Gv"
  uint8_t attrs;
  Privilege privilege;
  ExitClass exit;
};

// What the decoder makes of one instruction's bytes (for disassembly views,
// "why did this trap?" panels and the length oracle tests).
struct InstructionInfo {
  unsigned length = 0;                 // bytes, prefixes included (<= 15)
  const OpcodeInfo* row = nullptr;     // nullptr: an undefined opcode (#UD)
  unsigned operand_size = 32, address_size = 32;
  bool has_memory_operand = false;
};
// Decode the instruction at the start of `bytes` (protected mode, CS.D =
// code32). nullopt if the bytes end before the instruction does.
std::optional<InstructionInfo> describe_instruction(std::span<const uint8_t> bytes, bool code32);

// All rows in table order.
std::span<const OpcodeInfo> opcode_table();
// The row for an opcode (and ModRM.reg for groups, or modrm_form(m) for a
// whole-ModRM register form), or nullptr if that encoding is undefined (#UD).
const OpcodeInfo* find_opcode(uint16_t opcode, unsigned modrm_reg);

}  // namespace vs::cpu
