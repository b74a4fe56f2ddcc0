// The Machine end to end: a Multiboot kernel boots, talks to the devices and
// exits through isa-debug-exit; timers wake a halted CPU in virtual time; a
// snapshot resumes bit-exactly; bad images and snapshots get clear errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "virtscope/trace/event.h"
#include "virtscope/vmm/machine.h"

extern const unsigned char vmm_reset_once[];
extern const unsigned vmm_reset_once_size;

namespace vs::vmm {
namespace {

MachineConfig config_for(const char* kernel, std::string* serial) {
  MachineConfig c;
  c.ram_bytes = 16u << 20;
  c.kernel = kernel;
  c.debug_exit = true;
  if (serial) c.serial_out[0] = [serial](uint8_t b) { serial->push_back(char(b)); };
  return c;
}

std::string temp_path(const std::string& name) {
  // Unique per process: CTest runs the tests of this file in parallel.
  return ::testing::TempDir() + "virtscope_" + std::to_string(::getpid()) + "_" + name;
}

TEST(Machine, MultibootKernelPrintsAndExitsWithItsStatus) {
  std::string serial, error;
  MachineConfig c = config_for(VS_MULTIBOOT_HELLO, &serial);
  c.append = "run=hello";
  auto m = Machine::create(c, error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->run(10'000'000), MachineStop::GuestExit);
  EXPECT_EQ(m->exit_status(), (0x21 << 1) | 1);
  EXPECT_EQ(serial, std::string("multiboot: ") + VS_MULTIBOOT_HELLO + " run=hello\n");
  ASSERT_FALSE(m->screen_text().empty());
  EXPECT_EQ(m->screen_text()[0].substr(0, 2), "OK");
  EXPECT_GT(m->instructions(), 100u);
}

TEST(Machine, HaltedCpuSleepsUntilTheTimerInVirtualTime) {
  std::string error;
  auto m = Machine::create(config_for(VS_TIMER_TICKS, nullptr), error);
  ASSERT_TRUE(m) << error;
  uint64_t interrupts = 0;
  m->log().subscribe(trace::KindSet::of({trace::EventKind::Interrupt}), [&](const trace::Event&) { ++interrupts; });
  EXPECT_EQ(m->run(100'000'000), MachineStop::GuestExit);
  EXPECT_EQ(m->exit_status(), (10 << 1) | 1);
  EXPECT_EQ(interrupts, 10u);
  // Ten ticks at 100 Hz are 0.1 virtual seconds: 10 million instructions'
  // worth of virtual time, nearly all of it skipped while halted.
  EXPECT_GE(m->now(), 9'900'000u);
  EXPECT_LE(m->now(), 10'100'000u);
  EXPECT_LT(m->instructions(), 5'000u);
  EXPECT_EQ(m->now(), m->instructions() + m->idle_skipped());
}

TEST(Machine, LocalApicTimerAndIoApicRoutedPitInterruptsWakeTheCpu) {
  std::string error;
  auto m = Machine::create(config_for(VS_APIC_TIMER, nullptr), error);
  ASSERT_TRUE(m) << error;
  std::vector<uint64_t> vectors;
  m->log().subscribe(trace::KindSet::of({trace::EventKind::Interrupt}),
                     [&](const trace::Event& e) { vectors.push_back(e.arg[0]); });
  EXPECT_EQ(m->run(100'000'000), MachineStop::GuestExit);
  EXPECT_EQ(m->exit_status(), (0x55 << 1) | 1);
  const auto count = [&](uint64_t v) { return std::count(vectors.begin(), vectors.end(), v); };
  EXPECT_GE(count(0x40), 5);  // the LAPIC timer
  EXPECT_GE(count(0x41), 5);  // the PIT through the IOAPIC
  EXPECT_EQ(count(0x40) + count(0x41), long(vectors.size()));  // nothing through the masked 8259s
  // Both at 100 Hz: five of each take 50 ms of virtual time (5 million
  // instructions' worth), nearly all of it idle.
  EXPECT_GE(m->now(), 5'000'000u);
  EXPECT_LE(m->now(), 6'100'000u);
  EXPECT_LT(m->instructions(), 5'000u);
}

TEST(Machine, KeyboardControllerResetRebootsThroughTheBiosKeepingRamAndTheClock) {
  const std::string disk = temp_path("reset_once.img");
  {
    std::vector<char> image(512 * 64, 0);
    std::copy(vmm_reset_once, vmm_reset_once + vmm_reset_once_size, image.begin());
    std::ofstream f(disk, std::ios::binary);
    f.write(image.data(), std::streamsize(image.size()));
  }
  MachineConfig c;
  c.ram_bytes = 16u << 20;
  c.drives[0] = disk;
  c.debug_exit = true;
  std::string error;
  auto m = Machine::create(c, error);
  ASSERT_TRUE(m) << error;
  std::vector<trace::Event> resets;
  m->log().subscribe(trace::KindSet::of({trace::EventKind::Reset}), [&](const trace::Event& e) { resets.push_back(e); });
  EXPECT_EQ(m->run(200'000'000), MachineStop::GuestExit);
  EXPECT_EQ(m->exit_status(), (0x42 << 1) | 1);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].arg[0], 2u);        // cause: requested
  EXPECT_GT(resets[0].when.icount, 0u);   // virtual time did not restart
  EXPECT_GT(m->now(), resets[0].when.icount);
  std::remove(disk.c_str());
}

// Everything observable about an event except its sequence number (a fresh
// log after a restore numbers from 0).
struct Seen {
  trace::EventKind kind;
  uint64_t icount;
  uint64_t args[4];
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> record_until_exit(Machine& m) {
  std::vector<Seen> seen;
  const auto all = trace::KindSet::all().without(trace::EventKind::InsnRetired).without(trace::EventKind::PageWalk);
  auto id = m.log().subscribe(all, [&](const trace::Event& e) {
    seen.push_back(Seen{e.kind, e.when.icount, {e.arg[0], e.arg[1], e.arg[2], e.arg[3]}});
  });
  m.run(100'000'000);
  m.log().unsubscribe(id);
  return seen;
}

TEST(Machine, SnapshotResumesWithTheSameEventStream) {
  std::string error;
  auto a = Machine::create(config_for(VS_TIMER_TICKS, nullptr), error);
  ASSERT_TRUE(a) << error;
  ASSERT_EQ(a->run(3'000'000), MachineStop::Budget);  // mid-run: timers pending, CPU halted
  const std::string path = temp_path("snapshot.vss");
  ASSERT_TRUE(a->save(path, error)) << error;
  const auto original = record_until_exit(*a);
  ASSERT_FALSE(original.empty());

  auto b = Machine::restore(path, MachineConfig{}, error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(b->now(), 3'000'000u);
  const auto resumed = record_until_exit(*b);
  EXPECT_EQ(resumed, original);
  EXPECT_EQ(b->exit_status(), a->exit_status());
  EXPECT_EQ(b->now(), a->now());
  EXPECT_EQ(b->instructions(), a->instructions());
  std::remove(path.c_str());
}

TEST(Machine, DamagedSnapshotsAreRefusedWithAReason) {
  std::string error;
  auto a = Machine::create(config_for(VS_TIMER_TICKS, nullptr), error);
  ASSERT_TRUE(a) << error;
  a->run(1'000'000);
  const std::string path = temp_path("damaged.vss");
  ASSERT_TRUE(a->save(path, error)) << error;
  std::vector<char> bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  auto write = [&](const std::vector<char>& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(b.data(), std::streamsize(b.size()));
  };
  // Cut short anywhere: refused.
  for (size_t cut : {size_t(4), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    write(std::vector<char>(bytes.begin(), bytes.begin() + long(cut)));
    error.clear();
    EXPECT_FALSE(Machine::restore(path, MachineConfig{}, error)) << "cut at " << cut;
    EXPECT_FALSE(error.empty());
  }
  // Not a snapshot at all.
  write(std::vector<char>(100, 'x'));
  EXPECT_FALSE(Machine::restore(path, MachineConfig{}, error));
  EXPECT_NE(error.find("not a virtscope snapshot"), std::string::npos);
  EXPECT_FALSE(Machine::restore(temp_path("missing.vss"), MachineConfig{}, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Machine, BadKernelsGetOneLineErrors) {
  std::string error;
  MachineConfig c = config_for("/nonexistent/kernel.elf", nullptr);
  EXPECT_FALSE(Machine::create(c, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);

  const std::string junk = temp_path("junk.elf");
  {
    std::ofstream f(junk, std::ios::binary);
    f << "this is not a kernel";
  }
  c.kernel = junk;
  EXPECT_FALSE(Machine::create(c, error));
  EXPECT_NE(error.find("no Multiboot header"), std::string::npos);
  std::remove(junk.c_str());
}

TEST(Machine, DebugExitPortMustNotOverlapAnotherDevice) {
  std::string error;
  MachineConfig c = config_for(VS_MULTIBOOT_HELLO, nullptr);
  c.debug_exit_base = 0x3F8;  // COM1
  EXPECT_FALSE(Machine::create(c, error));
  EXPECT_NE(error.find("overlaps"), std::string::npos);
}

}  // namespace
}  // namespace vs::vmm
