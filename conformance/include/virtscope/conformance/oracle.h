// An oracle: an independent executor of IA-32 code (real silicon in an i386
// process, KVM, Unicorn, or virtscope's own interpreter) behind one interface,
// so that the lockstep driver can run the same instruction stream on two of
// them and compare architectural state after every instruction.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vs::conformance {

// General-purpose registers in encoding order (Intel SDM Vol. 2 Table 2-1).
enum Gpr : int { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
// Segment registers in encoding order (SDM Vol. 2 §3.1.1.3, "Sreg").
enum Sreg : int { ES, CS, SS, DS, FS, GS };

// What state a stream starts in. User-level oracles (native) only accept
// UserFlat32; system oracles (unicorn, kvm, interpreter) accept all.
enum class StartMode {
  UserFlat32,   // CPL 3, flat 4 GiB 32-bit segments, paging as the host sets it
  Ring0Flat32,  // CPL 0, flat 32-bit segments from a GDT the oracle builds, no paging
  Real16,       // real mode, 16-bit
};

// Architectural state compared in lockstep. Segment registers are compared
// by selector only; descriptor caches are the oracle's business.
struct ArchState {
  uint32_t gpr[8] = {};
  uint32_t eip = 0;
  uint32_t eflags = 0x2;
  uint16_t seg[6] = {};
  bool operator==(const ArchState&) const = default;
};

// Sparse guest memory by 4 KiB page (linear == physical for these tests).
struct MemoryImage {
  static constexpr uint32_t kPageSize = 4096;
  std::map<uint32_t, std::vector<uint8_t>> pages;  // page base -> 4096 bytes

  void write(uint32_t addr, const uint8_t* data, size_t len);
  void write(uint32_t addr, const std::vector<uint8_t>& bytes) { write(addr, bytes.data(), bytes.size()); }
  uint8_t read8(uint32_t addr) const;  // unmapped reads 0
  void map(uint32_t base, uint32_t len);  // zero-filled pages covering [base, base+len)
};

// How one step ended. Exceptions are the architectural vector the oracle
// observed (for the native oracle: derived from the signal, see its file).
struct StepResult {
  enum class Kind { Retired, Exception, Error } kind = Kind::Retired;
  int vector = -1;            // exception vector when kind == Exception
  uint32_t error_code = 0;    // when the oracle can know it
  std::string message;        // Error: what went wrong with the oracle itself
};

// A region the stream may touch, and where the code sits. The native oracle
// must place its windows at these linear addresses in its tracee.
struct Layout {
  uint32_t code_base = 0x00400000;  // code window (RX for native)
  uint32_t code_size = 0x10000;
  uint32_t data_base = 0x00500000;  // data window (RW)
  uint32_t data_size = 0x10000;
  uint32_t stack_top = 0x00510000;  // ESP starts here, inside the data window
};

class Oracle {
 public:
  virtual ~Oracle() = default;
  virtual std::string name() const = 0;
  // Whether this oracle can run `mode` on this host; when not, *why says why
  // in one sentence (a test prints it when it skips).
  virtual bool available(StartMode mode, std::string* why) = 0;
  // Load the memory image and the start state. Returns an error message on failure.
  virtual std::optional<std::string> reset(StartMode mode, const Layout& layout,
                                           const MemoryImage& mem, const ArchState& start) = 0;
  // Execute exactly one instruction (or deliver one exception).
  virtual StepResult step() = 0;
  virtual ArchState state() = 0;
  // Set state (used to skip past a faulting instruction on both sides).
  virtual void set_state(const ArchState& s) = 0;
  virtual std::vector<uint8_t> read_memory(uint32_t addr, uint32_t len) = 0;
};

}  // namespace vs::conformance
