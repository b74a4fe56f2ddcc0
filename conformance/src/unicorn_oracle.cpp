// The Unicorn lockstep oracle (unicorn_oracle.h): Unicorn 2.0.1's C API (unicorn.h,
// x86.h) run one instruction per uc_emu_start; descriptors and TSS per Intel SDM
// Vol. 3 §3.4.5 and §7.2.1, fault/trap classes per Vol. 3 §6.5 and Table 6-1.
//
// What Unicorn 2.0.1 (Debian libunicorn 2.0.1.post1) does, found by experiment and
// by reading its sources (qemu/accel/tcg/cpu-exec.c, qemu/target/i386/translate.c
// and unicorn.c, uc.c), and what this file does about it:
//
//  1. Exceptions are never delivered through the guest IDT or IVT. Where QEMU
//     would call do_interrupt, Unicorn calls the UC_HOOK_INTR hooks with the
//     vector (cpu_handle_exception); no IDT, gate, TSS or stack is touched. So
//     #DE, #DB, #BP, #OF, #BR, #NP, #SS, #GP, #PF (paging on) and INT n all reach
//     the hook, with EIP at the faulting instruction for faults and after the
//     instruction for INT n / INT3 / INTO (EIP = exception_next_eip) and for the
//     single-step #DB. #UD is different: no hook runs, uc_emu_start returns
//     UC_ERR_INSN_INVALID with EIP at the instruction. Consequences: no error
//     code is available (StepResult::error_code stays 0, except for the
//     synthesized #PF below); INT n ignores the gate's DPL (at CPL 3 `int 0x21`
//     is reported as 0x21, where silicon and the KVM oracle raise #GP); nothing
//     that happens during delivery (ring switch, #DF, triple fault) exists.
//     The hook records the vector and calls uc_emu_stop. EIP convention of this
//     oracle (the same as the KVM oracle's): the faulting instruction for
//     faults, the next instruction for INT n, INT3, INTO and a TF trap.
//  2. Because nothing is delivered, QEMU's env->old_exception is never cleared:
//     after one contributory fault (#DE, #TS, #NP, #SS, #GP) or #PF the next one
//     is escalated to #DF (vector 8), and a third becomes a silent shutdown
//     (no hook, nothing reported). The oracle saves the CPU (uc_context_save)
//     before each instruction and restores it after every fault, which both
//     clears old_exception and leaves the state as it was before the faulting
//     instruction, as a fault requires.
//  3. uc_emu_start(begin, until, 0, count=1) counts instruction hooks, and QEMU
//     translates a REP string instruction as one iteration that jumps back to
//     itself, so count=1 runs ONE ITERATION (`rep movsb` with ECX=5 leaves
//     ECX=4 and EIP on the instruction). The oracle therefore does not use
//     `count`: its own UC_HOOK_CODE hook lets the first instruction run, lets a
//     REP string instruction (F2/F3 + INS/OUTS/MOVS/CMPS/STOS/LODS/SCAS) run
//     every iteration at its own address, and stops at the first hook anywhere
//     else. One step is one architectural instruction however many iterations
//     it takes; a fault in iteration k leaves the k-1 finished ones done (the
//     snapshot of note 2 is retaken at the start of every iteration). Exits are
//     switched on with an empty exit set, so `until` never stops anything.
//  4. After a stop in a code hook, EIP reads as the LINEAR address: translate.c
//     stores pc_start = CS.base + EIP into EIP before calling the hook ("Sync PC
//     in advance"). Invisible with flat segments; in real mode with CS = 0x1000,
//     EIP reads 0x10103 instead of 0x0103. The oracle computes EIP = linear -
//     CS.base itself (CS.base = first hook address - start EIP while CS is
//     unchanged, else selector*16 or the descriptor in the GDT/LDT) and writes
//     it back.
//  5. In UC_MODE_16, uc_emu_start takes a linear `begin` and sets IP =
//     (uint16_t)(begin - CS*16), so an EIP above 0xFFFF (e.g. after entering
//     protected mode with a 32-bit code segment) cannot be resumed: step()
//     returns an Error. In UC_MODE_16, uc_reg_write of DS/ES/SS/FS/GS always
//     loads a real-mode segment (base = selector*16) even with CR0.PE set, so
//     set_state() refuses to change those selectors in protected mode there.
//  6. Unmapped (or write-protected) memory calls UC_HOOK_MEM_UNMAPPED/_PROT;
//     the hook returns false and Unicorn stops with UC_ERR_*_UNMAPPED. The
//     oracle reports vector 14 with a synthesized error code (P = 1 only for
//     the read-only private block, W/R, U/S from CPL; no CR2) and restores the
//     snapshot: a store to unmapped memory is dropped, but Unicorn's store
//     path only requests an exit (cpu_exit, no longjmp), so the rest of the
//     instruction may still run and must be undone.
//  7. Unicorn translates a whole block before running its first instruction. If
//     a LATER instruction of that block reaches into unmapped memory, the fetch
//     fails before the first one runs (`nop` at 0x400ffe followed by `b8` at
//     0x400fff, page 0x401000 unmapped: UC_ERR_FETCH_UNMAPPED, nothing done),
//     where silicon would run the NOP. The oracle retries once with an
//     execute-only zero page at the failing page and reports #PF only if the
//     first instruction itself reaches into it (the hook's `size` tells).
//  8. uc_mem_write does not invalidate translated code: new bytes written over
//     code that already ran are not seen. reset() writes all memory before
//     anything runs and the oracle never writes guest memory after that. Guest
//     stores into code are handled by QEMU: a store into its own block throws
//     the block away and runs the store again from a fresh one, so the code
//     hook meets the same instruction twice before it has done anything. The
//     hook tells that apart from a jump to itself (`jmp $`, `loop $`) by the
//     registers: unchanged means "not done yet" once (a second unchanged visit
//     is `jmp $`, whose repetition changes nothing); changed means it retired.
//  9. uc_reg_write(SS) refuses (UC_ERR_EXCEPTION) an SS whose DPL is not the
//     current CPL, and the CPL changes only when SS is loaded, so ring 3 cannot
//     be entered by register writes: reset() for UserFlat32 runs one IRET from
//     ring 0 (at 0x000F1000). uc_reg_write(CR0) stores the value without
//     updating QEMU's hflags, so only bits without hflags (ET, NE, AM) are
//     written; PE comes from the engine mode.
// 10. Done Unicorn's own way, not to be compared: CPUID (QEMU's qemu64 model,
//     "AuthenticAMD"), RDTSC (host time), IN (reads 0 unless hooked; this oracle
//     hooks it to read all ones like the KVM oracle), port permissions from ring
//     3 (always #GP: QEMU wants an *available* TSS, ours is busy, and there is
//     no I/O bitmap anyway), A20 (always on), x87/SSE state (not compared).
//     HLT retires with EIP after it.
// 11. QEMU checks segments when they are loaded, not when they are used: no
//     limit check and no null-selector check on memory accesses. `mov ax,
//     [dword 0x10000]` in real mode and a load through a null FS both read flat
//     memory where silicon raises #GP (or #SS). Accepted as is; listed below.
// 12. Some encodings kill the host process inside Unicorn (tcg_abort, or a NULL
//     dereference), found by running every one- and two-byte opcode with
//     memory and register operands, with and without LOCK, in every mode, each
//     in a forked child: LOCK CMP (38/39 and 80-83 /7 with a memory operand,
//     "tcg.c:3073: tcg fatal error"), LOCK CMPS (A6/A7), LOCK BT/BTS/BTR/BTC
//     with a register destination (0F A3/AB/B3/BB, 0F BA /4-/7), FF /3 and FF /5
//     with a register operand (far CALL/JMP, with or without LOCK), and at CPL 0
//     MOV to DR7 (or DR5 aliasing it) that enables a breakpoint (SIGSEGV).
//     0F 38 / 0F 3A and 66/F2/F3 0F xx encodings did not crash. The crash comes
//     when the encoding is TRANSLATED, and Unicorn translates a whole block
//     ahead (note 7), so stepping the instruction before one is enough. The
//     oracle therefore scans the memory image at reset() for every byte offset
//     where such an encoding would start and makes each one an exit
//     (uc_ctl_set_exits): the translator ends a block just before an exit,
//     running the instruction before it normally (EIP stops at the exit, which
//     is what a step wants anyway). step() then never runs Unicorn at one: the
//     #UD encodings are reported as vector 6, which is what silicon raises (SDM
//     Vol. 2 §2.1.1 on LOCK; those CALL/JMP forms need memory); MOV to DR5/DR7
//     is #GP at CPL > 0, #UD for DR5 with CR4.DE set, and an Error at CPL 0.
//     Encodings created later by guest stores (or with paging on, where linear
//     is not physical) are not covered.
// 13. LOCK NEG m (F0 F6/F7 /3) stores the right result with wrong flags (SF
//     and AF from the operand instead of the result; 233 of 300 random cases
//     differ from plain NEG); every other lockable instruction matches its
//     unlocked form. step() runs LOCK NEG as NEG: F3 (ignored by QEMU there)
//     replaces F0 in memory for that one step, with the translated blocks
//     over those bytes dropped before and after.
// 14. QEMU checks the LOCK prefix only on some paths (ALU, INC/DEC, NOT/NEG,
//     BT* with a register destination, except the `xor r, r` zeroing idiom):
//     LOCK MOV, LOCK PUSH, LOCK Jcc, LOCK XOR CL,CL ... just run. Silicon raises
//     #UD for LOCK on anything but ADD ADC AND BTC BTR BTS CMPXCHG CMPXCHG8B DEC
//     INC NEG NOT OR SBB SUB XOR XADD XCHG with a memory destination (SDM Vol. 2,
//     LOCK). step() applies that rule before running anything.
//
// Which instruction classes the oracle can be trusted for, therefore:
// trusted: integer ALU and flags, data movement, 0x66/0x67 prefixes, stack ops,
// string ops with or without REP, near and far control transfers that do not
// go through a gate, segment loads and their load-time checks, privilege checks of
// CLI/STI/HLT/MOV CRn/LGDT/LIDT/IN/OUT (#GP at CPL 3), the system-register moves
// themselves at CPL 0, real <-> protected mode transitions (EIP < 0x10000 in
// Real16), detection of #DE/#UD/#BR/#OF/#GP/#SS/#NP/unmapped memory, LOCK
// (legality by note 14, LOCK NEG by note 13).
// not trusted: anything needing delivery (IDT/IVT, gates, TSS, error codes, #DF),
// INT n from ring 3 (vector n instead of #GP), CPUID, RDTSC, port input values,
// task switches, virtual-8086 mode, exact #PF error codes and CR2, segment
// limits and null selectors on memory accesses (note 11).
#include "virtscope/conformance/system_layout.h"
#include "virtscope/conformance/unicorn_oracle.h"

#include <unicorn/unicorn.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <utility>

namespace vs::conformance {
namespace {

// ---- The machine the oracle builds (documented in unicorn_oracle.h) ----
constexpr uint32_t kPageSize = MemoryImage::kPageSize;
using namespace system_layout;  // the tables shared with the other oracles
constexpr uint32_t kIvtBase = kPrivateBase + kIvtOff;  // IDTR.base in Real16 (not written)
constexpr uint32_t kGdtBase = kPrivateBase + kGdtOff;
constexpr uint32_t kTssBase = kPrivateBase + kTssOff;
constexpr uint32_t kIdtBase = kPrivateBase + kIdtOff;  // IDTR.base in the flat modes (not written)
constexpr uint32_t kRing3EntryCode = kPrivateBase + 0x1000;  // one IRET
constexpr uint32_t kRing3EntryFrame = kRing0StackTop - 20;  // EIP, CS, EFLAGS, ESP, SS

constexpr uint32_t kTssLimit = 103;

constexpr uint32_t kCr0Pe = 1u << 0, kCr0Et = 1u << 4, kCr0Ne = 1u << 5, kCr0Am = 1u << 18;
constexpr uint32_t kFlagReserved1 = 1u << 1, kFlagVm = 1u << 17;
constexpr uint8_t kIret = 0xCF;

// A REP string instruction that has not finished after this many iterations
// is reported as an Error rather than left to spin.
constexpr uint64_t kMaxRepIterations = uint64_t(1) << 26;
// read_memory() returns at most this much (the interface has no error channel).
constexpr uint32_t kMaxRead = 16u << 20;

// Unicorn's register ids in the order of the interface's Gpr and Sreg enums.
constexpr std::array<int, 8> kGprIds = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                                        UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};
constexpr std::array<int, 6> kSregIds = {UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS,
                                         UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS};
constexpr std::array<const char*, 6> kSregNames = {"ES", "CS", "SS", "DS", "FS", "GS"};

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string uc_text(const char* what, uc_err err) { return std::string(what) + ": " + uc_strerror(err); }

// A code or data segment descriptor (SDM Vol. 3 §3.4.5, Figure 3-8).
// `access` is the byte with P, DPL, S and type; `flags` holds G, D/B, L, AVL.
uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (uint64_t(limit) & 0xFFFF) | (uint64_t(base & 0xFFFFFF) << 16) | (uint64_t(access) << 40) |
         (uint64_t((limit >> 16) & 0xF) << 48) | (uint64_t(flags & 0xF) << 52) | (uint64_t(base >> 24) << 56);
}

uint32_t descriptor_base(uint64_t d) { return uint32_t(((d >> 16) & 0xFFFFFF) | ((d >> 56) << 24)); }

// F2/F3 followed by INS, OUTS, MOVS, CMPS, STOS, LODS or SCAS (SDM Vol. 2 §2.1.1:
// the REP prefixes apply only to string instructions).
bool is_rep_string(const uint8_t* bytes, size_t len) {
  bool rep = false;
  for (size_t i = 0; i < len; ++i) {
    uint8_t b = bytes[i];
    switch (b) {
      case 0xF2: case 0xF3: rep = true; continue;
      case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
      case 0x66: case 0x67: case 0xF0: continue;
      default: break;
    }
    bool string_op = (b >= 0x6C && b <= 0x6F) || (b >= 0xA4 && b <= 0xA7) || (b >= 0xAA && b <= 0xAF);
    return rep && string_op;
  }
  return false;
}

// What step() needs to know about an instruction's encoding (notes 12, 13).
struct Encoding {
  size_t prefixes = 0;  // legacy prefix bytes before the opcode
  bool lock = false;
  bool two_byte = false;  // 0F xx
  uint8_t opcode = 0;
  bool has_modrm = false;
  uint8_t mod = 0, reg = 0, rm = 0;
};

Encoding decode_prefixes_and_opcode(const uint8_t* bytes, size_t len) {
  Encoding e;
  size_t i = 0;
  for (; i < len; ++i) {
    uint8_t b = bytes[i];
    if (b == 0xF0) e.lock = true;
    else if (!(b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65 || b == 0x66 ||
               b == 0x67 || b == 0xF2 || b == 0xF3))
      break;
  }
  e.prefixes = i;
  if (i < len && bytes[i] == 0x0F) {
    e.two_byte = true;
    ++i;
  }
  if (i < len) e.opcode = bytes[i++];
  if (i < len) {
    e.has_modrm = true;
    e.mod = bytes[i] >> 6;
    e.reg = (bytes[i] >> 3) & 7;
    e.rm = bytes[i] & 7;
  }
  return e;
}

// The #UD encodings of note 12 (they make Unicorn abort the process).
bool aborts_unicorn_with_ud(const Encoding& e);

// MOV to DR5 or DR7 (0F 23 /5, /7): Unicorn crashes if it enables a breakpoint.
bool moves_to_dr5_or_dr7(const Encoding& e) {
  return e.two_byte && e.opcode == 0x23 && e.has_modrm && (e.reg == 5 || e.reg == 7);
}

// SDM Vol. 2 "LOCK": the instructions LOCK may prefix, and only with a memory
// destination; anything else raises #UD (note 14).
bool lock_is_legal(const Encoding& e) {
  if (!e.has_modrm || e.mod == 3) return false;
  if (!e.two_byte) {
    switch (e.opcode) {
      case 0x00: case 0x01: case 0x08: case 0x09: case 0x10: case 0x11: case 0x18: case 0x19:  // ADD OR ADC SBB
      case 0x20: case 0x21: case 0x28: case 0x29: case 0x30: case 0x31:                        // AND SUB XOR
      case 0x86: case 0x87: return true;                                                        // XCHG
      case 0x80: case 0x81: case 0x82: case 0x83: return e.reg != 7;  // group 1 except CMP
      case 0xF6: case 0xF7: return e.reg == 2 || e.reg == 3;          // NOT NEG
      case 0xFE: case 0xFF: return e.reg <= 1;                         // INC DEC
      default: return false;
    }
  }
  switch (e.opcode) {
    case 0xAB: case 0xB3: case 0xBB: return true;  // BTS BTR BTC
    case 0xBA: return e.reg >= 5;                  // BTS BTR BTC imm8 (not BT)
    case 0xB0: case 0xB1: return true;             // CMPXCHG
    case 0xC0: case 0xC1: return true;             // XADD
    case 0xC7: return e.reg == 1;                  // CMPXCHG8B
    default: return false;
  }
}

// LOCK NEG m8/m16/m32 (F6/F7 /3): Unicorn computes its flags wrongly (note 13).
bool is_lock_neg(const Encoding& e) {
  return e.lock && !e.two_byte && (e.opcode == 0xF6 || e.opcode == 0xF7) && e.has_modrm && e.reg == 3 &&
         e.mod != 3;
}

// Whether an encoding starting at `bytes` must never reach Unicorn's translator.
bool must_not_translate(const uint8_t* bytes, size_t len) {
  Encoding e = decode_prefixes_and_opcode(bytes, len);
  return aborts_unicorn_with_ud(e) || moves_to_dr5_or_dr7(e);
}

bool aborts_unicorn_with_ud(const Encoding& e) {
  if (!e.has_modrm && !(e.lock && !e.two_byte && (e.opcode == 0xA6 || e.opcode == 0xA7))) return false;
  if (!e.two_byte && e.opcode == 0xFF && e.mod == 3 && (e.reg == 3 || e.reg == 5)) return true;
  if (!e.lock) return false;
  if (!e.two_byte) {
    if (e.opcode >= 0x38 && e.opcode <= 0x3D) return true;                 // CMP
    if (e.opcode >= 0x80 && e.opcode <= 0x83 && e.reg == 7) return true;  // CMP r/m, imm
    return e.opcode == 0xA6 || e.opcode == 0xA7;                          // CMPS
  }
  bool bit_op = e.opcode == 0xA3 || e.opcode == 0xAB || e.opcode == 0xB3 || e.opcode == 0xBB;
  return e.mod == 3 && (bit_op || (e.opcode == 0xBA && e.reg >= 4));
}

bool is_write(uc_mem_type t) { return t == UC_MEM_WRITE_UNMAPPED || t == UC_MEM_WRITE_PROT; }
bool is_fetch(uc_mem_type t) { return t == UC_MEM_FETCH_UNMAPPED || t == UC_MEM_FETCH_PROT; }
bool is_protection(uc_mem_type t) {
  return t == UC_MEM_READ_PROT || t == UC_MEM_WRITE_PROT || t == UC_MEM_FETCH_PROT;
}
uc_mem_type as_unmapped(uc_mem_type t) {
  return is_fetch(t) ? UC_MEM_FETCH_UNMAPPED : is_write(t) ? UC_MEM_WRITE_UNMAPPED : UC_MEM_READ_UNMAPPED;
}

// What the hooks saw while one instruction ran.
struct Probe {
  uint32_t start_eip = 0;
  int code_hooks = 0;            // UC_HOOK_CODE calls so far
  uint64_t first_linear = 0;     // CS.base + EIP of the stepped instruction
  bool rep_string = false;
  uint64_t rep_iterations = 0;
  std::array<uint32_t, 15> regs_before{};  // GPRs, EFLAGS, selectors (see same_registers)
  bool reentered = false;        // the hook met the stepped instruction again (note 8)
  bool stopped_at_next = false;  // the hook stopped before the next instruction
  uint64_t next_linear = 0;
  int vector = -1;               // UC_HOOK_INTR
  bool mem_fault = false;        // UC_HOOK_MEM_UNMAPPED / _PROT
  uc_mem_type mem_type = UC_MEM_READ;
  uint64_t mem_address = 0;
  std::optional<uint64_t> scratch_page;  // the retry of note 7
  bool first_reaches_scratch = false;
};

class UnicornOracle final : public Oracle {
 public:
  ~UnicornOracle() override { close_engine(); }

  std::string name() const override { return "unicorn"; }
  bool available(StartMode mode, std::string* why) override;
  std::optional<std::string> reset(StartMode mode, const Layout& layout, const MemoryImage& mem,
                                   const ArchState& start) override;
  StepResult step() override;
  ArchState state() override;
  void set_state(const ArchState& s) override;
  std::vector<uint8_t> read_memory(uint32_t addr, uint32_t len) override;

 private:
  // Hooks (user_data is the oracle).
  static void on_code(uc_engine* uc, uint64_t address, uint32_t size, void* self);
  static void on_interrupt(uc_engine* uc, uint32_t intno, void* self);
  static bool on_bad_memory(uc_engine* uc, uc_mem_type type, uint64_t address, int size, int64_t value,
                            void* self);
  static uint32_t on_port_in(uc_engine* uc, uint32_t port, int size, void* self);

  void close_engine();
  std::optional<std::string> open_engine(StartMode mode);
  std::optional<std::string> map_memory(const Layout& layout, const MemoryImage& mem);
  std::optional<std::string> write_private_tables();
  std::optional<std::string> make_exits_before_crashing_encodings(const MemoryImage& mem);
  std::optional<std::string> load_system_registers(StartMode mode);
  std::optional<std::string> load_start_state(StartMode mode, const ArchState& start);
  std::optional<std::string> enter_ring3(const ArchState& start);

  struct Fetched {
    std::array<uint8_t, 15> bytes{};
    size_t size = 0;      // how many could be read
    uint64_t linear = 0;  // where they start
  };
  Fetched fetch_instruction(uint32_t eip);
  std::optional<StepResult> refuse_known_crash(const Encoding& e);
  StepResult step_without_lock(const Fetched& insn, const Encoding& e);
  uc_err run_one(uint32_t eip, std::optional<uint64_t> scratch_page);
  StepResult conclude(uc_err err, uint16_t cs_before, bool may_retry);
  StepResult fault(int vector, uint32_t error_code, std::string message = {});
  StepResult retire_at(uint32_t eip);
  StepResult retry_with_scratch_page(uint16_t cs_before);
  StepResult page_fault(uc_mem_type type, uint64_t address);

  uint32_t reg(int id);
  std::array<uint32_t, 15> registers();
  bool same_registers(const std::array<uint32_t, 15>& before) { return registers() == before; }
  uint16_t selector(int sreg) { return uint16_t(reg(kSregIds[size_t(sreg)])); }
  uint32_t segment_base(uint16_t sel);
  uint32_t cpl();

  uc_engine* uc_ = nullptr;
  uc_context* snapshot_ = nullptr;  // the CPU before the current instruction (iteration)
  StartMode mode_ = StartMode::Ring0Flat32;
  Probe probe_;
  std::optional<std::string> pending_error_;  // from set_state, returned by the next step
  // Selectors as the start state named them, and what the oracle loaded for
  // them: the same except in UserFlat32, where the names are the host's
  // (e.g. Linux's 0x23/0x2B) and the oracle loads its own 0x1B/0x23.
  std::array<uint16_t, 6> names_{}, own_{};
};

// ---- Engine lifetime ----

void UnicornOracle::close_engine() {
  if (snapshot_) uc_context_free(snapshot_);
  snapshot_ = nullptr;
  if (uc_) uc_close(uc_);
  uc_ = nullptr;
}

std::optional<std::string> UnicornOracle::open_engine(StartMode mode) {
  uc_mode m = mode == StartMode::Real16 ? UC_MODE_16 : UC_MODE_32;
  if (uc_err e = uc_open(UC_ARCH_X86, m, &uc_); e != UC_ERR_OK) {
    uc_ = nullptr;
    return uc_text("uc_open", e);
  }
  // No address ever ends emulation by itself (note 3): exits on, exit set empty.
  if (uc_err e = uc_ctl_exits_enable(uc_); e != UC_ERR_OK) return uc_text("uc_ctl(USE_EXITS)", e);
  if (uc_err e = uc_context_alloc(uc_, &snapshot_); e != UC_ERR_OK) {
    snapshot_ = nullptr;
    return uc_text("uc_context_alloc", e);
  }
  uc_hook h;
  // begin > end: the hook covers every address.
  if (uc_err e = uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&on_code), this, 1, 0); e)
    return uc_text("uc_hook_add(CODE)", e);
  if (uc_err e = uc_hook_add(uc_, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&on_interrupt), this, 1, 0); e)
    return uc_text("uc_hook_add(INTR)", e);
  if (uc_err e = uc_hook_add(uc_, &h, UC_HOOK_MEM_INVALID, reinterpret_cast<void*>(&on_bad_memory), this, 1, 0); e)
    return uc_text("uc_hook_add(MEM_INVALID)", e);
  if (uc_err e = uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&on_port_in), this, 1, 0,
                             UC_X86_INS_IN);
      e)
    return uc_text("uc_hook_add(IN)", e);
  return std::nullopt;
}

bool UnicornOracle::available(StartMode mode, std::string* why) {
  uc_engine* probe = nullptr;
  uc_err e = uc_open(UC_ARCH_X86, mode == StartMode::Real16 ? UC_MODE_16 : UC_MODE_32, &probe);
  if (e != UC_ERR_OK) {
    if (why) *why = "Unicorn cannot open an x86 engine: " + std::string(uc_strerror(e));
    return false;
  }
  uc_close(probe);
  return true;
}

// ---- Memory and tables ----

std::optional<std::string> UnicornOracle::map_memory(const Layout& layout, const MemoryImage& mem) {
  std::set<uint32_t> pages;  // page bases, kept sorted so runs can be merged
  auto add_window = [&](uint32_t base, uint32_t size) {
    if (size == 0) return;
    uint64_t end = std::min<uint64_t>(uint64_t(base) + size, uint64_t(1) << 32);
    for (uint64_t p = base & ~uint64_t(kPageSize - 1); p < end; p += kPageSize) pages.insert(uint32_t(p));
  };
  add_window(layout.code_base, layout.code_size);
  add_window(layout.data_base, layout.data_size);
  for (const auto& [base, bytes] : mem.pages) {
    if (base % kPageSize != 0 || bytes.size() != kPageSize)
      return "memory image page " + hex(base) + " is not one aligned 4 KiB page";
    pages.insert(base);
  }
  for (uint32_t p : pages)
    if (p >= kPrivateBase && p < kPrivateBase + kPrivateSize)
      return "page " + hex(p) + " overlaps the oracle's private block " + hex(kPrivateBase) + ".." +
             hex(kPrivateBase + kPrivateSize - 1);
  // One uc_mem_map per run of consecutive pages.
  for (auto it = pages.begin(); it != pages.end();) {
    uint64_t run_base = *it, run_end = run_base + kPageSize;
    for (++it; it != pages.end() && *it == run_end; ++it) run_end += kPageSize;
    if (uc_err e = uc_mem_map(uc_, run_base, size_t(run_end - run_base), UC_PROT_ALL); e != UC_ERR_OK)
      return uc_text(("uc_mem_map " + hex(run_base)).c_str(), e);
  }
  for (const auto& [base, bytes] : mem.pages)
    if (uc_err e = uc_mem_write(uc_, base, bytes.data(), bytes.size()); e != UC_ERR_OK)
      return uc_text(("uc_mem_write " + hex(base)).c_str(), e);
  if (auto err = make_exits_before_crashing_encodings(mem)) return err;
  // Read+execute: the CPU never writes it (accessed bits preset, no task
  // switch), and a guest store there is a bug in the stream, reported as #PF.
  if (uc_err e = uc_mem_map(uc_, kPrivateBase, kPrivateSize, UC_PROT_READ | UC_PROT_EXEC); e != UC_ERR_OK)
    return uc_text("uc_mem_map of the private block", e);
  return write_private_tables();
}

// Note 12: every offset of the image where an encoding that crashes Unicorn
// would start becomes an exit, so no block is ever translated across it.
std::optional<std::string> UnicornOracle::make_exits_before_crashing_encodings(const MemoryImage& mem) {
  std::vector<uint64_t> exits;
  std::vector<uint8_t> run;  // consecutive image pages, plus 14 bytes of what follows
  for (auto it = mem.pages.begin(); it != mem.pages.end();) {
    uint64_t base = it->first;
    run.clear();
    for (uint64_t next = base; it != mem.pages.end() && it->first == next; ++it, next += kPageSize)
      run.insert(run.end(), it->second.begin(), it->second.end());
    size_t scanned = run.size();
    run.resize(scanned + 14, 0);  // unmapped bytes after the run cannot complete an encoding
    for (size_t i = 0; i < scanned; ++i)
      if (must_not_translate(run.data() + i, std::min<size_t>(15, run.size() - i))) exits.push_back(base + i);
  }
  if (exits.empty()) return std::nullopt;
  if (uc_err e = uc_ctl_set_exits(uc_, exits.data(), exits.size()); e != UC_ERR_OK)
    return uc_text("uc_ctl(EXITS)", e);
  return std::nullopt;
}

std::optional<std::string> UnicornOracle::write_private_tables() {
  // GDT. Accessed bits preset so that loading a segment never writes the table.
  const uint64_t gdt[kGdtEntries] = {
      0,
      segment_descriptor(0, 0xFFFFF, 0x9B, 0xC),               // 0x08 code32, ring 0
      segment_descriptor(0, 0xFFFFF, 0x93, 0xC),               // 0x10 data32, ring 0
      segment_descriptor(0, 0xFFFFF, 0xFB, 0xC),               // 0x1B code32, ring 3
      segment_descriptor(0, 0xFFFFF, 0xF3, 0xC),               // 0x23 data32, ring 3
      segment_descriptor(kTssBase, kTssLimit, 0x8B, 0x0),      // 0x28 busy 32-bit TSS
  };
  // TSS (SDM Vol. 3 Figure 7-2): ESP0/SS0, and the I/O map base past the limit
  // so that ring 3 has no port permissions. Unicorn never reads it (note 1).
  std::array<uint8_t, kTssLimit + 1> tss{};
  auto put = [](uint8_t* p, uint32_t v, int n) {
    for (int i = 0; i < n; ++i) p[i] = uint8_t(v >> (8 * i));
  };
  put(&tss[4], kRing0StackTop, 4);
  put(&tss[8], kSelData0, 2);
  put(&tss[102], kTssLimit + 1, 2);
  const uint8_t iret = kIret;
  if (uc_err e = uc_mem_write(uc_, kGdtBase, gdt, sizeof gdt); e != UC_ERR_OK) return uc_text("writing the GDT", e);
  if (uc_err e = uc_mem_write(uc_, kTssBase, tss.data(), tss.size()); e != UC_ERR_OK)
    return uc_text("writing the TSS", e);
  if (uc_err e = uc_mem_write(uc_, kRing3EntryCode, &iret, 1); e != UC_ERR_OK)
    return uc_text("writing the ring-3 entry", e);
  return std::nullopt;
}

// GDTR, IDTR, TR and CR0 as the KVM oracle sets them (unicorn_oracle.h).
std::optional<std::string> UnicornOracle::load_system_registers(StartMode mode) {
  uc_x86_mmr gdtr{0, kGdtBase, kGdtEntries * 8 - 1, 0};
  if (uc_err e = uc_reg_write(uc_, UC_X86_REG_GDTR, &gdtr); e != UC_ERR_OK) return uc_text("writing GDTR", e);
  bool real = mode == StartMode::Real16;
  uc_x86_mmr idtr{0, real ? kIvtBase : kIdtBase, real ? 256u * 4 - 1 : 256u * 8 - 1, 0};
  if (uc_err e = uc_reg_write(uc_, UC_X86_REG_IDTR, &idtr); e != UC_ERR_OK) return uc_text("writing IDTR", e);
  // CR0.PE and QEMU's hflags come from the engine mode (note 9); add the bits
  // that have no hflags so that MOV from CR0 reads what the KVM oracle reads.
  uint64_t cr0 = 0;
  if (uc_err e = uc_reg_read(uc_, UC_X86_REG_CR0, &cr0); e != UC_ERR_OK) return uc_text("reading CR0", e);
  cr0 = real ? kCr0Et : (cr0 | kCr0Pe | kCr0Et | kCr0Ne | kCr0Am);
  if (uc_err e = uc_reg_write(uc_, UC_X86_REG_CR0, &cr0); e != UC_ERR_OK) return uc_text("writing CR0", e);
  if (!real) {
    // SegmentCache flags are the descriptor's high dword: P and type 0xB (busy TSS).
    uc_x86_mmr tr{kSelTss, kTssBase, kTssLimit, (1u << 15) | (0xBu << 8)};
    if (uc_err e = uc_reg_write(uc_, UC_X86_REG_TR, &tr); e != UC_ERR_OK) return uc_text("writing TR", e);
  }
  return std::nullopt;
}

// ---- Reset ----

std::optional<std::string> UnicornOracle::load_start_state(StartMode mode, const ArchState& start) {
  auto write32 = [&](int id, uint32_t v) { return uc_reg_write(uc_, id, &v); };
  for (int sr = ES; sr <= GS; ++sr) names_[size_t(sr)] = own_[size_t(sr)] = start.seg[sr];
  if (mode == StartMode::Ring0Flat32 && (start.seg[CS] != kSelCode0 || start.seg[SS] != kSelData0))
    return "start state: CS " + hex(start.seg[CS]) + " / SS " + hex(start.seg[SS]) +
           " are not ring-0 segments; use " + hex(kSelCode0) + " / " + hex(kSelData0);
  if (mode == StartMode::UserFlat32) {
    // The host picks ring-3 selectors; any with RPL 3 names the flat segments.
    if ((start.seg[CS] & 3) != 3 || (start.seg[SS] & 3) != 3)
      return "start state: CS " + hex(start.seg[CS]) + " / SS " + hex(start.seg[SS]) +
             " are not ring-3 selectors (RPL 3); use e.g. " + hex(kSelCode3) + " / " + hex(kSelData3);
    own_[CS] = kSelCode3;
    for (int sr : {ES, SS, DS, FS, GS})
      if (start.seg[sr] & ~3) own_[size_t(sr)] = kSelData3;  // a null selector stays null
    if (auto err = enter_ring3(start)) return err;
  }
  // In the flat modes CS and SS first (ring 0), or already loaded by the IRET (ring 3).
  std::array<int, 6> order = {CS, SS, ES, DS, FS, GS};
  for (int sr : order) {
    if (mode == StartMode::UserFlat32 && (sr == CS || sr == SS)) continue;
    if (uc_err e = uc_reg_write(uc_, kSregIds[size_t(sr)], &own_[size_t(sr)]); e != UC_ERR_OK)
      return "start state: cannot load " + std::string(kSregNames[size_t(sr)]) + " = " + hex(own_[size_t(sr)]) +
             ": " + uc_strerror(e);
  }
  for (int g = EAX; g <= EDI; ++g)
    if (uc_err e = write32(kGprIds[size_t(g)], start.gpr[g]); e != UC_ERR_OK) return uc_text("writing a GPR", e);
  if (uc_err e = write32(UC_X86_REG_EFLAGS, (start.eflags | kFlagReserved1) & ~kFlagVm); e != UC_ERR_OK)
    return uc_text("writing EFLAGS", e);
  if (uc_err e = write32(UC_X86_REG_EIP, start.eip); e != UC_ERR_OK) return uc_text("writing EIP", e);
  return std::nullopt;
}

// CPL 3 through an IRET from ring 0 (note 9): the frame returns to the start
// EIP with CS/SS = 0x1B/0x23 and the start EFLAGS and ESP.
std::optional<std::string> UnicornOracle::enter_ring3(const ArchState& start) {
  const uint16_t cs0 = kSelCode0, ss0 = kSelData0;
  if (uc_reg_write(uc_, UC_X86_REG_CS, &cs0) != UC_ERR_OK || uc_reg_write(uc_, UC_X86_REG_SS, &ss0) != UC_ERR_OK)
    return "cannot load the ring-0 bootstrap segments";
  const uint32_t frame[5] = {start.eip, kSelCode3, (start.eflags | kFlagReserved1) & ~kFlagVm, start.gpr[ESP],
                             kSelData3};
  if (uc_err e = uc_mem_write(uc_, kRing3EntryFrame, frame, sizeof frame); e != UC_ERR_OK)
    return uc_text("writing the IRET frame", e);
  uint32_t esp = kRing3EntryFrame;
  if (uc_err e = uc_reg_write(uc_, UC_X86_REG_ESP, &esp); e != UC_ERR_OK) return uc_text("writing ESP", e);
  uint32_t eip = kRing3EntryCode;
  if (uc_err e = uc_reg_write(uc_, UC_X86_REG_EIP, &eip); e != UC_ERR_OK) return uc_text("writing EIP", e);
  StepResult r = step();
  if (r.kind != StepResult::Kind::Retired)
    return "entering ring 3 with IRET failed: " +
           (r.kind == StepResult::Kind::Error ? r.message : "vector " + std::to_string(r.vector));
  if (selector(CS) != kSelCode3 || selector(SS) != kSelData3) return "entering ring 3 with IRET left CPL unchanged";
  return std::nullopt;
}

std::optional<std::string> UnicornOracle::reset(StartMode mode, const Layout& layout, const MemoryImage& mem,
                                                const ArchState& start) {
  close_engine();
  pending_error_.reset();
  mode_ = mode;
  std::optional<std::string> err = open_engine(mode);
  if (!err) err = map_memory(layout, mem);
  if (!err) err = load_system_registers(mode);
  if (!err) err = load_start_state(mode, start);
  if (err) close_engine();
  return err;
}

// ---- Hooks ----

void UnicornOracle::on_code(uc_engine* uc, uint64_t address, uint32_t size, void* self) {
  Probe& p = static_cast<UnicornOracle*>(self)->probe_;
  if (p.code_hooks++ == 0) {
    p.first_linear = address;
    std::array<uint8_t, 15> bytes{};
    size_t n = std::min<size_t>(size, bytes.size());
    if (n && uc_mem_read(uc, address, bytes.data(), n) == UC_ERR_OK) p.rep_string = is_rep_string(bytes.data(), n);
    // Retry of note 7: the first instruction itself reaches into the page that
    // was really unmapped. `size` is not patched for #UD (0xf1f1f1f1): ignore it then.
    if (p.scratch_page && size <= 15 && address + size > *p.scratch_page &&
        address < *p.scratch_page + kPageSize) {
      p.first_reaches_scratch = true;
      uc_emu_stop(uc);
    }
    return;
  }
  UnicornOracle* oracle = static_cast<UnicornOracle*>(self);
  if (address == p.first_linear && !p.rep_string && !p.reentered && oracle->same_registers(p.regs_before)) {
    p.reentered = true;  // restarted after a store into its own block (note 8)
    return;
  }
  if (address == p.first_linear && p.rep_string) {
    // The next iteration of the same REP instruction (note 3). It starts a
    // translation block, so the CPU state is fully written back: snapshot it.
    if (++p.rep_iterations > kMaxRepIterations) {
      uc_emu_stop(uc);
      return;
    }
    uc_context_save(uc, oracle->snapshot_);
    return;
  }
  p.stopped_at_next = true;
  p.next_linear = address;
  uc_emu_stop(uc);
}

void UnicornOracle::on_interrupt(uc_engine* uc, uint32_t intno, void* self) {
  static_cast<UnicornOracle*>(self)->probe_.vector = int(intno);
  uc_emu_stop(uc);
}

bool UnicornOracle::on_bad_memory(uc_engine* uc, uc_mem_type type, uint64_t address, int size, int64_t value,
                                  void* self) {
  Probe& p = static_cast<UnicornOracle*>(self)->probe_;
  if (!p.mem_fault) {
    p.mem_fault = true;
    p.mem_type = type;
    p.mem_address = address;
  }
  return false;  // not handled: Unicorn stops with UC_ERR_*_UNMAPPED / _PROT
}

// Nothing is attached to any port: the bus floats high.
uint32_t UnicornOracle::on_port_in(uc_engine* uc, uint32_t port, int size, void* self) {
  return size >= 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
}

// ---- Registers ----

uint32_t UnicornOracle::reg(int id) {
  uint64_t v = 0;  // wide enough for every register read here
  uc_reg_read(uc_, id, &v);
  return uint32_t(v);
}

// What an instruction that retired must have changed if it jumped to itself:
// the GPRs, EFLAGS and the selectors (EIP reads linear inside hooks, note 4).
std::array<uint32_t, 15> UnicornOracle::registers() {
  std::array<uint32_t, 15> r{};
  for (int g = EAX; g <= EDI; ++g) r[size_t(g)] = reg(kGprIds[size_t(g)]);
  r[8] = reg(UC_X86_REG_EFLAGS);
  for (int sr = ES; sr <= GS; ++sr) r[9 + size_t(sr)] = selector(sr);
  return r;
}

// CS.base for `sel` as the CPU would have loaded it: selector*16 in real and
// virtual-8086 mode, else the descriptor's base from the GDT or LDT (SDM Vol. 3
// §3.4.2). A selector the tables cannot resolve counts as base 0.
uint32_t UnicornOracle::segment_base(uint16_t sel) {
  if (!(reg(UC_X86_REG_CR0) & kCr0Pe) || (reg(UC_X86_REG_EFLAGS) & kFlagVm)) return uint32_t(sel) << 4;
  uc_x86_mmr table{};
  if (uc_reg_read(uc_, (sel & 4) ? UC_X86_REG_LDTR : UC_X86_REG_GDTR, &table) != UC_ERR_OK) return 0;
  uint32_t index = sel & ~7u;
  if (index + 7 > table.limit) return 0;
  uint64_t d = 0;
  if (uc_mem_read(uc_, table.base + index, &d, sizeof d) != UC_ERR_OK) return 0;
  return descriptor_base(d);
}

uint32_t UnicornOracle::cpl() {
  if (!(reg(UC_X86_REG_CR0) & kCr0Pe)) return 0;
  if (reg(UC_X86_REG_EFLAGS) & kFlagVm) return 3;
  return selector(CS) & 3;
}

ArchState UnicornOracle::state() {
  ArchState s;
  if (!uc_) return s;
  for (int g = EAX; g <= EDI; ++g) s.gpr[g] = reg(kGprIds[size_t(g)]);
  s.eip = reg(UC_X86_REG_EIP);
  s.eflags = reg(UC_X86_REG_EFLAGS);
  // The oracle's own selectors are reported by the names the start state gave them.
  for (int sr = ES; sr <= GS; ++sr) {
    uint16_t raw = selector(sr);
    s.seg[sr] = raw == own_[size_t(sr)] ? names_[size_t(sr)] : raw;
  }
  return s;
}

void UnicornOracle::set_state(const ArchState& s) {
  if (!uc_) return;
  // Selectors first, only those that change: Unicorn checks each load against
  // the descriptor tables and the CPL, and may refuse (note 9).
  for (int sr : {CS, SS, DS, ES, FS, GS}) {
    uint16_t sel = s.seg[sr] == names_[size_t(sr)] ? own_[size_t(sr)] : s.seg[sr];
    if (sel == selector(sr)) continue;
    if (mode_ == StartMode::Real16 && sr != CS && (reg(UC_X86_REG_CR0) & kCr0Pe)) {
      pending_error_ = "set_state: cannot load " + std::string(kSregNames[size_t(sr)]) + " = " + hex(sel) +
                       " in protected mode: Unicorn's 16-bit engine loads it as a real-mode segment";
      continue;
    }
    if (uc_err e = uc_reg_write(uc_, kSregIds[size_t(sr)], &sel); e != UC_ERR_OK)
      pending_error_ = "set_state: Unicorn refused " + std::string(kSregNames[size_t(sr)]) + " = " + hex(sel) +
                       " (" + uc_strerror(e) + ")";
  }
  for (int g = EAX; g <= EDI; ++g) uc_reg_write(uc_, kGprIds[size_t(g)], &s.gpr[g]);
  uint32_t eflags = (s.eflags | kFlagReserved1) & ~kFlagVm;
  uc_reg_write(uc_, UC_X86_REG_EFLAGS, &eflags);
  uc_reg_write(uc_, UC_X86_REG_EIP, &s.eip);
}

std::vector<uint8_t> UnicornOracle::read_memory(uint32_t addr, uint32_t len) {
  if (!uc_) return {};
  uint64_t end = std::min<uint64_t>(uint64_t(addr) + std::min(len, kMaxRead), uint64_t(1) << 32);
  std::vector<uint8_t> out(size_t(end - addr), 0);
  // Page by page, so an unmapped page reads as zeros (as MemoryImage::read8).
  for (uint64_t a = addr; a < end;) {
    uint64_t chunk = std::min<uint64_t>(end - a, kPageSize - (a % kPageSize));
    uc_mem_read(uc_, a, out.data() + (a - addr), size_t(chunk));
    a += chunk;
  }
  return out;
}

// ---- Stepping ----

// Runs from `eip` until the code hook stops before the next instruction, or an
// exception, a bad memory access or an error ends the run.
uc_err UnicornOracle::run_one(uint32_t eip, std::optional<uint64_t> scratch_page) {
  probe_ = Probe{};
  probe_.start_eip = eip;
  probe_.scratch_page = scratch_page;
  probe_.regs_before = registers();
  uc_context_save(uc_, snapshot_);
  // UC_MODE_16 wants a linear begin and recovers IP = begin - CS*16 (note 5).
  uint64_t begin = mode_ == StartMode::Real16 ? uint64_t(selector(CS)) * 16 + eip : eip;
  return uc_emu_start(uc_, begin, 0, 0, 0);
}

StepResult UnicornOracle::fault(int vector, uint32_t error_code, std::string message) {
  // Back to the state before the faulting instruction (or REP iteration); this
  // also clears QEMU's old_exception (note 2).
  uc_context_restore(uc_, snapshot_);
  uc_reg_write(uc_, UC_X86_REG_EIP, &probe_.start_eip);
  StepResult r;
  r.kind = StepResult::Kind::Exception;
  r.vector = vector;
  r.error_code = error_code;
  r.message = std::move(message);
  return r;
}

StepResult UnicornOracle::retire_at(uint32_t eip) {
  uc_reg_write(uc_, UC_X86_REG_EIP, &eip);
  return {};
}

// The #PF a real CPU would raise for an access to a page that is not present
// (unmapped) or, in the private block, read-only (SDM Vol. 3 §4.7, Figure 4-12).
StepResult UnicornOracle::page_fault(uc_mem_type type, uint64_t address) {
  uint32_t error_code = (is_protection(type) ? 1u : 0u) | (is_write(type) ? 2u : 0u) | (cpl() == 3 ? 4u : 0u);
  const char* what = is_fetch(type) ? "fetch" : is_write(type) ? "write" : "read";
  return fault(14, error_code,
               std::string(what) + (is_protection(type) ? " of read-only " : " of unmapped ") + hex(address));
}

StepResult UnicornOracle::step() {
  StepResult error;
  error.kind = StepResult::Kind::Error;
  if (!uc_) {
    error.message = "the Unicorn oracle has not been reset";
    return error;
  }
  if (pending_error_) {
    error.message = *pending_error_;
    pending_error_.reset();
    return error;
  }
  uint32_t eip = reg(UC_X86_REG_EIP);
  if (mode_ == StartMode::Real16 && eip > 0xFFFF) {
    error.message = "EIP " + hex(eip) + " cannot be resumed: Unicorn's 16-bit engine truncates the start IP to 16 bits";
    return error;
  }
  Fetched insn = fetch_instruction(eip);
  Encoding e = decode_prefixes_and_opcode(insn.bytes.data(), insn.size);
  if (auto refused = refuse_known_crash(e)) return *refused;
  // Note 14. Decided only when the bytes up to the ModRM could be read: a
  // fetch fault comes first otherwise, and Unicorn reports that.
  if (e.lock && insn.size > e.prefixes + (e.two_byte ? 2 : 1) && !lock_is_legal(e)) {
    StepResult r;
    r.kind = StepResult::Kind::Exception;
    r.vector = 6;
    r.message = "LOCK on an instruction that cannot take it: #UD (Unicorn would run it)";
    return r;
  }
  if (is_lock_neg(e)) return step_without_lock(insn, e);
  uint16_t cs_before = selector(CS);
  return conclude(run_one(eip, std::nullopt), cs_before, true);
}

// The instruction's bytes, read page by page (it may end at a mapping's edge).
UnicornOracle::Fetched UnicornOracle::fetch_instruction(uint32_t eip) {
  Fetched f;
  f.linear = uint32_t(segment_base(selector(CS)) + eip);
  while (f.size < f.bytes.size()) {
    size_t chunk = std::min<size_t>(f.bytes.size() - f.size, kPageSize - ((f.linear + f.size) % kPageSize));
    if (uc_mem_read(uc_, f.linear + f.size, f.bytes.data() + f.size, chunk) != UC_ERR_OK) break;
    f.size += chunk;
  }
  return f;
}

// Note 13: run LOCK NEG as NEG. F3 takes the place of F0: QEMU ignores it on
// F6/F7, and one thread cannot tell the locked operation from the plain one.
StepResult UnicornOracle::step_without_lock(const Fetched& insn, const Encoding& e) {
  auto put_prefix = [&](uint8_t value) {
    for (size_t i = 0; i < e.prefixes; ++i)
      if (insn.bytes[i] == 0xF0) uc_mem_write(uc_, insn.linear + i, &value, 1);
    // uc_mem_write leaves translated blocks alone (note 8).
    uc_ctl_remove_cache(uc_, insn.linear, insn.linear + insn.size);
  };
  uint32_t eip = reg(UC_X86_REG_EIP);
  uint16_t cs_before = selector(CS);
  put_prefix(0xF3);
  StepResult r = conclude(run_one(eip, std::nullopt), cs_before, true);
  put_prefix(0xF0);
  return r;
}

// Note 12: encodings that would take the whole process down are not run.
std::optional<StepResult> UnicornOracle::refuse_known_crash(const Encoding& e) {
  StepResult r;
  r.kind = StepResult::Kind::Exception;
  r.message = "not run: Unicorn 2.0.1 crashes on this encoding";
  if (aborts_unicorn_with_ud(e)) {
    r.vector = 6;
  } else if (moves_to_dr5_or_dr7(e)) {
    if (e.reg == 5 && (reg(UC_X86_REG_CR4) & (1u << 3))) {
      r.vector = 6;  // CR4.DE: DR4/DR5 do not exist (SDM Vol. 3 §17.2.2)
    } else if (cpl() > 0) {
      r.vector = 13;
    } else {
      r.kind = StepResult::Kind::Error;
      r.message = "not run: Unicorn 2.0.1 crashes when MOV to DR7 enables a hardware breakpoint";
    }
  } else {
    return std::nullopt;
  }
  return r;
}

StepResult UnicornOracle::conclude(uc_err err, uint16_t cs_before, bool may_retry) {
  Probe& p = probe_;
  StepResult error;
  error.kind = StepResult::Kind::Error;
  if (p.rep_iterations > kMaxRepIterations) {
    uc_context_restore(uc_, snapshot_);
    uc_reg_write(uc_, UC_X86_REG_EIP, &p.start_eip);
    error.message = "a REP string instruction ran more than " + std::to_string(kMaxRepIterations) + " iterations";
    return error;
  }
  if (p.first_reaches_scratch) return page_fault(UC_MEM_FETCH_UNMAPPED, *p.scratch_page);
  if (p.vector >= 0) {
    if (p.vector > 255) {
      error.message = "Unicorn raised its internal exception " + std::to_string(p.vector);
      return error;
    }
    // Faults leave EIP on the instruction; INT n, INT3, INTO and the TF trap
    // leave it after (note 1). Only faults need the state put back. #DB stays
    // as Unicorn left it: under TF it traps after each REP iteration with EIP
    // still on the instruction, and it never counts towards a double fault.
    uint32_t eip_now = reg(UC_X86_REG_EIP);
    if (p.vector != 1 && (eip_now == p.start_eip || eip_now == uint32_t(p.first_linear)))
      return fault(p.vector, 0);
    StepResult r;
    r.kind = StepResult::Kind::Exception;
    r.vector = p.vector;
    return r;
  }
  if (err == UC_ERR_INSN_INVALID) return fault(6, 0);
  if (p.mem_fault) {
    // The execute-only scratch page of the retry stands for unmapped memory.
    bool in_scratch = p.scratch_page && p.mem_address - *p.scratch_page < kPageSize;
    uc_mem_type type = in_scratch ? as_unmapped(p.mem_type) : p.mem_type;
    if (!is_fetch(type)) return page_fault(type, p.mem_address);
    // A fetch that failed after the stepped instruction ran belongs to the
    // next one: this instruction retired, and EIP (set by the jump or the end
    // of the block, not by a hook) is right.
    if (p.code_hooks > 0) return retire_at(reg(UC_X86_REG_EIP));
    // Nothing ran. The instruction's own first byte is missing, or the block
    // failed to translate further on (note 7).
    uint64_t start_linear = uint64_t(segment_base(cs_before)) + p.start_eip;
    if (p.mem_address == start_linear || !may_retry || p.scratch_page) return page_fault(type, p.mem_address);
    return retry_with_scratch_page(cs_before);
  }
  if (err != UC_ERR_OK) {
    uc_context_restore(uc_, snapshot_);
    uc_reg_write(uc_, UC_X86_REG_EIP, &p.start_eip);
    error.message = uc_text("uc_emu_start", err);
    return error;
  }
  if (p.stopped_at_next) {
    // EIP holds the linear address here (note 4).
    uint16_t cs_after = selector(CS);
    uint32_t base = (cs_after == cs_before && p.code_hooks > 0) ? uint32_t(p.first_linear - p.start_eip)
                                                                : segment_base(cs_after);
    return retire_at(uint32_t(p.next_linear - base));
  }
  // Stopped without reaching another instruction (HLT, or an exit of note 12
  // ahead): EIP is right.
  return retire_at(reg(UC_X86_REG_EIP));
}

StepResult UnicornOracle::retry_with_scratch_page(uint16_t cs_before) {
  uint64_t page = probe_.mem_address & ~uint64_t(kPageSize - 1);
  uc_mem_type type = probe_.mem_type;
  uint64_t address = probe_.mem_address;
  uint32_t eip = probe_.start_eip;
  uc_context_restore(uc_, snapshot_);
  if (uc_mem_map(uc_, page, kPageSize, UC_PROT_EXEC) != UC_ERR_OK) return page_fault(type, address);
  uc_err err = run_one(eip, page);
  // Data accesses to the scratch page were refused (it is execute-only) and
  // are reported by conclude() as the #PF they are.
  StepResult r = conclude(err, cs_before, false);
  uc_mem_unmap(uc_, page, kPageSize);
  // Blocks translated from the zero page must not survive it, including those
  // that start on the page before and run into it. (uc_ctl_flush_tlb would do
  // too, but it rebuilds the whole translation cache: about a second.)
  uint64_t from = page >= kPageSize ? page - kPageSize : 0;
  uc_ctl_remove_cache(uc_, from, page + kPageSize);
  return r;
}

}  // namespace

std::unique_ptr<Oracle> make_unicorn_oracle() { return std::make_unique<UnicornOracle>(); }

}  // namespace vs::conformance
