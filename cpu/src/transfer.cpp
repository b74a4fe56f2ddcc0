// Far control transfers: JMP/CALL far (direct, through call gates with a
// stack switch), RET far to the same or an outer level, and IRET (real mode,
// protected mode, return to virtual-8086 mode). Intel SDM Vol. 3 §5.8
// (privilege checks for control transfers), Vol. 2 "CALL", "JMP", "RET", "IRET".
// Task switches (TSS descriptors, task gates, IRET with NT) are not modelled
// yet: they stop the run with RunStop::Unsupported and an Unsupported event.
#include "core.h"

namespace vs::cpu {

namespace {
constexpr bool is_null(uint16_t sel) { return (sel & ~3u) == 0; }
constexpr unsigned rpl(uint16_t sel) { return sel & 3; }
constexpr uint32_t err(uint16_t sel) { return sel & ~3u; }
unsigned dpl_of(uint64_t d) { return (d >> 45) & 3; }
bool present(uint64_t d) { return (d >> 47) & 1; }
bool is_system(uint64_t d) { return !((d >> 44) & 1); }
unsigned type_of(uint64_t d) { return (d >> 40) & 0xF; }
bool is_code(uint64_t d) { return !is_system(d) && (type_of(d) & 8); }
bool conforming(uint64_t d) { return is_code(d) && (type_of(d) & 4); }
bool is_call_gate(uint64_t d) { return is_system(d) && (type_of(d) == 4 || type_of(d) == 12); }
bool is_task_related(uint64_t d) {
  const unsigned t = type_of(d);
  return is_system(d) && (t == 1 || t == 3 || t == 5 || t == 9 || t == 11);
}
uint32_t limit_of(uint64_t d) {
  uint32_t l = uint32_t(d & 0xFFFF) | uint32_t((d >> 32) & 0xF0000);
  return (d & (uint64_t(1) << 55)) ? (l << 12) | 0xFFF : l;
}
}  // namespace

void Core::unsupported(const char* what) {
  unsupported_what = what;
  emit(trace::EventKind::Unsupported, 0, s.eip, s.seg[CS].selector);
}

// Load CS from a checked code descriptor, keeping CPL's RPL (SDM Vol. 3 §5.8.1).
static void load_code_segment(Core& c, uint16_t sel, uint64_t d, unsigned new_cpl) {
  Segment cs = segment_from_descriptor(uint16_t((sel & ~3u) | new_cpl), d);
  c.set_segment_cache(CS, cs);
  c.set_cpl(new_cpl);
}

// Validate a code segment as the destination of a direct far JMP/CALL.
static Fault check_direct_code(Core& c, uint16_t sel, uint64_t d) {
  if (!is_code(d)) return gp(err(sel));
  if (conforming(d) ? dpl_of(d) > c.cpl() : (rpl(sel) > c.cpl() || dpl_of(d) != c.cpl())) return gp(err(sel));
  if (!present(d)) return fault(vec::NP, err(sel));
  return {};
}

// The descriptor a protected-mode far JMP or CALL names. Task switches are
// not modelled: they stop the run as Unsupported (`what` names the attempt).
static Fault far_target(Core& c, uint16_t sel, uint64_t& d, const char* what) {
  if (is_null(sel)) return gp(0);
  if (auto f = c.read_descriptor(sel, d, vec::GP)) return f;
  if (is_task_related(d)) {
    c.unsupported(what);
    return fault(Fault::kUnsupported);
  }
  return {};
}

Fault Core::far_jump(uint16_t sel, uint32_t off, unsigned width) {
  if (width == 16) off &= 0xFFFF;
  if (!protected_mode() || v86()) {
    if (off > s.seg[CS].limit) return gp(0);
    load_real_segment(CS, sel);
    s.eip = off;
    return {};
  }
  uint64_t d;
  if (auto f = far_target(*this, sel, d, "task switch (JMP to a TSS or task gate)")) return f;
  if (is_call_gate(d)) {
    if (dpl_of(d) < cpl() || dpl_of(d) < rpl(sel)) return gp(err(sel));
    if (!present(d)) return fault(vec::NP, err(sel));
    const uint16_t target = uint16_t(d >> 16);
    off = uint32_t(d & 0xFFFF) | (type_of(d) == 12 ? uint32_t(d >> 32) & 0xFFFF0000u : 0);
    if (is_null(target)) return gp(0);
    uint64_t td;
    if (auto f = read_descriptor(target, td, vec::GP)) return f;
    if (!is_code(td) || (conforming(td) ? dpl_of(td) > cpl() : dpl_of(td) != cpl())) return gp(err(target));
    if (!present(td)) return fault(vec::NP, err(target));
    if (off > limit_of(td)) return gp(0);
    load_code_segment(*this, target, td, cpl());
    s.eip = off;
    return {};
  }
  if (auto f = check_direct_code(*this, sel, d)) return f;
  if (off > limit_of(d)) return gp(0);
  if (auto f = set_descriptor_accessed(sel, d)) return f;
  load_code_segment(*this, sel, d, cpl());
  s.eip = off;
  return {};
}

// Read the privilege-level stack pointer for `level` from the current TSS
// (SDM Vol. 3 §7.2.1 Figure 7-2; 16-bit TSS Figure 7-11).
Fault Core::tss_stack(unsigned level, uint16_t& ss, uint32_t& esp, uint32_t ext) {
  const bool tss32 = s.tr.type() == 9 || s.tr.type() == 11;
  const uint32_t field = tss32 ? 4 : 2;  // bytes of the stack-pointer field
  const uint32_t at = tss32 ? 4 + level * 8 : 2 + level * 4;
  if (at + 2 * field - 1 > s.tr.limit) return fault(vec::TS, err(s.tr.selector) + ext);
  uint32_t v, sel;
  if (auto f = read_sys(s.tr.base + at, field, v)) return f;
  if (auto f = read_sys(s.tr.base + at + field, 2, sel)) return f;
  ss = uint16_t(sel);
  esp = v;
  return {};
}

// Check a stack segment for use at privilege `level`: #TS on a bad selector
// or descriptor, #SS if it is not present (SDM Vol. 3 §6.12.1.1).
Fault Core::check_new_stack(uint16_t ss, unsigned level, uint64_t& d, uint32_t ext) {
  if (is_null(ss)) return fault(vec::TS, ext);
  if (rpl(ss) != level) return fault(vec::TS, err(ss) + ext);
  if (auto f = read_descriptor(ss, d, vec::TS)) return f.vector == vec::TS ? fault(vec::TS, err(ss) + ext) : f;
  if (is_system(d) || is_code(d) || !(type_of(d) & 2) || dpl_of(d) != level) return fault(vec::TS, err(ss) + ext);
  if (!present(d)) return fault(vec::SS, err(ss) + ext);
  return {};
}

// Whether [off, off+size) lies inside a stack segment (expand-up or -down).
static bool stack_offset_ok(const Segment& seg, uint32_t off, uint32_t size) {
  if (seg.expand_down())
    return off > seg.limit && uint64_t(off) + size - 1 <= (seg.big() ? 0xFFFFFFFFull : 0xFFFFull);
  return uint64_t(off) + size - 1 <= seg.limit;
}

Fault Core::push_frame(const Segment& seg, StackKind kind, uint32_t top, unsigned width, const uint32_t* values,
                       unsigned n, uint32_t& new_top, uint32_t ext, unsigned level) {
  const uint32_t size = width / 8;
  const uint32_t m = seg.big() ? 0xFFFFFFFFu : 0xFFFFu;
  uint32_t sp = top & m;
  for (unsigned i = 0; i < n; ++i) {
    sp = (sp - size) & m;
    if (kind == StackKind::Current) {
      if (auto f = check_segment(SS, sp, size, true)) return fault(f.vector, f.error_code | ext);
    } else if (!stack_offset_ok(seg, sp, size)) {
      return fault(vec::SS, err(seg.selector) + ext);
    }
  }
  sp = top & m;
  for (unsigned i = 0; i < n; ++i) {
    sp = (sp - size) & m;
    if (auto f = write_lin_slow(seg.base + sp, size, values[i], level == 3)) return f;
  }
  new_top = sp;
  return {};
}

// EIP already points past the CALL (the return address).
Fault Core::far_call(uint16_t sel, uint32_t off, unsigned width) {
  const uint32_t ret_eip = s.eip;
  if (width == 16) off &= 0xFFFF;
  if (!protected_mode() || v86()) {
    if (off > s.seg[CS].limit) return gp(0);
    const uint32_t frame[2] = {s.seg[CS].selector, width == 16 ? ret_eip & 0xFFFF : ret_eip};
    uint32_t new_sp;
    if (auto f = push_frame(s.seg[SS], StackKind::Current, sp(), width, frame, 2, new_sp, 0, cpl())) return f;
    set_sp(new_sp);
    load_real_segment(CS, sel);
    s.eip = off;
    return {};
  }
  uint64_t d;
  if (auto f = far_target(*this, sel, d, "task switch (CALL to a TSS or task gate)")) return f;
  if (!is_call_gate(d)) {
    if (auto f = check_direct_code(*this, sel, d)) return f;
    if (off > limit_of(d)) return gp(0);
    const uint32_t frame[2] = {s.seg[CS].selector, ret_eip};
    uint32_t new_sp;
    if (auto f = push_frame(s.seg[SS], StackKind::Current, sp(), width, frame, 2, new_sp, 0, cpl())) return f;
    if (auto f = set_descriptor_accessed(sel, d)) return f;
    set_sp(new_sp);
    load_code_segment(*this, sel, d, cpl());
    s.eip = off;
    return {};
  }
  // Through a call gate (SDM Vol. 3 §5.8.4-5.8.5).
  if (dpl_of(d) < cpl() || dpl_of(d) < rpl(sel)) return gp(err(sel));
  if (!present(d)) return fault(vec::NP, err(sel));
  const unsigned gate_width = type_of(d) == 12 ? 32 : 16;
  const uint16_t target = uint16_t(d >> 16);
  const unsigned params = unsigned(d >> 32) & 0x1F;
  off = uint32_t(d & 0xFFFF) | (gate_width == 32 ? uint32_t(d >> 32) & 0xFFFF0000u : 0);
  if (is_null(target)) return gp(0);
  uint64_t td;
  if (auto f = read_descriptor(target, td, vec::GP)) return f;
  if (!is_code(td) || dpl_of(td) > cpl()) return gp(err(target));
  if (!present(td)) return fault(vec::NP, err(target));
  if (off > limit_of(td)) return gp(0);
  const unsigned new_cpl = dpl_of(td);
  if (!conforming(td) && new_cpl < cpl()) {
    // More privileged: switch to the inner stack from the TSS and copy parameters.
    uint16_t new_ss;
    uint32_t new_esp;
    if (auto f = tss_stack(new_cpl, new_ss, new_esp, 0)) return f;
    uint64_t ssd;
    if (auto f = check_new_stack(new_ss, new_cpl, ssd, 0)) return f;
    const Segment ss_cache = segment_from_descriptor(new_ss, ssd);
    std::vector<uint32_t> frame = {s.seg[SS].selector, s.gpr[ESP] & (gate_width == 16 ? 0xFFFFu : 0xFFFFFFFFu)};
    for (unsigned i = 0; i < params; ++i) {  // copied from the caller's stack, highest first
      uint32_t v;
      if (auto f = read_lin_slow(win[SS].base + ((sp() + (params - 1 - i) * (gate_width / 8)) & sp_mask()), gate_width / 8, v, user_access())) return f;
      frame.push_back(v);
    }
    frame.push_back(s.seg[CS].selector);
    frame.push_back(ret_eip);
    uint32_t top;
    if (auto f = push_frame(ss_cache, StackKind::New, new_esp, gate_width, frame.data(), unsigned(frame.size()), top,
                            0, new_cpl))
      return f;
    set_segment_cache(SS, ss_cache);
    set_sp(top);
    load_code_segment(*this, target, td, new_cpl);
  } else {
    const uint32_t frame[2] = {s.seg[CS].selector, ret_eip};
    uint32_t new_sp;
    if (auto f = push_frame(s.seg[SS], StackKind::Current, sp(), gate_width, frame, 2, new_sp, 0, cpl())) return f;
    set_sp(new_sp);
    load_code_segment(*this, target, td, cpl());
  }
  s.eip = off;
  return {};
}

// After a return to an outer level, data segments the new CPL may not use
// are nulled (SDM Vol. 2 "RET", "IRET": "FOR each of segment register ES, FS, GS, DS").
static void null_inaccessible_segments(Core& c) {
  for (unsigned seg : {ES, DS, FS, GS}) {
    const Segment& sc = c.s.seg[seg];
    const bool data_or_nonconf = !sc.is_code() || !(sc.type() & 4);
    if (sc.present() && data_or_nonconf && sc.dpl() < c.cpl()) {
      c.set_segment_cache(seg, Core::unusable_segment(0));
    }
  }
}

// Check the CS a RET/IRET returns to (SDM Vol. 2 "RET" protected-mode checks).
static Fault check_return_code(Core& c, uint16_t sel, uint64_t& d) {
  if (is_null(sel)) return gp(0);
  if (auto f = c.read_descriptor(sel, d, vec::GP)) return f;
  if (rpl(sel) < c.cpl() || !is_code(d)) return gp(err(sel));
  if (conforming(d) ? dpl_of(d) > rpl(sel) : dpl_of(d) != rpl(sel)) return gp(err(sel));
  if (!present(d)) return fault(vec::NP, err(sel));
  return {};
}

// Pop the outer-level SS:ESP a return to a less privileged level restores.
static Fault load_outer_stack(Core& c, uint32_t at, unsigned width, unsigned level, uint32_t release) {
  uint32_t esp, ss;
  const uint32_t size = width / 8;
  if (auto f = width == 32 ? c.read<32>(SS, at, esp) : c.read<16>(SS, at, esp)) return f;
  if (auto f = c.read<16>(SS, (at + size) & c.sp_mask(), ss)) return f;
  const uint16_t new_ss = uint16_t(ss);
  if (is_null(new_ss)) return gp(0);
  if (rpl(new_ss) != level) return gp(err(new_ss));
  uint64_t d;
  if (auto f = c.read_descriptor(new_ss, d, vec::GP)) return f;
  if (is_system(d) || is_code(d) || !(type_of(d) & 2) || dpl_of(d) != level) return gp(err(new_ss));
  if (!present(d)) return fault(vec::SS, err(new_ss));
  const Segment cache = segment_from_descriptor(new_ss, d);
  c.set_segment_cache(SS, cache);
  esp += release;
  if (width == 16 || !cache.big()) c.s.gpr[ESP] = (c.s.gpr[ESP] & 0xFFFF0000u) | (esp & 0xFFFF);
  else c.s.gpr[ESP] = esp;
  return {};
}

Fault Core::far_return(unsigned width, uint32_t release) {
  const uint32_t size = width / 8, m = sp_mask();
  uint32_t eip, cs;
  if (auto f = (width == 32 ? read<32>(SS, sp(), eip) : read<16>(SS, sp(), eip))) return f;
  if (auto f = read<16>(SS, (sp() + size) & m, cs)) return f;
  const uint16_t sel = uint16_t(cs);
  if (!protected_mode() || v86()) {
    if (eip > s.seg[CS].limit) return gp(0);
    load_real_segment(CS, sel);
    s.eip = eip;
    set_sp(sp() + 2 * size + release);
    return {};
  }
  uint64_t d;
  if (auto f = check_return_code(*this, sel, d)) return f;
  if (eip > limit_of(d)) return gp(0);
  const unsigned new_cpl = rpl(sel);
  if (new_cpl == cpl()) {
    load_code_segment(*this, sel, d, new_cpl);
    s.eip = eip;
    set_sp(sp() + 2 * size + release);
    return {};
  }
  // Return to an outer level: SS:ESP follow the released parameters.
  const uint32_t at = (sp() + 2 * size + release) & m;
  const CpuState saved = s;
  const SegWindow saved_ss = win[SS];
  if (auto f = load_outer_stack(*this, at, width, new_cpl, release)) {
    s = saved;
    win[SS] = saved_ss;
    return f;
  }
  load_code_segment(*this, sel, d, new_cpl);
  s.eip = eip;
  null_inaccessible_segments(*this);
  return {};
}

Fault Core::interrupt_return(unsigned width) {
  const uint32_t size = width / 8, m = sp_mask();
  uint32_t eip, cs, fl;
  auto pop_at = [&](uint32_t at, uint32_t& v) { return width == 32 ? read<32>(SS, at & m, v) : read<16>(SS, at & m, v); };
  if (auto f = pop_at(sp(), eip)) return f;
  if (auto f = pop_at(sp() + size, cs)) return f;
  if (auto f = pop_at(sp() + 2 * size, fl)) return f;
  const uint16_t sel = uint16_t(cs);

  if (!protected_mode()) {
    // Real mode (SDM Vol. 2 "IRET" real-address-mode operation).
    if (width == 16) eip &= 0xFFFF;
    if (eip > s.seg[CS].limit) return gp(0);
    load_real_segment(CS, sel);
    s.eip = eip;
    set_sp(sp() + 3 * size);
    const uint32_t changeable = width == 32 ? 0x257FD5u : 0x7FD5u;
    write_eflags(fl, changeable);
    return {};
  }
  if (v86()) {
    if (iopl() < 3) return gp(0);  // without VME, IRET in V86 mode needs IOPL 3
    if (width == 16) eip &= 0xFFFF;
    if (eip > s.seg[CS].limit) return gp(0);
    load_real_segment(CS, sel);
    s.eip = eip;
    set_sp(sp() + 3 * size);
    // IOPL and VM are not changed by IRET in V86 mode.
    write_eflags(fl, (width == 32 ? 0x257FD5u : 0x7FD5u) & ~flag::IOPL);
    return {};
  }
  if (s.eflags & flag::NT) {
    unsupported("task switch (IRET with EFLAGS.NT set)");
    return fault(Fault::kUnsupported);
  }
  if (width == 32 && (fl & flag::VM) && cpl() == 0) {
    // Return to virtual-8086 mode (SDM Vol. 2 "IRET", RETURN-TO-VIRTUAL-8086-MODE).
    uint32_t v[6];
    for (unsigned i = 0; i < 6; ++i)
      if (auto f = read<32>(SS, (sp() + (3 + i) * 4) & m, v[i])) return f;
    materialize_flags();
    s.eflags = (fl & 0x003F7FD7u) | flag::kFixed1 | flag::VM;  // all bits, VM set
    set_cpl(3);
    for (unsigned seg = 0; seg < kSegCount; ++seg) set_segment_cache(seg, s.seg[seg]);
    load_real_segment(CS, sel);
    s.eip = eip & 0xFFFF;
    s.gpr[ESP] = v[0];
    load_real_segment(SS, uint16_t(v[1]));
    load_real_segment(ES, uint16_t(v[2]));
    load_real_segment(DS, uint16_t(v[3]));
    load_real_segment(FS, uint16_t(v[4]));
    load_real_segment(GS, uint16_t(v[5]));
    return {};
  }
  uint64_t d;
  if (auto f = check_return_code(*this, sel, d)) return f;
  if (eip > limit_of(d)) return gp(0);
  const unsigned old_cpl = cpl(), new_cpl = rpl(sel);
  // EFLAGS rules use the CPL the IRET executes at (SDM Vol. 2 "IRET").
  uint32_t changeable = flag::kArith | flag::TF | flag::DF | flag::NT | flag::RF | flag::AC | flag::ID;
  if (old_cpl <= iopl()) changeable |= flag::IF;
  if (old_cpl == 0) changeable |= flag::IOPL | flag::VIF | flag::VIP;
  if (width == 16) changeable &= 0xFFFF;
  if (new_cpl == old_cpl) {
    load_code_segment(*this, sel, d, new_cpl);
    s.eip = eip;
    set_sp(sp() + 3 * size);
    write_eflags(fl, changeable);
    return {};
  }
  const uint32_t at = (sp() + 3 * size) & m;
  const CpuState saved = s;
  const SegWindow saved_ss = win[SS];
  if (auto f = load_outer_stack(*this, at, width, new_cpl, 0)) {
    s = saved;
    win[SS] = saved_ss;
    return f;
  }
  write_eflags(fl, changeable);
  load_code_segment(*this, sel, d, new_cpl);
  s.eip = eip;
  null_inaccessible_segments(*this);
  return {};
}

}  // namespace vs::cpu
