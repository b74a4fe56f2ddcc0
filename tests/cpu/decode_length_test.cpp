// The decoder's instruction lengths against Capstone, the independent decode
// oracle: every defined opcode with many ModRM/SIB/displacement/prefix
// combinations, in 16- and 32-bit code.
#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include <vector>

#include "virtscope/cpu/opcode_table.h"

using namespace vs::cpu;

namespace {
struct Capstone {
  csh h = 0;
  explicit Capstone(bool code32) { cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &h); }
  ~Capstone() { cs_close(&h); }
  size_t length(const std::vector<uint8_t>& b) {
    cs_insn* insn = nullptr;
    size_t n = cs_disasm(h, b.data(), b.size(), 0, 1, &insn);
    size_t len = n ? insn->size : 0;
    if (n) cs_free(insn, n);
    return len;
  }
};

uint64_t next(uint64_t& s) {  // splitmix64: reproducible everywhere
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void check_lengths(bool code32) {
  Capstone cs(code32);
  uint64_t seed = code32 ? 32 : 16;
  size_t compared = 0;
  for (const OpcodeInfo& info : opcode_table()) {
    if (info.mnemonic == Mnemonic::ESC || info.mnemonic == Mnemonic::SALC) continue;  // Capstone decodes x87 operands differently
    for (int trial = 0; trial < 64; ++trial) {
      std::vector<uint8_t> b;
      const uint64_t r = next(seed);
      if (r & 1) b.push_back(0x66);
      if (r & 2) b.push_back(0x67);
      if (r & 4) b.push_back(0x2E);
      if (info.opcode >= 0x100) b.push_back(0x0F);
      b.push_back(uint8_t(info.opcode));
      uint8_t modrm = uint8_t(next(seed));
      if (info.ext >= 0) modrm = uint8_t((modrm & 0xC7) | (info.ext << 3));
      b.push_back(modrm);
      for (int i = 0; i < 12; ++i) b.push_back(uint8_t(next(seed)));
      const auto ours = describe_instruction(b, code32);
      ASSERT_TRUE(ours.has_value());
      if (!ours->row) continue;  // our #UD (e.g. register form of a memory-only row)
      const size_t theirs = cs.length(b);
      if (theirs == 0) continue;  // Capstone rejects it (e.g. LOCK misuse, invalid forms)
      ++compared;
      EXPECT_EQ(ours->length, theirs) << mnemonic_name(info.mnemonic) << " opcode " << std::hex << info.opcode
                                      << " bytes " << int(b[0]) << " " << int(b[1]) << " " << int(b[2]) << " "
                                      << int(b[3]) << (code32 ? " (32-bit)" : " (16-bit)");
    }
  }
  EXPECT_GT(compared, 10000u);
}
}  // namespace

TEST(DecodeLength, MatchesCapstoneIn32BitCode) { check_lengths(true); }
TEST(DecodeLength, MatchesCapstoneIn16BitCode) { check_lengths(false); }

TEST(DecodeLength, FifteenByteLimit) {
  std::vector<uint8_t> b(14, 0x66);  // 14 prefixes + NOP = 15 bytes: fine
  b.push_back(0x90);
  auto ok = describe_instruction(b, true);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->length, 15u);
  ASSERT_NE(ok->row, nullptr);
  b.insert(b.begin(), 0x66);  // 16 bytes: #GP(0) whatever the state, so no row
  auto too_long = describe_instruction(b, true);
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->row, nullptr);
}
