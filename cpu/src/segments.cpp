// Segmentation: descriptors, segment-register loads with the protected-mode
// checks, LDTR/TR loads, and the LAR/LSL/VERR/VERW queries.
// Intel SDM Vol. 3 §3.4 (descriptors), §5.4-5.6 (privilege checks), §7.2.4 (TSS).
#include "core.h"

namespace vs::cpu {

namespace {
constexpr uint32_t selector_index_bytes(uint16_t sel) { return sel & ~7u; }
constexpr bool selector_is_null(uint16_t sel) { return (sel & ~3u) == 0; }
constexpr unsigned rpl(uint16_t sel) { return sel & 3; }
uint16_t descriptor_attr(uint64_t d) { return uint16_t((d >> 40) & 0xF0FF); }
unsigned descriptor_dpl(uint64_t d) { return (d >> 45) & 3; }
bool descriptor_present(uint64_t d) { return (d >> 47) & 1; }
bool descriptor_is_system(uint64_t d) { return !((d >> 44) & 1); }
unsigned descriptor_type(uint64_t d) { return (d >> 40) & 0xF; }
}  // namespace

Segment segment_from_descriptor(uint16_t selector, uint64_t d) {
  Segment s;
  s.selector = selector;
  s.base = uint32_t((d >> 16) & 0xFFFFFF) | uint32_t((d >> 56) & 0xFF) << 24;
  uint32_t limit = uint32_t(d & 0xFFFF) | uint32_t((d >> 32) & 0xF0000);
  if (d & (uint64_t(1) << 55)) limit = (limit << 12) | 0xFFF;  // G: 4 KiB granularity
  s.limit = limit;
  s.attr = descriptor_attr(d);
  return s;
}

// The descriptor cache decides which offsets are valid and how (SDM Vol. 3
// §5.3). Real mode does no type checks; virtual-8086 segments are 64 KiB RW.
void Core::set_segment_cache(unsigned seg, const Segment& cache) {
  if (seg == CS) ++lookup_epoch;  // CS base, limit and D bit decide which block runs
  s.seg[seg] = cache;
  SegWindow& w = win[seg];
  w.base = cache.base;
  uint32_t lo = 0, hi = cache.limit;
  if (cache.expand_down() && protected_mode()) {
    lo = cache.limit + 1;
    hi = cache.big() ? 0xFFFFFFFFu : 0xFFFFu;
  }
  w.lo = lo;
  bool readable = true, writable = true;
  if (protected_mode()) {
    readable = cache.present() && cache.readable() && !cache.is_system();
    writable = cache.present() && cache.writable() && seg != CS;  // code is never writable
  }
  w.read_hi = readable ? int64_t(hi) : -1;
  w.write_hi = writable ? int64_t(hi) : -1;
}

// Real mode: base = selector * 16; limit and attributes are kept, which is
// what makes "unreal mode" work. Virtual-8086 mode forces a 64 KiB RW segment.
void Core::load_real_segment(unsigned seg, uint16_t selector) {
  Segment c = s.seg[seg];
  c.selector = selector;
  c.base = uint32_t(selector) << 4;
  if (v86()) {
    c.limit = 0xFFFF;
    c.attr = seg == CS ? 0x00FB : 0x00F3;
  } else if (seg == CS) {
    c.attr = (c.attr & ~0x401Fu) | 0x1B;  // stays a 16-bit, readable code segment
  }
  set_segment_cache(seg, c);
}

Fault Core::read_descriptor(uint16_t selector, uint64_t& desc, uint8_t fault_vector) {
  const bool ldt = selector & 4;
  uint32_t base, limit;
  if (ldt) {
    if (!s.ldtr.present() || selector_is_null(s.ldtr.selector)) return fault(fault_vector, selector & ~3u);
    base = s.ldtr.base;
    limit = s.ldtr.limit;
  } else {
    base = s.gdtr.base;
    limit = s.gdtr.limit;
  }
  const uint32_t off = selector_index_bytes(selector);
  if (off + 7 > limit) return fault(fault_vector, selector & ~3u);
  uint32_t lo, hi;
  if (auto f = read_sys(base + off, 4, lo)) return f;
  if (auto f = read_sys(base + off + 4, 4, hi)) return f;
  desc = uint64_t(hi) << 32 | lo;
  return {};
}

// The accessed bit is set in memory when a segment descriptor is loaded
// (SDM Vol. 3 §3.4.5.1, type field bit 0).
Fault Core::set_descriptor_accessed(uint16_t selector, uint64_t& desc) {
  if (desc & (uint64_t(1) << 40)) return {};
  desc |= uint64_t(1) << 40;
  const uint32_t base = (selector & 4) ? s.ldtr.base : s.gdtr.base;
  return write_sys(base + selector_index_bytes(selector) + 5, 1, uint32_t(desc >> 40) & 0xFF);
}

Fault Core::load_segment(unsigned seg, uint16_t selector) {
  if (!protected_mode() || v86()) {
    load_real_segment(seg, selector);
    return {};
  }
  const uint32_t err = selector & ~3u;
  if (selector_is_null(selector)) {
    if (seg == SS) return gp(0);  // SS may never be null at CPL < 3 in 32-bit code
    set_segment_cache(seg, unusable_segment(selector));
    return {};
  }
  uint64_t d;
  if (auto f = read_descriptor(selector, d, vec::GP)) return f;
  const unsigned dpl = descriptor_dpl(d);
  const bool code = !descriptor_is_system(d) && (descriptor_type(d) & 8);
  if (seg == SS) {
    // Writable data segment with RPL = DPL = CPL (SDM Vol. 3 §5.7).
    if (rpl(selector) != cpl() || descriptor_is_system(d) || code || !(descriptor_type(d) & 2) || dpl != cpl())
      return gp(err);
    if (!descriptor_present(d)) return fault(vec::SS, err);
  } else {
    // Data or readable code; for data and non-conforming code DPL >= max(CPL, RPL).
    if (descriptor_is_system(d) || (code && !(descriptor_type(d) & 2))) return gp(err);
    const bool conforming_code = code && (descriptor_type(d) & 4);
    if (!conforming_code && (dpl < cpl() || dpl < rpl(selector))) return gp(err);
    if (!descriptor_present(d)) return fault(vec::NP, err);
  }
  if (auto f = set_descriptor_accessed(selector, d)) return f;
  set_segment_cache(seg, segment_from_descriptor(selector, d));
  return {};
}

void Core::set_cpl(unsigned new_cpl) {
  if (new_cpl == s.cpl) return;
  const unsigned mode = v86() ? 2 : protected_mode() ? 1 : 0;
  emit(trace::EventKind::ModeChange, mode, mode, s.cpl, new_cpl);
  s.cpl = uint8_t(new_cpl);
  ++lookup_epoch;  // user/supervisor page permissions differ
}

Fault Core::load_ldtr(uint16_t selector) {
  if (selector_is_null(selector)) {
    s.ldtr = Segment{};
    s.ldtr.selector = selector;
    s.ldtr.attr = 0;
    s.ldtr.limit = 0;
    return {};
  }
  const uint32_t err = selector & ~3u;
  if (selector & 4) return gp(err);
  uint64_t d;
  if (auto f = read_descriptor(selector, d, vec::GP)) return f;
  if (!descriptor_is_system(d) || descriptor_type(d) != 2) return gp(err);
  if (!descriptor_present(d)) return fault(vec::NP, err);
  s.ldtr = segment_from_descriptor(selector, d);
  return {};
}

Fault Core::load_tr(uint16_t selector) {
  const uint32_t err = selector & ~3u;
  if (selector_is_null(selector)) return gp(0);
  if (selector & 4) return gp(err);
  uint64_t d;
  if (auto f = read_descriptor(selector, d, vec::GP)) return f;
  const unsigned type = descriptor_type(d);
  if (!descriptor_is_system(d) || (type != 1 && type != 9)) return gp(err);  // available TSS only
  if (!descriptor_present(d)) return fault(vec::NP, err);
  d |= uint64_t(2) << 40;  // mark busy in the GDT
  if (auto f = write_sys(s.gdtr.base + selector_index_bytes(selector) + 5, 1, uint32_t(d >> 40) & 0xFF)) return f;
  s.tr = segment_from_descriptor(selector, d);
  return {};
}

Fault Core::query_selector(uint16_t selector, Query q, bool& ok, uint64_t* out) {
  ok = false;
  if (selector_is_null(selector)) return {};
  uint64_t d;
  const bool ldt = selector & 4;
  const uint32_t limit = ldt ? s.ldtr.limit : s.gdtr.limit;
  if ((ldt && !s.ldtr.present()) || selector_index_bytes(selector) + 7 > limit) return {};
  if (auto f = read_descriptor(selector, d, vec::GP)) return f;
  const unsigned type = descriptor_type(d);
  const unsigned dpl = descriptor_dpl(d);
  const bool privileged_ok = dpl >= cpl() && dpl >= rpl(selector);
  if (descriptor_is_system(d)) {
    // Which system types LAR and LSL accept (SDM Vol. 2 "LAR" Table 3-53, "LSL" Table 3-63).
    bool valid = false;
    if (q == Query::AccessRights) valid = type == 1 || type == 2 || type == 3 || type == 4 || type == 5 || type == 9 || type == 11 || type == 12;
    if (q == Query::Limit) valid = type == 1 || type == 2 || type == 3 || type == 9 || type == 11;
    ok = valid && privileged_ok;
  } else {
    const bool code = type & 8;
    const bool conforming = code && (type & 4);
    switch (q) {
      case Query::Read: ok = (!code || (type & 2)) && (conforming || privileged_ok); break;
      case Query::Write: ok = !code && (type & 2) && privileged_ok; break;
      case Query::AccessRights:
      case Query::Limit: ok = conforming || privileged_ok; break;
    }
  }
  if (ok && out) *out = d;
  return {};
}

}  // namespace vs::cpu
