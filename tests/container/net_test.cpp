// Networking under container-sim (SEMANTICS.md §1.5, checklist item 9;
// docs/container-sim/network.md), observed from inside by the guest program
// net_veth (tests/container/guest/net_veth.c): a new namespace's lo, veth
// pairs between namespaces carrying frames, namespace destruction,
// malformed rtnetlink requests; and the host's veth for a container. The
// same ELF runs on this Linux host inside an unprivileged user + network
// namespace when the host allows one, and its output must be the same.
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "host_helpers.h"
#include "kernel.h"
#include "subprocess.h"

namespace vs::container_sim {
namespace {

constexpr uint64_t kBudget = 4'000'000'000;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A kernel model with /bin/net_veth and an empty /proc; the console in `out`.
struct NetHost {
  Kernel kernel{HostConfig{}};
  std::string out;
  NetHost() {
    std::string error;
    kernel.add_directory("/bin", error);
    EXPECT_TRUE(kernel.add_file("/bin/net_veth", read_bytes(VS_CT_NET_VETH), error)) << error;
    EXPECT_TRUE(kernel.add_directory("/proc", error)) << error;
    kernel.set_console([this](std::string_view s) { out.append(s); });
  }
  uint32_t spawn(const std::vector<std::string>& argv) {
    std::string error;
    const uint32_t pid = kernel.spawn(argv, {}, error);
    EXPECT_NE(pid, 0u) << error;
    return pid;
  }
};

struct GuestRun {
  std::string out;
  std::optional<int> status;
  uint64_t instructions = 0, syscalls = 0;
};

GuestRun run_sim(const std::string& sub) {
  NetHost h;
  const uint32_t pid = h.spawn({"net_veth", sub});
  EXPECT_EQ(h.kernel.run(kBudget), HostStop::AllExited) << h.out;
  return GuestRun{h.out, h.kernel.exit_status(pid), h.kernel.counters().instructions, h.kernel.counters().syscalls};
}

void expect_all_ok(const GuestRun& r) { expect_checks_passed(r.out, r.status, 0); }

bool has(const GuestRun& r, const std::string& text) { return r.out.find(text) != std::string::npos; }

TEST(ContainerNet, FreshNamespace_LoOnlyDownNoRoutes) {
  const GuestRun r = run_sim("fresh");
  expect_all_ok(r);
  EXPECT_TRUE(has(r, "links:\n  1: lo DOWN\n/proc/net/dev:\n")) << r.out;
  EXPECT_TRUE(has(r, "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0 "
                     "    0       0          0\n"))
      << r.out;
  EXPECT_TRUE(has(r, "  1: lo UP LOWER_UP\n")) << r.out;
}

TEST(ContainerNet, VethPair_FramesCrossNamespaces_AndDieWithTheNamespace) {
  const GuestRun r = run_sim("veth");
  expect_all_ok(r);
  // The peer is registered first, so it has the lower index (veth_newlink).
  EXPECT_TRUE(has(r, "parent's links:\n  1: lo DOWN\n  2: vb DOWN\n  3: va DOWN\n")) << r.out;
  EXPECT_TRUE(has(r, "child's links after the move:\n  1: lo DOWN\n  2: vb DOWN\n")) << r.out;
  EXPECT_TRUE(has(r, "links at the end:\n  1: lo DOWN\nok")) << r.out;
  std::cout << "[ figures  ] veth scenario: " << r.instructions << " user instructions, " << r.syscalls
            << " system calls\n";
}

TEST(ContainerNet, NsDescriptor_KeepsTheNamespaceAndItsVeths) {
  const GuestRun r = run_sim("hold");
  expect_all_ok(r);
  EXPECT_TRUE(has(r, "links while it is held:\n  1: lo DOWN\n  2: ha DOWN\n  4: ia DOWN\n")) << r.out;
  EXPECT_TRUE(has(r, "links at the end:\n  1: lo DOWN\nok") || has(r, "links at the end:\n  1: lo DOWN\n0 failures")) << r.out;
}

TEST(ContainerNet, MalformedAndRefusedRequests_LinuxErrnos) { expect_all_ok(run_sim("bad")); }

TEST(ContainerNet, SendmsgRecvmsgSocketcallReadWrite_AndLoopback) {
  const GuestRun r = run_sim("calls");
  expect_all_ok(r);
  // lo counts what is left after the Ethernet header: 5 bytes of "loop".
  EXPECT_TRUE(has(r, "/proc/net/dev: lo:       5       1    0    0    0     0          0         0        5       1")) << r.out;
}

TEST(ContainerNet, MangledRequests_NeverHurtTheKernel) { expect_all_ok(run_sim("fuzz")); }

TEST(ContainerNet, PhysicalNic_ReturnsToTheInitialNamespace) {
  const GuestRun r = run_sim("phys");
  expect_all_ok(r);
  EXPECT_TRUE(has(r, "initial namespace:\n  1: lo UP LOWER_UP\n  2: eth0 UP LOWER_UP\n")) << r.out;
  EXPECT_TRUE(has(r, "initial namespace now:\n  1: lo UP LOWER_UP\n  3: h0 DOWN\n")) << r.out;
  EXPECT_TRUE(has(r, "inside:\n  1: lo DOWN\n  2: c0 DOWN\n  3: eth0 DOWN\n")) << r.out;
  // eth0 had index 3 in there (2 was c0's); 3 is still h0's out here while
  // physical devices move back, so it takes the next free one.
  EXPECT_TRUE(has(r, "after the namespace is freed:\n  1: lo UP LOWER_UP\n  4: eth0 DOWN\n")) << r.out;
}

TEST(ContainerNet, HostVeth_ContainerEth0ReachesTheHostEnd) {
  NetHost h;
  const uint32_t c = h.spawn({"net_veth", "host"});
  ASSERT_EQ(h.kernel.run(kBudget), HostStop::Idle) << h.out;  // unshared, waiting on stdin
  std::string host_name;
  ASSERT_EQ(h.kernel.net_attach_veth(c, host_name), 0);
  EXPECT_EQ(host_name, "veth0");
  std::string again;
  EXPECT_EQ(h.kernel.net_attach_veth(c, again), -17);   // EEXIST: it has an eth0 already
  EXPECT_EQ(h.kernel.net_attach_veth(999, again), -3);  // ESRCH
  const NetDevice* end = h.kernel.initial_net().find(host_name);
  ASSERT_NE(end, nullptr);
  EXPECT_TRUE(end->up);
  const uint32_t l = h.spawn({"net_veth", "host", "listen", host_name});
  ASSERT_EQ(h.kernel.run(kBudget), HostStop::Idle) << h.out;
  h.kernel.queue_input("g");
  EXPECT_EQ(h.kernel.run(kBudget), HostStop::AllExited) << h.out;
  EXPECT_EQ(h.kernel.exit_status(c), 0) << h.out;
  EXPECT_EQ(h.kernel.exit_status(l), 0) << h.out;
  EXPECT_NE(h.out.find("container:\n  1: lo DOWN\n  2: eth0 UP LOWER_UP\n"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("ok the host's end receives the container's frame\n"), std::string::npos) << h.out;
  // The container's namespace is gone with it, and so is the host's end.
  EXPECT_EQ(h.kernel.initial_net().find(host_name), nullptr);
}

// --- the same program on the host Linux -----------------------------------------------

class ContainerNetNative : public ::testing::TestWithParam<const char*> {};

TEST_P(ContainerNetNative, SameOutputAsLinux) {
  const GuestRun sim = run_sim(GetParam());
  if (const std::string why = expect_same_output_as_linux(VS_CT_NET_VETH, {GetParam()}, sim.out); !why.empty())
    GTEST_SKIP() << why;
}

INSTANTIATE_TEST_SUITE_P(Checklist9, ContainerNetNative, ::testing::Values("fresh", "veth", "hold", "bad", "calls"),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

}  // namespace
}  // namespace vs::container_sim
