// libFuzzer target: arbitrary bytes executed from an arbitrary CPU state.
// The first bytes of the input choose the mode, privilege level, registers,
// flags and descriptor tables; the rest is code and data. Whatever the guest
// does, the host process must not crash, leak or hit undefined behaviour
// (built with ASan + UBSan; see docs/conformance.md for how it was run).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "virtscope/cpu/cpu.h"
#include "virtscope/trace/event.h"

namespace {

using namespace vs::cpu;

struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t u8() { return n ? (--n, *p++) : 0; }
  uint16_t u16() { return uint16_t(u8() | u8() << 8); }
  uint32_t u32() { return uint32_t(u16() | uint32_t(u16()) << 16); }
};

// Ports read as their own number; writes are dropped.
class EchoIo final : public IoBus {
 public:
  uint32_t in(uint16_t port, unsigned) override { return port; }
  void out(uint16_t, unsigned, uint32_t) override {}
};

// Paging with arbitrary answers, so translation faults and odd mappings are exercised.
class ChaosTranslator final : public Translator {
 public:
  uint32_t salt = 0;
  Translation translate(uint32_t lin, Access, bool user, uint32_t, uint32_t, uint32_t) override {
    Translation t;
    const uint32_t h = (lin >> 12) * 2654435761u ^ salt;
    t.fault = (h & 0xF) == 0;
    t.error_code = (user ? 4 : 0) | (h >> 4 & 3);
    t.phys = (lin & 0xFFF) | ((h >> 8) & 0xFF) << 12;  // somewhere in the first 1 MiB
    t.cacheable = (h & 0x30) != 0;
    return t;
  }
};

struct Machine {
  FlatMemory ram{1u << 20};
  EchoIo io;
  vs::trace::EventLog log{256};
  ChaosTranslator paging;
  Cpu cpu{ram, io, log};
  Machine() {
    cpu.set_translator(&paging);
    log.record(vs::trace::KindSet::all());  // exercise every emit path
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Machine m;
  Input in{data, size};
  std::memset(m.ram.data(), 0, m.ram.size());
  m.log.clear();

  CpuState s{};
  const uint8_t mode = in.u8();
  const bool pm = mode & 1;
  const unsigned cpl = pm ? (mode >> 1) & 3 : 0;
  const bool big = mode & 8;
  const bool vm86 = pm && (mode & 0x10);
  for (uint32_t& r : s.gpr) r = in.u32();
  s.eflags = in.u32() & ~(vm86 ? 0u : uint32_t(flag::VM));
  if (vm86) s.eflags |= flag::VM;
  s.cr0 = pm ? (cr0::PE | (in.u8() & 1 ? uint32_t(cr0::PG) : 0u) | cr0::ET) : cr0::ET;
  s.cr4 = in.u8() & (cr4::TSD | cr4::DE | cr4::PSE | cr4::PGE | cr4::PCE);
  m.paging.salt = in.u32();
  s.gdtr = {in.u32() & 0xFFFFF, in.u16()};
  s.idtr = {in.u32() & 0xFFFFF, in.u16()};
  s.tr = Segment{uint16_t(in.u16()), in.u32() & 0xFFFFF, in.u16(), uint16_t(0x80 | (in.u8() & 0x0F))};
  s.ldtr = Segment{uint16_t(in.u16()), in.u32() & 0xFFFFF, in.u16(), 0x82};
  for (unsigned i = 0; i < kSegCount; ++i) {
    Segment& seg = s.seg[i];
    seg.selector = in.u16();
    seg.base = pm && !vm86 ? in.u32() & 0xFFFFF : uint32_t(seg.selector) << 4;
    seg.limit = in.u8() & 1 ? 0xFFFFFFFF : in.u16();
    seg.attr = uint16_t((in.u16() & 0xF0FF) | (big ? 0x4000 : 0));
  }
  if (pm && !vm86) s.seg[CS].attr = uint16_t((s.seg[CS].attr & ~0x1Fu & ~0x60u) | 0x1A | 0x80 | cpl << 5);
  s.seg[CS].selector = uint16_t((s.seg[CS].selector & ~3u) | cpl);
  s.cpl = uint8_t(vm86 ? 3 : cpl);
  s.eip = in.u16();
  // The rest of the input is memory: at CS:EIP first, then the descriptor tables.
  const uint32_t code = (s.seg[CS].base + s.eip) & 0xFFFFF;
  size_t k = 0;
  for (; in.n && k < 4096; ++k) m.ram.data()[(code + k) & 0xFFFFF] = in.u8();
  for (size_t t = 0; in.n && t < 2048; ++t) m.ram.data()[(s.gdtr.base + t) & 0xFFFFF] = in.u8();
  for (size_t t = 0; in.n && t < 2048; ++t) m.ram.data()[(s.idtr.base + t) & 0xFFFFF] = in.u8();

  m.cpu.set_state(s);
  for (int i = 0; i < 8; ++i) {
    const RunStop r = m.cpu.run(256);
    if (r != RunStop::Budget) {
      m.cpu.set_irq(false);
      break;
    }
  }
  (void)m.cpu.state();
  return 0;
}
