// The opcode table: every row decodes, groups resolve by ModRM.reg, and the
// privilege classes match Intel SDM Vol. 3 and Robin & Irvine (SEMANTICS.md §6).
#include <gtest/gtest.h>

#include <set>

#include "virtscope/cpu/opcode_table.h"

using namespace vs::cpu;

namespace {
const OpcodeInfo* row(uint16_t opcode, unsigned reg = 0) { return find_opcode(opcode, reg); }
}  // namespace

TEST(OpcodeTable, EveryRowIsFoundByItsOpcode) {
  for (const OpcodeInfo& info : opcode_table()) {
    const OpcodeInfo* found = find_opcode(info.opcode, info.ext < 0 ? 0 : unsigned(info.ext));
    ASSERT_NE(found, nullptr) << "opcode " << std::hex << info.opcode;
    EXPECT_EQ(found->mnemonic, info.mnemonic);
  }
}

TEST(OpcodeTable, NoOpcodeIsDefinedTwice) {
  std::set<std::pair<uint16_t, int>> seen;
  for (const OpcodeInfo& info : opcode_table())
    EXPECT_TRUE(seen.insert({info.opcode, info.ext}).second) << "duplicate row for " << std::hex << info.opcode;
}

TEST(OpcodeTable, GroupMembersResolveByModrmReg) {
  EXPECT_EQ(row(0xF7, 6)->mnemonic, Mnemonic::DIV);
  EXPECT_EQ(row(0xF7, 7)->mnemonic, Mnemonic::IDIV);
  EXPECT_EQ(row(0x101, 2)->mnemonic, Mnemonic::LGDT);
  EXPECT_EQ(row(0xFE, 2), nullptr);  // FE /2 is undefined: #UD
  EXPECT_EQ(row(0x1C7, 0), nullptr);
}

TEST(OpcodeTable, UndefinedOpcodesHaveNoRow) {
  EXPECT_EQ(row(0x10F), nullptr);  // 0F 0F (3DNow!) is not a P6 instruction
  EXPECT_EQ(row(0x1FF), nullptr);
  EXPECT_EQ(row(0x177), nullptr);  // EMMS: no MMX on this CPU
}

TEST(OpcodeTable, PrivilegedInstructionsTrapAtCplAboveZero) {
  for (auto [op, reg] : {std::pair{0xF4, 0}, {0x101, 2}, {0x101, 3}, {0x100, 2}, {0x100, 3}, {0x101, 6},
                         {0x106, 0}, {0x120, 0}, {0x122, 0}, {0x121, 0}, {0x108, 0}, {0x109, 0},
                         {0x101, 7}, {0x130, 0}, {0x132, 0}}) {
    const OpcodeInfo* r = row(uint16_t(op), unsigned(reg));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->privilege, Privilege::Privileged) << mnemonic_name(r->mnemonic);
  }
}

TEST(OpcodeTable, IoplSensitiveInstructions) {
  for (uint16_t op : {0xFA, 0xFB, 0xE4, 0xE5, 0xE6, 0xE7, 0xEC, 0xED, 0xEE, 0xEF, 0x6C, 0x6D, 0x6E, 0x6F})
    EXPECT_EQ(row(op)->privilege, Privilege::Iopl) << mnemonic_name(row(op)->mnemonic);
}

// Robin & Irvine's sensitive-but-unprivileged instructions all run at CPL 3
// without trapping: the table must say so, because trap-and-emulate fails on them.
TEST(OpcodeTable, SensitiveUnprivilegedInstructionsOfRobinAndIrvine) {
  const std::pair<uint16_t, unsigned> rows[] = {
      {0x101, 0} /*SGDT*/, {0x101, 1} /*SIDT*/, {0x100, 0} /*SLDT*/, {0x101, 4} /*SMSW*/,
      {0x9C, 0} /*PUSHF*/, {0x9D, 0} /*POPF*/, {0x102, 0} /*LAR*/, {0x103, 0} /*LSL*/,
      {0x100, 4} /*VERR*/, {0x100, 5} /*VERW*/, {0x1F, 0} /*POP DS*/, {0x0E, 0} /*PUSH CS*/,
      {0x9A, 0} /*CALL far*/, {0xEA, 0} /*JMP far*/, {0xCD, 0} /*INT n*/, {0xCB, 0} /*RET far*/,
      {0x100, 1} /*STR*/, {0x8C, 0} /*MOV r/m, Sreg*/};
  for (auto [op, reg] : rows) EXPECT_EQ(row(op, reg)->privilege, Privilege::Sensitive) << mnemonic_name(row(op, reg)->mnemonic);
}

TEST(OpcodeTable, ExitClassesNameVtxExitReasons) {
  EXPECT_EQ(row(0x1A2)->exit, ExitClass::CPUID);
  EXPECT_EQ(row(0xF4)->exit, ExitClass::HLT);
  EXPECT_EQ(row(0xEE)->exit, ExitClass::IO_INSTRUCTION);
  EXPECT_EQ(row(0x122)->exit, ExitClass::CR_ACCESS);
  EXPECT_EQ(exit_class_name(ExitClass::IO_INSTRUCTION), "IO_INSTRUCTION");
}

TEST(OpcodeTable, LockableRowsAreReadModifyWriteForms) {
  EXPECT_TRUE(row(0x01)->attrs & attr::LOCK);    // ADD Ev,Gv
  EXPECT_FALSE(row(0x03)->attrs & attr::LOCK);   // ADD Gv,Ev: register destination
  EXPECT_FALSE(row(0x39)->attrs & attr::LOCK);   // CMP writes nothing
  EXPECT_TRUE(row(0x1C7, 1)->attrs & attr::LOCK);  // CMPXCHG8B
}
