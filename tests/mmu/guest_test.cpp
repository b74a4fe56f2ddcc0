// Guest programs on a bare CPU with the MMU attached: tests/mmu/guest/paging.S
// turns paging on and checks remapping, A/D bits, a #PF handler (CR2 and
// the error code), INVLPG, CR3 reloads and global pages, a 4 MiB page, CR0.WP
// and user/supervisor protection. It reports through an isa-debug-exit port
// at 0xF4: status (value << 1) | 1, so 1 means every check passed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "virtscope/cpu/cpu.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"

extern const unsigned char guest_paging[];
extern const unsigned guest_paging_size;

using namespace vs;
using namespace vs::cpu;

namespace {

constexpr uint32_t kLoad = 0x10000;

// QEMU's isa-debug-exit: a write of v to port 0xF4 exits with (v << 1) | 1.
class ExitPort final : public IoBus {
 public:
  uint32_t in(uint16_t, unsigned) override { return 0xFFFFFFFF; }
  void out(uint16_t port, unsigned, uint32_t v) override {
    if (port == 0xF4) status = int64_t(v) << 1 | 1;
  }
  int64_t status = -1;  // -1: the guest never reported
};

CpuConfig paging_cpu() {
  CpuConfig c;
  c.cpuid_features |= mmu::Mmu::kCpuidFeatures;
  return c;
}

struct PagingMachine {
  FlatMemory ram{8u << 20};
  ExitPort io;
  trace::EventLog log;
  Cpu cpu{ram, io, log, paging_cpu()};
  mmu::Mmu mmu{ram, log, [this] { return cpu.instructions(); }};
  std::string exceptions;  // "vector:error@eip " for each exception, for failure messages

  // Loads the guest and enters it in flat 32-bit protected mode at ring 0,
  // paging off, with EAX = the scenario.
  explicit PagingMachine(uint32_t scenario) {
    cpu.set_translator(&mmu);
    for (unsigned i = 0; i < guest_paging_size; ++i) ram.data()[kLoad + i] = guest_paging[i];
    CpuState s = cpu.state();
    enter_flat_protected_mode(s, kLoad);
    s.gpr[EAX] = scenario;
    s.gpr[ESP] = 0xF000;
    cpu.set_state(s);
    log.subscribe(trace::KindSet::of({trace::EventKind::Exception}), [this](const trace::Event& e) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%u:%x@%x ", unsigned(e.arg[0]), unsigned(e.arg[1]), unsigned(e.arg[2]));
      exceptions += buf;
    });
  }

  // Runs to the exit port; returns the status (1 = pass).
  int64_t run() {
    const RunStop stop = cpu.run(2'000'000);
    EXPECT_EQ(stop, RunStop::Halted) << run_stop_name(stop);
    return io.status;
  }
};

// The value the guest wrote, as a hex check number, for failure messages.
std::string failed_check(int64_t status) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "check 0x%llx", static_cast<unsigned long long>(status >> 1));
  return buf;
}

void expect_pass(PagingMachine& m) {
  const int64_t status = m.run();
  EXPECT_EQ(status, 1) << failed_check(status) << "; exceptions: " << m.exceptions;
}

}  // namespace

TEST(MmuGuest, RemappedPage_ReadsTheOtherFrameAndSetsAccessedAndDirty) {
  PagingMachine m(1);
  expect_pass(m);
  EXPECT_GT(m.mmu.stats().walks, 0u);
}

TEST(MmuGuest, PageFaultHandler_SeesCr2AndErrorCodeAndMapsOnDemand) {
  PagingMachine m(2);
  uint64_t faults = 0;
  m.log.subscribe(trace::KindSet::of({trace::EventKind::PageFault}), [&](const trace::Event& e) {
    ++faults;
    EXPECT_EQ(e.arg[2], 0x20000u);  // CR3
  });
  expect_pass(m);
  EXPECT_EQ(faults, 2u);
  EXPECT_EQ(m.mmu.stats().page_faults, 2u);
}

TEST(MmuGuest, Invlpg_MakesTheChangedPteVisible) {
  PagingMachine m(3);
  expect_pass(m);
  EXPECT_EQ(m.mmu.stats().invlpgs, 1u);
}

TEST(MmuGuest, Cr3Reload_SwitchesTablesButKeepsGlobalPages) {
  PagingMachine m(4);
  std::vector<uint64_t> causes;
  m.log.subscribe(trace::KindSet::of({trace::EventKind::TlbFlush}), [&](const trace::Event& e) { causes.push_back(e.arg[0]); });
  expect_pass(m);
  EXPECT_EQ(m.mmu.stats().nonglobal_flushes, 4u);  // CR3 = PD (set-up), PD2, PD, PD again
  EXPECT_EQ(std::count(causes.begin(), causes.end(), 0u), 4);
  EXPECT_EQ(std::count(causes.begin(), causes.end(), 1u), 1);
}

TEST(MmuGuest, FourMiBPage_MapsAndReservedBitFaults) {
  PagingMachine m(5);
  expect_pass(m);
}

TEST(MmuGuest, WriteProtect_OnlyFaultsSupervisorWritesWithWpSet) {
  PagingMachine m(6);
  expect_pass(m);
}

TEST(MmuGuest, UserMode_NeedsUserAndWritableBits) {
  PagingMachine m(7);
  expect_pass(m);
  EXPECT_EQ(m.mmu.stats().page_faults, 2u);
}

TEST(MmuGuest, AllScenariosInOneBoot_Pass) {
  PagingMachine m(0);
  expect_pass(m);
}

TEST(MmuGuest, WithoutTheMmu_PagingGuestFailsItsFirstCheck) {
  // The same guest with no translator: CR0.PG is accepted but nothing is
  // translated, so the remapped page is not seen. Shows the checks can fail.
  PagingMachine m(1);
  m.cpu.set_translator(nullptr);
  EXPECT_EQ(m.run(), 0x11 << 1 | 1);
}
