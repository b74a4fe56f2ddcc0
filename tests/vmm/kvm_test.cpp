// The kvm mode's backend (vmm/include/virtscope/vmm/kvm.h) on the host's
// /dev/kvm. The probes are tiny real-mode and long-mode programs, which KVM
// runs on every host (on kvm_pvm real mode goes through the host kernel's
// emulator, 64-bit user code runs natively): port I/O, MMIO, HLT, interrupt
// injection, register transfer and memory slots. Tests skip with the host
// detection's reason when /dev/kvm cannot be used; the teaching kernel
// needs native 32-bit KVM (VT-x/AMD-V) and skips elsewhere.
#include "virtscope/vmm/kvm.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#if __has_include(<linux/kvm.h>)
#include <linux/kvm.h>
#define VS_TEST_LONG_MODE 1
#endif

namespace vs::vmm {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t kRamSize = 0x80000;  // guest-physical [0, 512 KiB); MMIO above
constexpr uint32_t kCode = 0x1000;      // the probes start at 0000:1000
constexpr uint32_t kHandler = 0x1100;   // interrupt handler for vector 0x20
constexpr uint8_t kVector = 0x20;

// A device on the probes' port bus: records writes, answers reads with a
// value made from the port, so a test sees which port was read.
struct TestDevice final : devices::Device {
  struct Access {
    uint16_t port;
    unsigned size;
    uint32_t value;
    bool operator==(const Access&) const = default;
  };
  TestDevice() : Device("kvm-test") {}
  uint32_t read(uint32_t port, unsigned size) override {
    reads.push_back({uint16_t(port), size, 0});
    return size == 1 ? 0x5A : 0xBEEF;
  }
  void write(uint32_t port, unsigned size, uint32_t value) override { writes.push_back({uint16_t(port), size, value}); }
  uint32_t peek(uint32_t, unsigned) const override { return 0; }
  void reset() override {}
  void save(devices::StateWriter&) const override {}
  void load(devices::StateReader&) override {}
  std::vector<Access> reads, writes;
};

// Host memory for a slot: page-aligned, zeroed.
struct HostBuffer {
  explicit HostBuffer(size_t n) : size(n) {
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    bytes = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~HostBuffer() {
    if (bytes) ::munmap(bytes, size);
  }
  uint8_t* bytes;
  size_t size;
};

// Real mode at 0000:kCode, every segment 0, SP 0x8000 (SDM Vol. 3 §20.1).
cpu::CpuState real_mode_start() {
  cpu::CpuState s;
  s.cr0 = cpu::cr0::ET;
  for (cpu::Segment& seg : s.seg) seg = cpu::Segment{0, 0, 0xFFFF, 0x93};
  s.seg[cpu::CS].attr = 0x9B;
  s.eip = kCode;
  s.gpr[cpu::ESP] = 0x8000;
  s.gdtr = s.idtr = {0, 0x3FF};
  return s;
}

class KvmProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    const KvmSupport support = probe_kvm();
    if (!support.usable) GTEST_SKIP() << support.reason;
    std::string error;
    vm = KvmVm::create(error);
    ASSERT_TRUE(vm) << error;
    ASSERT_TRUE(ram.bytes);
    ASSERT_TRUE(vm->map_memory(0, 0, kRamSize, ram.bytes, error)) << error;
    ASSERT_TRUE(ports.map(0x80, 0x9F, device));
    log.record(trace::KindSet::of({trace::EventKind::VmExit, trace::EventKind::VirtualInterrupt}));
    KvmVm::Wiring w;
    w.ports = &ports;
    w.scheduler = &scheduler;
    w.log = &log;
    w.mmio = [this](uint64_t gpa, unsigned size, bool is_write, uint64_t value) {
      mmio.push_back({gpa, size, is_write, value});
      return uint64_t(0x66);
    };
    w.acknowledge = [this] {
      vm->set_irq(false);  // INTA: the line drops once the interrupt is taken
      ++acknowledged;
      return kVector;
    };
    vm->attach(std::move(w));
  }

  void load(uint32_t at, const Bytes& code) { std::memcpy(ram.bytes + at, code.data(), code.size()); }
  // IVT entry for kVector -> 0000:kHandler; the handler reports on port 0x82:
  // mov al, 0x20; out 0x82, al; iret.
  void install_handler() {
    const uint16_t ivt[2] = {uint16_t(kHandler), 0};
    std::memcpy(ram.bytes + kVector * 4, ivt, sizeof ivt);
    load(kHandler, {0xB0, kVector, 0xE6, 0x82, 0xCF});
  }
  void start(const cpu::CpuState& s) {
    std::string error;
    ASSERT_TRUE(vm->set_state(s, error)) << error;
  }
  cpu::CpuState state() {
    cpu::CpuState s;
    std::string error;
    EXPECT_TRUE(vm->get_state(s, error)) << error;
    return s;
  }
  std::vector<ExitReason> exit_reasons() const {
    std::vector<ExitReason> out;
    for (const trace::Event& e : log.recorded())
      if (e.kind == trace::EventKind::VmExit) out.push_back(ExitReason(e.arg[0]));
    return out;
  }
  uint64_t exits(ExitReason r) const {
    auto it = vm->stats().exits.find(r);
    return it == vm->stats().exits.end() ? 0 : it->second;
  }
  // A device timer `delay` virtual-time units from now that raises INTR.
  void raise_irq_after(uint64_t delay) {
    const auto id = scheduler.add("test-irq", [this] { vm->set_irq(true); });
    scheduler.schedule(id, vm->virtual_time() + delay);
  }

  struct MmioAccess {
    uint64_t gpa;
    unsigned size;
    bool is_write;
    uint64_t value;
    bool operator==(const MmioAccess&) const = default;
  };

  std::unique_ptr<KvmVm> vm;
  HostBuffer ram{kRamSize};
  devices::PortBus ports;
  TestDevice device;
  devices::Scheduler scheduler{[this] { return vm ? vm->virtual_time() : 0; }};
  trace::EventLog log;
  std::vector<MmioAccess> mmio;
  int acknowledged = 0;
};

constexpr uint64_t kShortBudget = 100'000'000;  // 1 s of wall clock: the probes stop long before

TEST(KvmHost, Probe_AlwaysGivesAReason_AndKvmPvmIsNotNative32Bit) {
  const KvmSupport s = probe_kvm();
  EXPECT_FALSE(s.reason.empty());
  if (s.module == KvmModule::Pvm) {
    EXPECT_FALSE(s.protected_mode_native);
    EXPECT_FALSE(s.real_mode_native);
    EXPECT_NE(s.reason.find("kvm_pvm"), std::string::npos) << s.reason;
  }
  if (s.usable) {
    EXPECT_EQ(s.api_version, 12);
  }
}

TEST_F(KvmProbe, RealMode_OutInAndStringOut_ReachTheTestDeviceWithPortsAndValues) {
  // mov al,0x42; out 0x80,al; in al,0x81; mov bl,al; mov dx,0x84; in ax,dx;
  // mov di,ax; mov dx,0x90; mov cx,3; mov si,0x2000; cld; rep outsb; hlt
  load(kCode, {0xB0, 0x42, 0xE6, 0x80, 0xE4, 0x81, 0x88, 0xC3, 0xBA, 0x84, 0x00, 0xED, 0x89, 0xC7, 0xBA, 0x90,
               0x00, 0xB9, 0x03, 0x00, 0xBE, 0x00, 0x20, 0xFC, 0xF3, 0x6E, 0xF4});
  load(0x2000, {1, 2, 3});
  start(real_mode_start());
  EXPECT_EQ(vm->run(kShortBudget), KvmStop::Halted) << vm->failure();
  using A = TestDevice::Access;
  EXPECT_EQ(device.writes, (std::vector<A>{{0x80, 1, 0x42}, {0x90, 1, 1}, {0x90, 1, 2}, {0x90, 1, 3}}));
  EXPECT_EQ(device.reads, (std::vector<A>{{0x81, 1, 0}, {0x84, 2, 0}}));
  const cpu::CpuState s = state();
  EXPECT_EQ(s.gpr[cpu::EBX] & 0xFF, 0x5Au);
  EXPECT_EQ(s.gpr[cpu::EDI] & 0xFFFF, 0xBEEFu);
  EXPECT_EQ(s.eip, kCode + 27) << "after the HLT";
  // Every I/O exit is an IO_INSTRUCTION VmExit whose qualification names the port.
  std::vector<uint16_t> ports_seen;
  for (const trace::Event& e : log.recorded())
    if (e.kind == trace::EventKind::VmExit && ExitReason(e.arg[0]) == ExitReason::IoInstruction)
      ports_seen.push_back(uint16_t(e.arg[1] >> cpu::exit_qual::kIoPortShift));
  ASSERT_GE(ports_seen.size(), 4u);
  EXPECT_EQ(ports_seen[0], 0x80);
  EXPECT_EQ(ports_seen[1], 0x81);
  EXPECT_EQ(ports_seen[2], 0x84);
  EXPECT_EQ(exit_reasons().back(), ExitReason::Hlt);
  EXPECT_EQ(exits(ExitReason::Hlt), 1u);
}

TEST_F(KvmProbe, RealMode_MmioWriteAndRead_ReachTheCallback) {
  // mov ax,0x9000; mov es,ax; mov byte es:[0],0x55; mov al,es:[4]; mov bh,al; hlt
  load(kCode, {0xB8, 0x00, 0x90, 0x8E, 0xC0, 0x26, 0xC6, 0x06, 0x00, 0x00, 0x55, 0x26, 0xA0, 0x04, 0x00, 0x88, 0xC7,
               0xF4});
  start(real_mode_start());
  EXPECT_EQ(vm->run(kShortBudget), KvmStop::Halted) << vm->failure();
  EXPECT_EQ(mmio, (std::vector<MmioAccess>{{0x90000, 1, true, 0x55}, {0x90004, 1, false, 0}}));
  EXPECT_EQ((state().gpr[cpu::EBX] >> 8) & 0xFF, 0x66u);
  EXPECT_EQ(exits(ExitReason::EptViolation), 2u);
  const std::vector<ExitReason> r = exit_reasons();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], ExitReason::EptViolation);
  EXPECT_EQ(r[2], ExitReason::Hlt);
}

TEST_F(KvmProbe, RealMode_HltThenTimerInterrupt_RunsTheIvtHandlerThenContinues) {
  install_handler();
  // sti; hlt; mov al,0x99; out 0x83,al; cli; hlt
  load(kCode, {0xFB, 0xF4, 0xB0, 0x99, 0xE6, 0x83, 0xFA, 0xF4});
  start(real_mode_start());
  raise_irq_after(100'000);  // 1 ms: the guest is halted by then
  EXPECT_EQ(vm->run(kShortBudget), KvmStop::Halted) << vm->failure();
  using A = TestDevice::Access;
  EXPECT_EQ(device.writes, (std::vector<A>{{0x82, 1, kVector}, {0x83, 1, 0x99}}));
  EXPECT_EQ(acknowledged, 1);
  EXPECT_EQ(vm->stats().reflected, 1u);
  EXPECT_EQ(exits(ExitReason::Hlt), 2u);
  bool injected = false;
  for (const trace::Event& e : log.recorded())
    if (e.kind == trace::EventKind::VirtualInterrupt) injected = e.arg[0] == kVector;
  EXPECT_TRUE(injected);
}

TEST_F(KvmProbe, RealMode_InterruptWhileIfClear_WaitsForTheInterruptWindow) {
  install_handler();
  // mov al,1; out 0x80,al; sti; nop; mov al,0x99; out 0x83,al; cli; hlt
  load(kCode, {0xB0, 0x01, 0xE6, 0x80, 0xFB, 0x90, 0xB0, 0x99, 0xE6, 0x83, 0xFA, 0xF4});
  start(real_mode_start());  // IF = 0
  vm->set_irq(true);
  EXPECT_EQ(vm->run(kShortBudget), KvmStop::Halted) << vm->failure();
  using A = TestDevice::Access;
  ASSERT_EQ(device.writes.size(), 3u);
  EXPECT_EQ(device.writes[0], (A{0x80, 1, 1})) << "not taken while IF = 0";
  EXPECT_EQ(acknowledged, 1);
  if (probe_kvm().module == KvmModule::Pvm) {
    // kvm_pvm's emulator runs the real-mode code and gives the window at its
    // next exit (the OUT to 0x83), not right after STI.
    EXPECT_NE(std::find(device.writes.begin(), device.writes.end(), A{0x82, 1, kVector}), device.writes.end());
  } else {
    EXPECT_EQ(device.writes[1], (A{0x82, 1, kVector})) << "the handler runs after STI, before the OUT to 0x83";
    EXPECT_GE(exits(ExitReason::InterruptWindow), 1u);
  }
}

TEST_F(KvmProbe, RealMode_SpinningGuest_IsKickedOutForADeviceTimer) {
  install_handler();
  load(kCode, {0xFB, 0xEB, 0xFE});  // sti; jmp $
  start(real_mode_start());
  raise_irq_after(200'000);  // 2 ms
  EXPECT_EQ(vm->run(2'000'000), KvmStop::Budget) << vm->failure();  // 20 ms
  using A = TestDevice::Access;
  EXPECT_EQ(device.writes, (std::vector<A>{{0x82, 1, kVector}})) << "the timer's interrupt reached the spinning guest";
  EXPECT_GE(exits(ExitReason::ExternalInterrupt), 1u) << "the kick timer's signal";
  EXPECT_GE(vm->virtual_time(), 2'000'000u);
}

TEST_F(KvmProbe, RealMode_RegisterTransfer_SetRunCombineReadBack) {
  // add eax,ebx; shl edx,cl; xor edi,esi; mov bp,[0x10]; hlt
  load(kCode, {0x66, 0x01, 0xD8, 0x66, 0xD3, 0xE2, 0x66, 0x31, 0xF7, 0x8B, 0x2E, 0x10, 0x00, 0xF4});
  load(0x1010, {0xEF, 0xBE});
  cpu::CpuState s = real_mode_start();
  s.gpr[cpu::EAX] = 0x11111111;
  s.gpr[cpu::EBX] = 0x22222222;
  s.gpr[cpu::ECX] = 4;
  s.gpr[cpu::EDX] = 0x01234567;
  s.gpr[cpu::ESI] = 0xF0F0F0F0;
  s.gpr[cpu::EDI] = 0x0FF00FF0;
  s.seg[cpu::DS] = cpu::Segment{0x100, 0x1000, 0xFFFF, 0x93};
  s.idtr = {0x400, 0x123};
  start(s);
  ASSERT_EQ(vm->run(kShortBudget), KvmStop::Halted) << vm->failure();
  const cpu::CpuState r = state();
  EXPECT_EQ(r.gpr[cpu::EAX], 0x33333333u);
  EXPECT_EQ(r.gpr[cpu::EDX], 0x12345670u);
  EXPECT_EQ(r.gpr[cpu::EDI], 0xFF00FF00u);
  EXPECT_EQ(r.gpr[cpu::EBP] & 0xFFFF, 0xBEEFu);
  EXPECT_EQ(r.gpr[cpu::ESP], 0x8000u);
  EXPECT_EQ(r.seg[cpu::DS].selector, 0x100);
  EXPECT_EQ(r.seg[cpu::DS].base, 0x1000u);
  EXPECT_EQ(r.idtr.base, 0x400u);
  EXPECT_EQ(r.idtr.limit, 0x123);
  EXPECT_EQ(r.cr0 & cpu::cr0::PE, 0u);
  EXPECT_TRUE(r.halted);
}

TEST_F(KvmProbe, MemorySlots_GuestStoresShowInHostBuffersAndBack) {
  HostBuffer high(0x10000);
  std::string error;
  ASSERT_TRUE(vm->map_memory(1, 0x80000, high.size, high.bytes, error)) << error;
  // mov ax,[0x3000]; add ax,1; mov [0x3002],ax; mov ax,0x8000; mov es,ax; mov byte es:[0x10],0x77; hlt
  load(kCode, {0xA1, 0x00, 0x30, 0x83, 0xC0, 0x01, 0xA3, 0x02, 0x30, 0xB8, 0x00, 0x80, 0x8E, 0xC0, 0x26, 0xC6, 0x06,
               0x10, 0x00, 0x77, 0xF4});
  load(0x3000, {0x34, 0x12});  // the host writes, the guest reads
  start(real_mode_start());
  ASSERT_EQ(vm->run(kShortBudget), KvmStop::Halted) << vm->failure();
  EXPECT_EQ(ram.bytes[0x3002], 0x35);
  EXPECT_EQ(ram.bytes[0x3003], 0x12);
  EXPECT_EQ(high.bytes[0x10], 0x77) << "guest-physical 0x80010 lies in the second slot";
  EXPECT_TRUE(mmio.empty());
}

#ifdef VS_TEST_LONG_MODE
// 64-bit code at CPL 3 with IOPL 3: what kvm_pvm runs natively. Identity
// paging of the first 2 MiB with one large page (SDM Vol. 3 §4.5); the slot
// covers only 512 KiB, so 0x90000 is MMIO. The guest ends spinning, so only
// the kick timer at the budget brings it back.
TEST_F(KvmProbe, LongModeUserCode_IoMmioAndRegisters_ThenKickedAtTheBudget) {
  uint64_t tables[3] = {0x11000 | 7, 0x12000 | 7, 0x87};  // PML4E, PDPTE, PDE (PS, U, W, P)
  std::memcpy(ram.bytes + 0x10000, &tables[0], 8);
  std::memcpy(ram.bytes + 0x11000, &tables[1], 8);
  std::memcpy(ram.bytes + 0x12000, &tables[2], 8);
  // mov al,0x42; out 0x80,al; mov rcx,0x1122334455667788; add rbx,rcx; mov byte [0x90000],0x55;
  // mov al,[0x90004]; mov dl,al; mov [0x3000],rbx; out 0x81,al; jmp $
  load(kCode, {0xB0, 0x42, 0xE6, 0x80, 0x48, 0xB9, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x48, 0x01,
               0xCB, 0xC6, 0x04, 0x25, 0x00, 0x00, 0x09, 0x00, 0x55, 0x8A, 0x04, 0x25, 0x04, 0x00, 0x09, 0x00,
               0x88, 0xC2, 0x48, 0x89, 0x1C, 0x25, 0x00, 0x30, 0x00, 0x00, 0xE6, 0x81, 0xEB, 0xFE});
  kvm_sregs sr{};
  ASSERT_FALSE(vm->get_raw(nullptr, &sr).has_value());
  sr.cr3 = 0x10000;
  sr.cr4 = cpu::cr4::PAE;
  sr.cr0 = cpu::cr0::PE | cpu::cr0::MP | cpu::cr0::ET | cpu::cr0::NE | cpu::cr0::WP | cpu::cr0::AM | cpu::cr0::PG;
  sr.efer = (1u << 8) | (1u << 10);  // LME | LMA (SDM Vol. 3 §9.8.5)
  kvm_segment code{};
  code.limit = 0xFFFFFFFF;
  code.selector = 0x33;
  code.type = 0xB;
  code.present = 1;
  code.dpl = 3;
  code.s = 1;
  code.l = 1;
  code.g = 1;
  kvm_segment data = code;
  data.selector = 0x2B;
  data.type = 0x3;
  data.l = 0;
  data.db = 1;
  sr.cs = code;
  sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
  sr.tr.type = 0xB;
  sr.tr.present = 1;
  sr.tr.limit = 0x67;
  sr.tr.base = 0x5000;
  sr.tr.selector = 0x18;
  kvm_regs r{};
  r.rip = kCode;
  r.rsp = 0x8000;
  r.rbx = 0x1000000000000001;
  r.rflags = cpu::flag::kFixed1 | cpu::flag::IOPL;
  ASSERT_FALSE(vm->put_raw(&r, &sr).has_value());

  EXPECT_EQ(vm->run(1'000'000), KvmStop::Budget) << vm->failure();  // 10 ms
  using A = TestDevice::Access;
  EXPECT_EQ(device.writes, (std::vector<A>{{0x80, 1, 0x42}, {0x81, 1, 0x66}}));
  EXPECT_EQ(mmio, (std::vector<MmioAccess>{{0x90000, 1, true, 0x55}, {0x90004, 1, false, 0}}));
  uint64_t stored = 0;
  std::memcpy(&stored, ram.bytes + 0x3000, 8);
  EXPECT_EQ(stored, 0x2122334455667789u);
  kvm_regs after{};
  ASSERT_FALSE(vm->get_raw(&after, nullptr).has_value());
  EXPECT_EQ(after.rip, kCode + 44) << "spinning at the jmp $";
  EXPECT_GE(exits(ExitReason::ExternalInterrupt), 1u) << "the budget's kick";
}
#endif

// ---- The monitor: Multiboot kernels on KVM ----

Bytes read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

TEST(KvmMonitor, Boot_WhereKvmCannotRun32BitNatively_RefusesWithTheReason) {
  const KvmSupport support = KvmMonitor::probe();
  if (support.protected_mode_native) GTEST_SKIP() << "this host's KVM runs 32-bit code natively";
  trace::EventLog log;
  KvmMonitor monitor(log, 16u << 20, [](uint8_t) {});
  devices::MultibootImage image;
  image.kernel = read_file(VS_MULTIBOOT_HELLO);
  std::string error;
  EXPECT_FALSE(monitor.boot(image, error));
  EXPECT_NE(error.find(support.reason), std::string::npos) << error;
  EXPECT_EQ(monitor.run(1000), KvmMonitor::Stop::Failed);
  EXPECT_NE(monitor.failure(), nullptr);
}

// A Multiboot kernel that never enables paging runs even where KVM emulates
// 32-bit code (kvm_pvm): the loader, the entry state, COM1 and
// isa-debug-exit all work through the monitor.
TEST(KvmMonitor, MultibootHello_PrintsItsCommandLineAndExitsThroughIsaDebugExit) {
  const KvmSupport support = KvmMonitor::probe();
  if (!support.usable) GTEST_SKIP() << support.reason;
  trace::EventLog log;
  std::string console;
  KvmMonitor monitor(log, 16u << 20, [&](uint8_t b) { console.push_back(char(b)); }, KvmBootPolicy::Emulated);
  devices::MultibootImage image;
  image.kernel = read_file(VS_MULTIBOOT_HELLO);
  image.cmdline = "hello.elf kvm";
  std::string error;
  ASSERT_TRUE(monitor.boot(image, error)) << error;
  EXPECT_EQ(monitor.run(1'000'000'000), KvmMonitor::Stop::GuestExit) << (monitor.failure() ? monitor.failure() : "");
  EXPECT_EQ(monitor.exit_status(), (0x21 << 1) | 1) << "isa-debug-exit's status: (value << 1) | 1";
  EXPECT_EQ(console, "multiboot: hello.elf kvm\n");
  EXPECT_GE(monitor.stats().exits.at(ExitReason::IoInstruction), console.size());
}

TEST(KvmMonitor, TeachingKernel_OnNative32BitKvm_PrintsHello) {
  const KvmSupport support = KvmMonitor::probe();
  if (!support.protected_mode_native) GTEST_SKIP() << support.reason;
  trace::EventLog log;
  std::string console;
  KvmMonitor monitor(log, 64u << 20, [&](uint8_t b) { console.push_back(char(b)); });
  devices::MultibootImage image;
  image.kernel = read_file(VS_KERNEL);
  image.cmdline = "vs_kernel.elf run=hello";
  image.modules.push_back({read_file(VS_INITRD), VS_INITRD});
  std::string error;
  ASSERT_TRUE(monitor.boot(image, error)) << error;
  const KvmMonitor::Stop stop = monitor.run(1'000'000'000);  // 10 s of wall clock
  EXPECT_EQ(stop, KvmMonitor::Stop::GuestExit) << (monitor.failure() ? monitor.failure() : "") << console;
  EXPECT_NE(console.find("hello"), std::string::npos) << console;
  EXPECT_GT(monitor.stats().exits.at(ExitReason::IoInstruction), 0u);
}

}  // namespace
}  // namespace vs::vmm
