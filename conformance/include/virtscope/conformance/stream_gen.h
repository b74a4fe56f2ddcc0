// Reproducible random IA-32 instruction streams for lockstep conformance runs:
// encodings per Intel SDM Vol. 2 ch. 2 (ModRM/SIB, Tables 2-1..2-3), undefined
// flags per the "Flags Affected" section of each instruction in Vol. 2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "virtscope/conformance/oracle.h"

namespace vs::conformance {

// EFLAGS bits (SDM Vol. 1 §3.4.3), in their own namespace so that oracle files
// with private copies of these names can include this header.
namespace eflags {
inline constexpr uint32_t kCF = 1u << 0, kPF = 1u << 2, kAF = 1u << 4, kZF = 1u << 6, kSF = 1u << 7;
inline constexpr uint32_t kTF = 1u << 8, kIF = 1u << 9, kDF = 1u << 10, kOF = 1u << 11;
inline constexpr uint32_t kArithFlags = kCF | kPF | kAF | kZF | kSF | kOF;
}  // namespace eflags

// One instruction of a generated stream.
struct GeneratedInsn {
  uint32_t addr = 0;                  // linear address of the first byte
  std::vector<uint8_t> bytes;         // the whole encoding, prefixes included
  uint32_t undefined_flags_mask = 0;  // EFLAGS bits the SDM leaves undefined after it
  std::string text;                   // short description, e.g. "add Ev,Gv o16 a32"
  bool may_fault = false;             // an exception is a legitimate outcome
  std::string cls;                    // coverage class: "alu", "shift", "setup", ...
  int undefined_gpr = -1;             // a GPR (or -1) whose bits below are undefined after it
  uint32_t undefined_gpr_bits = 0;    //   (BSF/BSR with a zero source)
  bool defer_memory_check = false;    // memory holds host-specific bits until the next insn (PUSHF)
};

// A complete reproducible test case: where it runs, from which state, on which bytes.
struct Program {
  StartMode mode = StartMode::UserFlat32;
  Layout layout;
  ArchState start;
  MemoryImage mem;  // code window with the instructions + data window with random bytes
  std::vector<GeneratedInsn> insns;

  // Segment base of CS (real mode: selector * 16, flat modes: 0), so EIP = addr - code_segment_base().
  uint32_t code_segment_base() const;
  // EIP of instruction i; i == insns.size() gives the address just past the last one.
  uint32_t eip_of(size_t i) const;
};

struct GeneratorOptions {
  bool system_class = false;      // Ring0Flat32 only: MOV CRn, CLTS, SGDT/LGDT, INVLPG, WBINVD, CLI/STI
  bool faults = true;             // #DE from DIV/AAM 0, #UD from UD2/LEA reg/invalid LOCK
  bool undocumented_sal6 = true;  // the D0-D3/C0-C1 /6 alias of SHL
  bool invalid_lock = true;       // LOCK on a non-lockable ALU form (#UD; Unicorn misses some)
};

// A layout that suits the mode: the Layout defaults for the 32-bit modes,
// windows below 1 MiB (64 KiB each, paragraph aligned) for Real16.
Layout default_layout(StartMode mode);
// Why `layout` cannot hold a stream for `mode`, or "" when it can.
std::string check_layout(StartMode mode, const Layout& layout);

// The selectors a generated start state carries in each mode. UserFlat32 uses
// the Linux i386-on-x86_64 user selectors; Ring0Flat32 assumes a GDT with
// code at 0x08 and data at 0x10; Real16 uses the window paragraphs.
void default_selectors(StartMode mode, const Layout& layout, uint16_t seg[6]);

class StreamGenerator {
 public:
  StreamGenerator(uint64_t seed, StartMode mode, Layout layout, GeneratorOptions options = {});

  // Generates one program of about `count` instructions (setup instructions
  // included). Successive calls continue the same deterministic sequence.
  // Returns an empty program when the layout is unusable (see error()).
  Program generate(size_t count);
  const std::string& error() const { return error_; }

  // The deterministic PRNG (xoshiro256**, seeded by splitmix64); public so
  // tests and the campaign can derive reproducible values from it.
  uint64_t next();
  uint32_t below(uint32_t n);  // 0..n-1 (n > 0); modulo bias is irrelevant here
  bool chance(uint32_t percent) { return below(100) < percent; }

 private:
  struct Emitter;  // builds one program (stream_gen.cpp)
  uint64_t s_[4];
  StartMode mode_;
  Layout layout_;
  GeneratorOptions options_;
  std::string error_;
};

}  // namespace vs::conformance
