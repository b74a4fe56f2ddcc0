// Binary translation (the bt mode; VMware's approach, Adams & Agesen 2006,
// ../shared/SEMANTICS.md §7): the guest kernel's code is scanned before it
// runs, and every instruction that would misbehave or trap at ring 1 is
// replaced by a call-out to the VMM, here a one-byte INT3 whose handler is
// the VMM. The rest of the code runs as it is. User code is never touched.
//
// Simplifications, said plainly: the translation is done in place (the
// guest reading its own code sees the INT3s, where VMware keeps a separate
// translation cache), once, over the kernel's code sections at boot
// (VMware translates basic blocks on demand), by a linear sweep of the
// instructions. Pages holding translations are write-protected in the shadow
// page tables; a guest write there drops that page's translations.
#include <cstring>
#include <span>

#include "trap_monitor.h"
#include "virtscope/cpu/opcode_table.h"
#include "virtscope/mmu/paging.h"
#include "virtscope/trace/event.h"

namespace vs::vmm {

using cpu::CpuState;

namespace {

constexpr uint8_t kInt3 = 0xCC;

template <class T>
T read_le(const std::vector<uint8_t>& b, size_t at) {
  T v{};
  if (at + sizeof v <= b.size()) std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

// The instructions translated: those a deprivileged kernel cannot run as
// they are. Privileged and IOPL-sensitive ones would trap anyway (a call-out
// is cheaper than a trap); of the sensitive-unprivileged ones, those whose
// result at ring 1 differs in a way a kernel depends on (SEMANTICS.md §6).
bool needs_callout(const cpu::InstructionInfo& info, const uint8_t* b) {
  using cpu::Mnemonic;
  const cpu::OpcodeInfo& row = *info.row;
  if (row.privilege == cpu::Privilege::Privileged || row.privilege == cpu::Privilege::Iopl) return true;
  if (row.privilege != cpu::Privilege::Sensitive) return false;
  switch (row.opcode) {
    case 0x9C: case 0x9D: case 0xCF:  // PUSHF, POPF, IRET
    case 0x0E: case 0x17:             // PUSH CS, POP SS
      return true;
    case 0x8E: return ((b[1] >> 3) & 7) == cpu::SS;  // MOV SS
    case 0x100: case 0x101:           // SLDT/STR, SGDT/SIDT/SMSW
      return true;
    default: return false;
  }
}

}  // namespace

// The sweep covers the kernel's code sections (SHF_EXECINSTR) only: an
// executable segment also holds read-only data (strings, tables), whose
// bytes would decode as instructions (an 'o' is OUTSD) and must not be
// touched.
void TrapMonitor::translate_kernel(const std::vector<uint8_t>& elf) {
  const uint32_t shoff = read_le<uint32_t>(elf, 32);
  const uint16_t shentsize = read_le<uint16_t>(elf, 46), shnum = read_le<uint16_t>(elf, 48);
  uint8_t* ram = host_.memory.ram() + host_.guest_base();
  for (unsigned i = 0; i < shnum; ++i) {
    const size_t sh = shoff + size_t(i) * shentsize;
    // SHT_PROGBITS (1) with SHF_ALLOC (2) and SHF_EXECINSTR (4): code the
    // loader placed at sh_addr (the kernel runs where it is loaded).
    if (read_le<uint32_t>(elf, sh + 4) != 1 || (read_le<uint32_t>(elf, sh + 8) & 6) != 6) continue;
    const uint32_t first = read_le<uint32_t>(elf, sh + 12), size = read_le<uint32_t>(elf, sh + 20);
    if (first >= guest_.size() || size > guest_.size() - first) continue;
    for (uint32_t at = first; at < first + size;) {
      const uint32_t left = first + size - at;
      const auto info = cpu::describe_instruction(std::span<const uint8_t>(ram + at, std::min<uint32_t>(left, 15)), true);
      if (!info || !info->row || info->length == 0) {
        ++at;  // padding: step over it
        continue;
      }
      ++stats_.translated;
      if (needs_callout(*info, ram + at) && info->length <= 15) {
        Site site{};
        std::memcpy(site.bytes, ram + at, info->length);
        site.length = uint8_t(info->length);
        sites_[at] = site;
        ++translated_pages_[at & ~0xFFFu];
        ram[at] = kInt3;
        ++stats_.translation_sites;
      }
      at += info->length;
    }
  }
}

// A guest write to a page holding translations: put the original code back
// and forget them; the page is then ordinary writable memory.
void TrapMonitor::drop_translations(uint32_t page) {
  uint8_t* ram = host_.memory.ram() + host_.guest_base();
  for (auto it = sites_.lower_bound(page); it != sites_.end() && it->first < page + 0x1000;) {
    std::memcpy(ram + it->first, it->second.bytes, it->second.length);
    host_.cpu.invalidate_code(host_.guest_base() + it->first, it->second.length);
    it = sites_.erase(it);
  }
  translated_pages_.erase(page);
  ++stats_.retranslations;
}

// INT3 at a call-out site: emulate the original instruction on the virtual
// CPU. False when EIP - 1 is no site (the guest's own INT3).
bool TrapMonitor::callout(CpuState& s) {
  const uint32_t at = s.seg[cpu::CS].base + s.eip - 1;
  const auto it = sites_.find(at);
  if (it == sites_.end() || s.cpl != 1) return false;
  s.eip -= 1;
  Decoded d;
  std::memcpy(d.bytes, it->second.bytes, it->second.length);
  d.available = it->second.length;
  if (!parse(s, d)) return false;
  ++stats_.callouts;
  bool handled = false;
  if (!emulate_sensitive(s, d, handled)) return false;
  if (!handled && !emulate(s, d)) return false;
  host_.cpu.resume_with(s);
  update_intr();
  return true;
}

// The sensitive-unprivileged instructions, with the guest's (ring 0) view.
bool TrapMonitor::emulate_sensitive(CpuState& s, const Decoded& d, bool& handled) {
  handled = true;
  const uint32_t at = s.eip;
  uint32_t& esp = s.gpr[cpu::ESP];
  const uint32_t ss = s.seg[cpu::SS].base;
  auto push = [&](uint32_t v) {
    esp -= 4;
    return linear_.write(ss + esp, &v, 4, vcpu_.paging);
  };
  auto pop = [&](uint32_t& v) {
    if (!linear_.read(ss + esp, &v, 4, vcpu_.paging)) return false;
    esp += 4;
    return true;
  };
  // The flags the guest may change at ring 0 besides IF and IOPL, which stay
  // the VMM's in the real EFLAGS.
  constexpr uint32_t kGuestFlags = cpu::flag::kArith | cpu::flag::TF | cpu::flag::DF | cpu::flag::NT |
                                   cpu::flag::AC | cpu::flag::ID;
  if (d.operand16 && (d.opcode == 0x9C || d.opcode == 0x9D || d.opcode == 0xCF)) return false;
  switch (d.opcode) {
    case 0x9C:  // PUSHF: the virtual IF, IOPL 0
      exit(ExitReason::Pushf, 0, s);
      if (!push((s.eflags & ~(cpu::flag::IF | cpu::flag::IOPL)) | (vcpu_.interrupts_enabled ? cpu::flag::IF : 0)))
        return false;
      break;
    case 0x9D: {  // POPF: IF goes to the virtual CPU
      exit(ExitReason::Popf, 0, s);
      uint32_t v;
      if (!pop(v)) return false;
      s.eflags = (s.eflags & ~kGuestFlags) | (v & kGuestFlags);
      vcpu_.interrupts_enabled = v & cpu::flag::IF;
      break;
    }
    case 0xCF: {  // IRET, as ring 0 would do it (SDM Vol. 2 "IRET"), no task switch
      exit(ExitReason::Iret, 0, s);
      uint32_t eip, cs, flags;
      if (!pop(eip) || !pop(cs) || !pop(flags)) return false;
      cpu::Segment code;
      const bool to_user = (cs & 3) == 3;
      if (!real_segment(uint16_t(to_user ? cs : (cs | 1)), code)) return false;
      if (to_user) {
        uint32_t user_esp, user_ss;
        if (!pop(user_esp) || !pop(user_ss)) return false;
        cpu::Segment stack;
        if (!real_segment(uint16_t(user_ss), stack)) return false;
        code.selector = uint16_t(cs);
        stack.selector = uint16_t(user_ss);
        s.seg[cpu::SS] = stack;
        s.gpr[cpu::ESP] = user_esp;
        s.cpl = 3;
      } else {
        s.cpl = 1;
      }
      s.seg[cpu::CS] = code;
      s.eflags = (s.eflags & ~kGuestFlags) | (flags & kGuestFlags) | cpu::flag::IF;
      vcpu_.interrupts_enabled = flags & cpu::flag::IF;
      s.eip = eip;
      return true;  // EIP is the return address, not past the IRET
    }
    case 0x0E:  // PUSH CS: the guest's RPL 0
      exit(ExitReason::SensitiveRead, 0, s);
      if (!push(s.seg[cpu::CS].selector & ~3u)) return false;
      break;
    case 0x0F:
      if (d.opcode2 == 0x01 && (d.reg == 0 || d.reg == 1) && d.mod != 3) {  // SGDT, SIDT
        exit(ExitReason::SensitiveRead, d.reg, s);
        const cpu::TableReg& t = d.reg == 0 ? vcpu_.gdtr : vcpu_.idtr;
        uint8_t raw[6];
        std::memcpy(raw, &t.limit, 2);
        std::memcpy(raw + 2, &t.base, 4);
        if (!linear_.write(d.ea, raw, 6, vcpu_.paging)) return false;
        break;
      }
      if (d.opcode2 == 0x01 && d.reg == 4) {  // SMSW
        exit(ExitReason::SensitiveRead, 4, s);
        const uint16_t msw = uint16_t(vcpu_.paging.cr0);
        if (d.mod == 3) s.gpr[d.rm] = (s.gpr[d.rm] & 0xFFFF0000u) | msw;
        else if (!linear_.write(d.ea, &msw, 2, vcpu_.paging)) return false;
        break;
      }
      if (d.opcode2 == 0x00 && (d.reg == 0 || d.reg == 1)) {  // SLDT, STR
        exit(ExitReason::SensitiveRead, d.reg, s);
        const uint16_t v = d.reg == 1 ? vcpu_.tr : 0;
        if (d.mod == 3) s.gpr[d.rm] = v;
        else if (!linear_.write(d.ea, &v, 2, vcpu_.paging)) return false;
        break;
      }
      handled = false;
      return true;
    default:
      handled = false;
      return true;
  }
  s.eip = at + d.length;
  return true;
}

}  // namespace vs::vmm
