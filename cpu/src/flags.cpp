// The six status flags, computed on demand from the last arithmetic
// operation (Intel SDM Vol. 1 §3.4.3.1 and Appendix A, "EFLAGS Cross-Reference"),
// and the condition codes built from them (Vol. 1 Appendix B).
#include "flags.h"

namespace vs::cpu {

void Core::materialize_flags() {
  if (!lazy_mask) return;
  uint32_t f = 0;
  if (cf()) f |= flag::CF;
  if (pf()) f |= flag::PF;
  if (af()) f |= flag::AF;
  if (zf()) f |= flag::ZF;
  if (sf()) f |= flag::SF;
  if (of()) f |= flag::OF;
  s.eflags = (s.eflags & ~lazy_mask) | (f & lazy_mask);
  lazy_mask = 0;
}

void Core::write_eflags(uint32_t value, uint32_t changeable) {
  materialize_flags();
  uint32_t f = (s.eflags & ~changeable) | (value & changeable);
  f = (f | flag::kFixed1) & ~(1u << 3 | 1u << 5 | 1u << 15 | 0xFFC00000u);
  if (config.model == CpuModel::I286 && !protected_mode()) f &= ~(flag::IOPL | flag::NT);
  s.eflags = f;
  // Setting TF, or IF with an interrupt waiting, changes what the run loop
  // must do at the next boundary.
  if ((f & flag::TF) || interrupt_ready()) attention = true;
}

}  // namespace vs::cpu
