// The device framework: port and memory maps, the scheduler, snapshot state.
#include <gtest/gtest.h>

#include <vector>

#include "virtscope/devices/bus.h"
#include "virtscope/devices/scheduler.h"

namespace vs::devices {
namespace {

// A device that remembers accesses and counts reads (a read side effect).
class Probe final : public Device {
 public:
  Probe() : Device("probe") {}
  uint32_t read(uint32_t addr, unsigned) override {
    ++reads;
    return addr ^ value;
  }
  void write(uint32_t addr, unsigned size, uint32_t v) override {
    last_addr = addr;
    last_size = size;
    value = v;
  }
  uint32_t peek(uint32_t addr, unsigned) const override { return addr ^ value; }
  void reset() override { value = 0; }
  void save(StateWriter& out) const override { out.u32(value); }
  void load(StateReader& in) override { value = in.u32(); }
  uint32_t value = 0, last_addr = 0, reads = 0;
  unsigned last_size = 0;
};

TEST(PortBus, MappedRangeReachesDeviceWithAbsolutePort) {
  PortBus bus;
  Probe p;
  ASSERT_TRUE(bus.map(0x60, 0x64, p));
  bus.out(0x64, 1, 0x1AB);  // masked to the access size
  EXPECT_EQ(p.last_addr, 0x64u);
  EXPECT_EQ(p.value, 0xABu);
  EXPECT_EQ(bus.in(0x60, 1), (0x60u ^ 0xABu) & 0xFF);
  EXPECT_EQ(bus.device_at(0x62), &p);
}

TEST(PortBus, UnmappedPortsFloatHighAndOverlapsAreRefused) {
  PortBus bus;
  Probe a, b;
  EXPECT_EQ(bus.in(0x3F8, 1), 0xFFu);
  EXPECT_EQ(bus.in(0x3F8, 2), 0xFFFFu);
  EXPECT_EQ(bus.in(0x3F8, 4), 0xFFFFFFFFu);
  ASSERT_TRUE(bus.map(0x20, 0x21, a));
  EXPECT_FALSE(bus.map(0x21, 0x22, b));
  EXPECT_EQ(bus.device_at(0x22), nullptr);
  ASSERT_EQ(bus.mappings().size(), 1u);
  EXPECT_EQ(bus.mappings()[0].what, "probe");
}

TEST(PortBus, PeekHasNoSideEffect) {
  PortBus bus;
  Probe p;
  bus.map(0x70, 0x71, p);
  bus.out(0x70, 1, 5);
  EXPECT_EQ(bus.peek(0x71, 1), (0x71u ^ 5u));
  EXPECT_EQ(p.reads, 0u);
  bus.in(0x71, 1);
  EXPECT_EQ(p.reads, 1u);
}

TEST(PhysicalMemory, RamRomAndMmioOverlays) {
  PhysicalMemory mem(1 << 20);
  std::vector<uint8_t> rom(0x1800, 0x5A);
  ASSERT_TRUE(mem.map_rom(0xF0000, rom, "bios"));
  Probe vga;
  ASSERT_TRUE(mem.map_mmio(0xB8000, 0x8000, vga));
  EXPECT_FALSE(mem.map_mmio(0xBF000, 0x2000, vga));  // overlaps the first window

  // RAM: host pages for read and write.
  ASSERT_NE(mem.host_page(0x1234, true), nullptr);
  mem.write(0x1000, 4, 0x11223344);
  EXPECT_EQ(mem.read(0x1002, 2), 0x1122u);
  // ROM: readable through a host page, never writable; writes are dropped.
  ASSERT_NE(mem.host_page(0xF0000, false), nullptr);
  EXPECT_EQ(mem.host_page(0xF0000, true), nullptr);
  mem.write(0xF0010, 1, 0x00);
  EXPECT_EQ(mem.read(0xF0010, 1), 0x5Au);
  EXPECT_EQ(mem.read(0xF1FFF, 1), 0xFFu);  // padding of the last page
  // MMIO: no host page, the exact address reaches the device.
  EXPECT_EQ(mem.host_page(0xB8000, false), nullptr);
  mem.write(0xB8002, 2, 0x0741);
  EXPECT_EQ(vga.last_addr, 0xB8002u);
  EXPECT_EQ(vga.last_size, 2u);
  // Beyond RAM: open bus.
  EXPECT_EQ(mem.read(0x200000, 4), 0xFFFFFFFFu);
}

TEST(PhysicalMemory, OverlaysAboveOneMegabyteHideTheRamBehindThem) {
  PhysicalMemory mem(4 << 20);
  Probe apic;
  ASSERT_TRUE(mem.map_mmio(0x200000, 0x1000, apic));
  EXPECT_EQ(mem.host_page(0x1FF000, true), mem.ram() + 0x1FF000);
  EXPECT_EQ(mem.host_page(0x200800, false), nullptr);
  EXPECT_EQ(mem.host_page(0x201000, true), mem.ram() + 0x201000);
  mem.write(0x200010, 4, 7);
  EXPECT_EQ(apic.last_addr, 0x200010u);
}

TEST(PhysicalMemory, LoaderRefusesRangesThatAreNotRam) {
  PhysicalMemory mem(1 << 20);
  std::vector<uint8_t> rom(0x1000, 0);
  mem.map_rom(0xF0000, rom, "bios");
  std::vector<uint8_t> bytes(16, 7);
  EXPECT_TRUE(mem.load(0x7C00, bytes));
  EXPECT_FALSE(mem.load(0xEFFF8, bytes));   // runs into the ROM
  EXPECT_FALSE(mem.load(0xFFFF8, bytes));   // runs past the end of RAM
  std::vector<uint8_t> out(16);
  EXPECT_TRUE(mem.copy_out(0x7C00, out));
  EXPECT_EQ(out, bytes);
}

TEST(Scheduler, FiresInDeadlineOrderThenRegistrationOrder) {
  uint64_t clock = 0;
  Scheduler s([&] { return clock; });
  std::vector<int> fired;
  auto a = s.add("a", [&] { fired.push_back(1); });
  auto b = s.add("b", [&] { fired.push_back(2); });
  auto c = s.add("c", [&] { fired.push_back(3); });
  s.schedule(a, 30);
  s.schedule(b, 10);
  s.schedule(c, 10);
  EXPECT_EQ(s.next_deadline(), 10u);
  clock = 9;
  s.run_due();
  EXPECT_TRUE(fired.empty());
  clock = 30;
  s.run_due();
  EXPECT_EQ(fired, (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(s.next_deadline(), Scheduler::kNever);
}

TEST(Scheduler, PeriodicTimerReschedulesItselfAndSurvivesSaveLoad) {
  uint64_t clock = 0;
  Scheduler s([&] { return clock; });
  int ticks = 0;
  Scheduler::Id id = 0;
  id = s.add("pit", [&] {
    ++ticks;
    s.schedule(id, clock + 100);
  });
  s.schedule(id, 100);
  clock = 100;
  s.run_due();
  EXPECT_EQ(ticks, 1);
  EXPECT_EQ(s.deadline(id), 200u);

  StateWriter w;
  s.save(w);
  Scheduler t([&] { return clock; });
  t.add("pit", [] {});
  StateReader r(w.data());
  t.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(t.deadline(0), 200u);

  Scheduler wrong([&] { return clock; });
  wrong.add("lapic", [] {});
  StateReader r2(w.data());
  wrong.load(r2);
  EXPECT_FALSE(r2.ok());
}

TEST(StateReader, TruncatedDataFailsWithReasonAndReadsZero) {
  StateWriter w;
  w.u16(0xBEEF);
  StateReader r(w.data());
  EXPECT_EQ(r.u16(), 0xBEEFu);
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("ends early"), std::string::npos);
}

}  // namespace
}  // namespace vs::devices
