// The io controller and delegation under container-sim (SEMANTICS.md §2.1,
// §2.5; checklist items 21 and 23; docs/container-sim/cgroup-io.md),
// observed from inside by tests/container/guest/cg_io.c and from the host
// API (ContainerHost::set_disk, cgroup_*), with the CgroupThrottle and
// CgroupCharge events; and the `disk N` workload on the block device,
// against the teaching kernel on the bare emulated PC.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../vmm/workloads.h"
#include "host_helpers.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

using trace::EventKind;

constexpr uint64_t kBudget = 2'000'000'000;

// A host with the initrd, the compare disk image at /dev/disk, /sys/fs/cgroup and /bin/cg_io.
void prepare(TestHost& t) {
  std::string error;
  ASSERT_TRUE(t.host->set_disk(vmm::compare_disk_image(), error)) << error;
  ASSERT_TRUE(t.host->add_directory("/sys/fs/cgroup", error)) << error;
  ASSERT_TRUE(t.host->add_file("/bin/cg_io", read_bytes(VS_CT_CG_IO), error)) << error;
}

// Runs /bin/cg_io SUB: the console, after checking "0 failures" and at least `min_oks` checks.
std::string run_cg(TestHost& t, const std::string& sub, size_t min_oks) {
  prepare(t);
  return t.run_checks({"cg_io", sub}, min_oks, kBudget);
}

// "rate NAME total=A steady=B" from the guest.
void rates(const std::string& out, const std::string& name, unsigned long long& total, unsigned long long& steady) {
  total = steady = 0;
  const size_t at = out.find("rate " + name + " ");
  ASSERT_NE(at, std::string::npos) << out;
  ASSERT_EQ(std::sscanf(out.c_str() + at, ("rate " + name + " total=%llu steady=%llu").c_str(), &total, &steady), 2);
}

struct Events {
  std::vector<trace::Event> throttles;
  uint64_t charged = 0;
  size_t charges = 0;
  explicit Events(ContainerHost& host) {
    host.log().subscribe(trace::KindSet::of({EventKind::CgroupThrottle, EventKind::CgroupCharge}),
                         [this](const trace::Event& e) {
                           if (e.kind == EventKind::CgroupThrottle) throttles.push_back(e);
                           if (e.kind == EventKind::CgroupCharge && e.arg[0] == 1) charged += e.arg[2], ++charges;
                         });
  }
};

TEST(ContainerIo, Rbps_ThroughputConvergesReadsDelayedNeverFailed) {  // item 21
  TestHost t;
  Events ev(*t.host);
  const std::string out = run_cg(t, "rbps", 9);
  EXPECT_TRUE(has_line(out, "every read returned all 4096 bytes (delayed, never failed)")) << out;
  EXPECT_TRUE(has_line(out, "steady throughput within 1% of rbps (256 KiB/s)")) << out;
  EXPECT_TRUE(has_line(out, "t/io.stat: 1 MiB in 256 requests")) << out;
  unsigned long long total = 0, steady = 0;
  rates(out, "rbps", total, steady);
  // The figures docs/container-sim/cgroup-io.md quotes (--gtest_output=xml shows them).
  RecordProperty("total_Bps", std::to_string(total));
  RecordProperty("steady_Bps", std::to_string(steady));
  RecordProperty("throttle_events", std::to_string(ev.throttles.size()));
  RecordProperty("virtual_ns", std::to_string(t.host->now() * 10));
  RecordProperty("instructions", std::to_string(t.host->counters().instructions));
  EXPECT_NEAR(double(steady), 262144.0, 262144.0 * 0.01);
  EXPECT_NEAR(double(total), 262144.0, 262144.0 * 0.05);
  // Every request after the 100 ms burst waited: 256 requests less the burst's 7.
  ASSERT_GE(ev.throttles.size(), 240u);
  for (const trace::Event& e : ev.throttles) {
    EXPECT_EQ(e.arg[0], 1u);  // io
    EXPECT_NE(e.arg[1], 1u);  // t, not the root
    EXPECT_GT(e.arg[2], 0u);  // a delay in virtual ns
    EXPECT_LE(e.arg[2], 15'625'000u + 1);  // at most one 4 KiB request's share of 256 KiB/s
  }
  EXPECT_EQ(ev.charged, 1024u * 1024u);  // CgroupCharge: the bytes, read by read
  EXPECT_EQ(ev.charges, 256u);
  // The idle CPU skipped ahead to each deadline: about 4 s of virtual time for far fewer instructions.
  EXPECT_GT(t.host->counters().idle, 300'000'000u);
}

TEST(ContainerIo, Riops_RequestsGoAtTheLimit) {  // item 21, iops
  TestHost t;
  const std::string out = run_cg(t, "riops", 5);
  unsigned long long total = 0, steady = 0;
  rates(out, "riops", total, steady);
  RecordProperty("total_iops", std::to_string(total));
  RecordProperty("steady_iops", std::to_string(steady));
  EXPECT_NEAR(double(steady), 100.0, 1.0);
}

TEST(ContainerIo, AncestorLimit_AppliesBelowAndStatIsHierarchical) {  // item 21, §2.5 hierarchy
  TestHost t;
  const std::string out = run_cg(t, "ancestor", 10);
  EXPECT_TRUE(has_line(out, "a/b's reads go at a's rate (128 KiB/s) within 1%")) << out;
  EXPECT_TRUE(has_line(out, "a/io.stat counts its descendants' IO too")) << out;
  EXPECT_TRUE(has_line(out, "a/b's reads now go at 64 KiB/s within 1%")) << out;
}

TEST(ContainerIo, IoMaxParsing_LinuxErrorsFromGuest) {
  TestHost t;
  const std::string out = run_cg(t, "parse", 25);
  EXPECT_TRUE(has_line(out, "a device that does not exist (9:9): ENODEV")) << out;
  EXPECT_TRUE(has_line(out, "zero: ERANGE")) << out;
  EXPECT_TRUE(has_line(out, "a read of 100 bytes is one request of one sector (512 bytes)")) << out;
}

TEST(ContainerIo, IoMaxParsing_LinuxErrorsFromHost) {
  TestHost t;
  std::string error, text;
  ASSERT_TRUE(t.host->cgroup_create("/h", error)) << error;
  ASSERT_TRUE(t.host->cgroup_write("/cgroup.subtree_control", "+io", error)) << error;
  // No disk yet: every device is unknown.
  EXPECT_FALSE(t.host->cgroup_write("/h/io.max", "8:0 rbps=1", error));
  EXPECT_EQ(error, "/h/io.max: No such device");
  ASSERT_TRUE(t.host->set_disk(vmm::compare_disk_image(), error)) << error;
  EXPECT_TRUE(t.host->cgroup_write("/h/io.max", "8:0 rbps=2097152 wiops=120", error)) << error;
  ASSERT_TRUE(t.host->cgroup_read("/h/io.max", text, error)) << error;
  EXPECT_EQ(text, "8:0 rbps=2097152 wbps=max riops=max wiops=120\n");  // cgroup-v2.rst's own example's shape
  EXPECT_FALSE(t.host->cgroup_write("/h/io.max", "8:0 rbps=0", error));
  EXPECT_EQ(error, "/h/io.max: Numerical result out of range");  // ERANGE
  EXPECT_FALSE(t.host->cgroup_write("/h/io.max", "8:0 bogus=1", error));
  EXPECT_EQ(error, "/h/io.max: Invalid argument");
  EXPECT_FALSE(t.host->cgroup_write("/h/io.max", "254:0 rbps=1", error));
  EXPECT_EQ(error, "/h/io.max: No such device");
  EXPECT_FALSE(t.host->cgroup_write("/io.max", "8:0 rbps=1", error));  // not on the root
  EXPECT_EQ(error, "/io.max: No such file or directory");
  EXPECT_TRUE(t.host->cgroup_write("/h/io.max", "8:0 rbps=max wiops=max", error)) << error;
  ASSERT_TRUE(t.host->cgroup_read("/h/io.max", text, error)) << error;
  EXPECT_EQ(text, "");
  ASSERT_TRUE(t.host->cgroup_read("/h/io.stat", text, error)) << error;
  EXPECT_EQ(text, "");
  // Turning io off in the parent drops h's io state (its css goes).
  ASSERT_TRUE(t.host->cgroup_write("/h/io.max", "8:0 riops=5", error)) << error;
  ASSERT_TRUE(t.host->cgroup_write("/cgroup.subtree_control", "-io", error)) << error;
  ASSERT_TRUE(t.host->cgroup_write("/cgroup.subtree_control", "+io", error)) << error;
  ASSERT_TRUE(t.host->cgroup_read("/h/io.max", text, error)) << error;
  EXPECT_EQ(text, "");
}

TEST(ContainerIo, SetDisk_WholeSectorsOnly) {
  TestHost t;
  std::string error;
  EXPECT_FALSE(t.host->set_disk(std::vector<uint8_t>(1000), error));
  EXPECT_NE(error.find("512-byte sectors"), std::string::npos) << error;
  EXPECT_FALSE(t.host->set_disk({}, error));
  ASSERT_TRUE(t.host->set_disk(std::vector<uint8_t>(1024, 0xAB), error)) << error;
  ASSERT_TRUE(t.host->set_disk(vmm::compare_disk_image(), error)) << error;  // a new medium, same node
  const uint32_t pid = t.spawn({"disk", "2048"});                            // the whole 1 MiB
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 0) << t.console;
  EXPECT_EQ(t.console.rfind("disk: 2048 sectors, checksum 0x", 0), 0u) << t.console;
}

// The `disk N` workload, on /dev/disk as a block device, prints what it
// prints under the teaching kernel (its ATA driver reading the same image).
TEST(ContainerIo, DiskWorkload_SameOutputAsTeachingKernel) {
  const vmm::ModeResult native = vmm::run_workload(vmm::Mode::Native, vmm::workload({"disk", "128"}), vmm::CostModel());
  ASSERT_TRUE(native.ran()) << native.unavailable;
  ASSERT_EQ(native.stop, vmm::MachineStop::GuestExit);
  ASSERT_EQ(native.console.rfind("disk: 128 sectors, checksum 0x", 0), 0u) << native.console;
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->set_disk(vmm::compare_disk_image(), error)) << error;
  const uint32_t pid = t.spawn({"disk", "128"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 0);
  EXPECT_EQ(t.console, native.console);
  EXPECT_EQ(t.host->counters().syscalls, native.syscalls);
}

// The same workload in a cgroup the host limits: the same output, later.
TEST(ContainerIo, DiskWorkload_ThrottledByHostSameOutputLater) {
  TestHost fast;
  std::string error, text;
  ASSERT_TRUE(fast.host->set_disk(vmm::compare_disk_image(), error)) << error;
  fast.spawn({"disk", "128"});
  ASSERT_EQ(fast.host->run(kBudget), HostStop::AllExited);

  TestHost t;
  Events ev(*t.host);
  ASSERT_TRUE(t.host->set_disk(vmm::compare_disk_image(), error)) << error;
  ASSERT_TRUE(t.host->cgroup_create("/slow", error)) << error;
  ASSERT_TRUE(t.host->cgroup_write("/cgroup.subtree_control", "+io", error)) << error;
  ASSERT_TRUE(t.host->cgroup_write("/slow/io.max", "8:0 rbps=65536", error)) << error;
  const uint32_t pid = t.spawn({"disk", "128"});  // 64 KiB at 64 KiB/s
  ASSERT_TRUE(t.host->cgroup_move(pid, "/slow", error)) << error;
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 0);
  EXPECT_EQ(t.console, fast.console);
  EXPECT_EQ(t.host->counters().instructions, fast.host->counters().instructions);  // the same work ...
  // ... over more virtual time: 16 requests of 62.5 ms each, less the 100 ms burst: the last goes at 0.84 s.
  EXPECT_GT(t.host->now(), 83'000'000u);
  EXPECT_LT(fast.host->now(), 10'000'000u);
  EXPECT_FALSE(ev.throttles.empty());
  RecordProperty("virtual_ns_fast", std::to_string(fast.host->now() * 10));
  RecordProperty("virtual_ns_throttled", std::to_string(t.host->now() * 10));
  RecordProperty("throttle_events", std::to_string(ev.throttles.size()));
  ASSERT_TRUE(t.host->cgroup_read("/slow/io.stat", text, error)) << error;
  EXPECT_EQ(text, "8:0 rbytes=65536 wbytes=0 rios=16 wios=0 dbytes=0 dios=0\n");
}

TEST(ContainerDelegation, MigrationNeedsCommonAncestor_PopulatedFlips_RmdirBusy) {  // item 23
  TestHost t;
  const std::string out = run_cg(t, "deleg", 20);
  EXPECT_TRUE(has_line(out, "[child] write access to d/b/cgroup.procs alone: EACCES (d, the common ancestor, is root's)"))
      << out;
  EXPECT_TRUE(has_line(out, "[child] with d/cgroup.procs its own, d/a -> d/b works")) << out;
  EXPECT_TRUE(has_line(out, "[child] it cannot give d/b/cgroup.procs back to root: EPERM")) << out;
  EXPECT_TRUE(has_line(out, "d/b's populated flips to 0 as its last process leaves")) << out;
  EXPECT_TRUE(has_line(out, "rmdir of populated d/b: EBUSY")) << out;
}

TEST(ContainerDelegation, ContainerRoot_OverridesOnlyNodesMappedInItsUserNamespace) {  // item 23, user namespaces
  TestHost t;
  const std::string out = run_cg(t, "userns", 9);
  EXPECT_TRUE(has_line(out, "[child] d/b/cgroup.procs (1001 = its uid 1, mode 0644) opens for writing: DAC override"))
      << out;
  EXPECT_TRUE(has_line(out, "[child] the host root's d/c/cgroup.procs does not (0 is unmapped there): EACCES")) << out;
}

}  // namespace
}  // namespace vs::container_sim
