// The container runtime (container-sim/src/runtime.cpp; docs/container-sim/
// runtime.md): a container is namespaces + a cgroup + an overlay root, made
// by the same kernel code a process reaches through clone, mount and the
// cgroup files. Observed from inside (tests/container/guest/inside.c) and
// from the host API; and the density measurement of issue 6.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_helpers.h"
#include "virtscope/container_sim/density.h"

namespace vs::container_sim {
namespace {

// A one-layer image: /bin/inside and /bin/sh, plus /data/readme.
container_image::ChangeSet image_layer() {
  auto file = [](std::string path, std::vector<uint8_t> bytes) {
    return container_image::LayerEntry{std::move(path), container_image::EntryKind::File, 0755, std::move(bytes)};
  };
  container_image::ChangeSet l;
  l.push_back({"bin", container_image::EntryKind::Directory, 0755, {}});
  l.push_back(file("bin/inside", read_bytes(VS_CT_INSIDE)));
  l.push_back(file("bin/sh", read_bytes(VS_USER_SH)));
  l.push_back({"data", container_image::EntryKind::Directory, 0755, {}});
  l.push_back(file("data/readme", {'h', 'i', '\n'}));
  return l;
}

ContainerSpec spec(const std::string& name, std::vector<std::string> argv = {"/bin/inside"}) {
  ContainerSpec s;
  s.name = name;
  s.argv = std::move(argv);
  s.layers = {image_layer()};
  return s;
}

TEST(ContainerRuntime, InitIsPid1WithItsOwnHostnameRootAndProc) {
  TestHost t;
  std::string error;
  ContainerSpec s = spec("web");
  s.hostname = "webhost";
  s.cwd = "/data";
  const uint32_t pid = t.host->create_container(s, error);
  ASSERT_NE(pid, 0u) << error;
  ASSERT_EQ(t.host->run(100'000'000), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 0);
  // PID 1 with no parent in its namespace; its own hostname; its image as
  // "/" (not the host's /bin with every workload); /proc shows only itself.
  EXPECT_NE(t.console.find("pid 1 ppid 0\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("hostname webhost\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("uid 0\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("cwd /data\n"), std::string::npos) << t.console;
  // overlayfs readdir: the upper layer (where /proc was made) first, then the image.
  EXPECT_NE(t.console.find("/: proc bin data\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("/proc: 1 self sysrq-trigger\n"), std::string::npos) << t.console;
  // The host sees it by its root-namespace PID, in its own cgroup.
  const auto cs = t.host->containers();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].cgroup, "/virtscope/web");
  EXPECT_EQ(cs[0].pid, pid);
  EXPECT_FALSE(cs[0].running);
}

TEST(ContainerRuntime, Network_LoOnlyByDefault_EthZeroWithAVethPair) {
  TestHost t;
  std::string error;
  ASSERT_NE(t.host->create_container(spec("alone"), error), 0u) << error;
  ContainerSpec wired = spec("wired");
  wired.veth = true;
  ASSERT_NE(t.host->create_container(wired, error), 0u) << error;
  t.host->run(100'000'000);
  EXPECT_NE(t.console.find("hostname alone\nuid 0\ncwd /\n/: proc bin data\n/proc: 1 self sysrq-trigger\nnet: lo\n"),
            std::string::npos)
      << t.console;
  EXPECT_NE(t.console.find("hostname wired\nuid 0\ncwd /\n/: proc bin data\n/proc: 1 self sysrq-trigger\nnet: lo eth0\n"),
            std::string::npos)
      << t.console;
  for (const ContainerInfo& c : t.host->containers())
    EXPECT_EQ(c.host_veth.empty(), c.name == "alone") << c.name << " " << c.host_veth;
  ContainerSpec both = spec("both");
  both.veth = both.host_net = true;
  EXPECT_EQ(t.host->create_container(both, error), 0u);
  EXPECT_NE(error.find("own network namespace"), std::string::npos) << error;
}

TEST(ContainerRuntime, HostNamespaces_AreInheritedTheOthersCreated) {  // item 27, second half
  // OCI config-linux.md: a namespace type left out of linux.namespaces is
  // the runtime's (here the host's); a listed one without a path is new.
  TestHost t;
  std::string error;
  ASSERT_NE(t.spawn({"sh"}), 0u);  // a host process, PID 1 of the root namespace (waits for input)
  ContainerSpec s = spec("joined");
  s.host_pid = s.host_uts = true;
  ASSERT_NE(t.host->create_container(s, error), 0u) << error;
  t.host->run(100'000'000);
  EXPECT_NE(t.console.find("pid 2 ppid 0\nhostname virtscope\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("/proc: 1 2 self sysrq-trigger\n"), std::string::npos) << t.console;
  // Not listed as host's, so made new: its mount namespace (the image at /)
  // and its network namespace (lo only).
  EXPECT_NE(t.console.find("/: proc bin data\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("net: lo\n"), std::string::npos) << t.console;
  ContainerSpec named = spec("named");
  named.host_uts = true;
  named.hostname = "mine";
  EXPECT_EQ(t.host->create_container(named, error), 0u);
  EXPECT_NE(error.find("own UTS namespace"), std::string::npos) << error;
}

TEST(ContainerSentry, GuestCallsNeverReachTheHost) {  // item 28
  // A real host process the guest will try to kill by its host PID.
  const pid_t victim = fork();
  ASSERT_GE(victim, 0);
  if (victim == 0) {
    pause();
    _exit(0);
  }
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/sentry", read_bytes(VS_CT_SENTRY), error)) << error;
  const uint32_t pid = t.spawn({"sentry", std::to_string(victim)});
  t.host->run(100'000'000);
  EXPECT_EQ(t.host->exit_status(pid), 0) << t.console;
  EXPECT_NE(t.console.find("kill(host pid, SIGKILL): ESRCH\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("open /etc/passwd: ENOENT\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("getpid: 1\n"), std::string::npos) << t.console;  // the simulated table's
  int status = 0;
  EXPECT_EQ(waitpid(victim, &status, WNOHANG), 0);  // still alive: the kill never left the simulator
  kill(victim, SIGKILL);
  waitpid(victim, &status, 0);
}

TEST(ContainerRuntime, UserNamespace_RootInsideIsAnUnprivilegedIdOutside) {
  TestHost t;
  std::string error;
  ContainerSpec s = spec("rootless", {"/bin/sh"});
  s.user_namespace = true;
  const uint32_t shell = t.host->create_container(s, error);
  ASSERT_NE(shell, 0u) << error;
  EXPECT_EQ(t.host->run(100'000'000), HostStop::Idle);
  bool seen = false;
  for (const ProcessInfo& p : t.host->processes()) {
    if (p.pid != shell) continue;
    seen = true;
    EXPECT_EQ(p.uid, 100000u);  // the host's view
  }
  EXPECT_TRUE(seen);
  ASSERT_NE(t.host->exec_in_container("rootless", {"/bin/inside"}, error), 0u) << error;
  t.host->run(100'000'000);
  EXPECT_NE(t.console.find("uid 0\n"), std::string::npos) << t.console;  // its own view
}

TEST(ContainerRuntime, Limits_AreWrittenToItsCgroupAndABadOneFailsWithLinuxsReason) {
  TestHost t;
  std::string error, text;
  ContainerSpec s = spec("limited", {"/bin/sh"});
  s.limits = {{"pids.max", "5"}};
  ASSERT_NE(t.host->create_container(s, error), 0u) << error;
  ASSERT_TRUE(t.host->cgroup_read("/virtscope/limited/pids.max", text, error)) << error;
  EXPECT_EQ(text, "5\n");
  ContainerSpec bad = spec("bad");
  bad.limits = {{"pids.max", "5"}, {"pids.max", "-3"}};
  EXPECT_EQ(t.host->create_container(bad, error), 0u);
  EXPECT_EQ(error, "pids.max \"-3\": Invalid argument");
  EXPECT_FALSE(t.host->cgroup_read("/virtscope/bad/pids.max", text, error));  // undone
  EXPECT_EQ(t.host->containers().size(), 1u);
}

TEST(ContainerRuntime, BadSpecs_AreRefusedWithAReason) {
  TestHost t;
  std::string error;
  EXPECT_EQ(t.host->create_container(spec("no/slash"), error), 0u);
  EXPECT_NE(error.find("invalid container name"), std::string::npos) << error;
  EXPECT_EQ(t.host->create_container(spec("x", {}), error), 0u);
  EXPECT_NE(error.find("no command"), std::string::npos) << error;
  // The host's /bin/hello (from the initrd) is not in the container's root.
  EXPECT_EQ(t.host->create_container(spec("y", {"hello"}), error), 0u);
  EXPECT_NE(error.find("/bin/hello"), std::string::npos) << error;
  ASSERT_NE(t.host->create_container(spec("z"), error), 0u) << error;
  EXPECT_EQ(t.host->create_container(spec("z"), error), 0u);
  EXPECT_NE(error.find("already in use"), std::string::npos) << error;
}

TEST(ContainerRuntime, Exec_JoinsTheRunningContainersNamespacesAndCgroup) {
  TestHost t;
  std::string error;
  const uint32_t shell = t.host->create_container(spec("box", {"/bin/sh"}), error);  // waits for input
  ASSERT_NE(shell, 0u) << error;
  EXPECT_EQ(t.host->run(10'000'000), HostStop::Idle);
  const uint32_t pid = t.host->exec_in_container("box", {"/bin/inside"}, error);
  ASSERT_NE(pid, 0u) << error;
  t.host->run(10'000'000);
  EXPECT_EQ(t.host->exit_status(pid), 0);
  // The second process of the namespace, parented by nobody there.
  EXPECT_NE(t.console.find("pid 2 ppid 0\nhostname box\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("/proc: 1 2 self"), std::string::npos) << t.console;
  bool in_cgroup = false;
  for (const ProcessInfo& p : t.host->processes()) in_cgroup |= p.pid == shell && p.cgroup == "/virtscope/box";
  EXPECT_TRUE(in_cgroup);
  EXPECT_FALSE(t.host->remove_container("box", error));  // its init still runs
  EXPECT_EQ(t.host->exec_in_container("nobox", {"/bin/inside"}, error), 0u);
  EXPECT_NE(error.find("no such container"), std::string::npos);
}

TEST(ContainerRuntime, LayersWithIds_AreUnpackedOnceAndShared_WritesStayInEachUpper) {
  TestHost t;
  std::string error;
  ContainerSpec a = spec("a", {"/bin/sh"}), b = spec("b", {"/bin/sh"}), c = spec("c", {"/bin/sh"});
  a.layer_ids = b.layer_ids = {"sha256:one"};
  ASSERT_NE(t.host->create_container(a, error), 0u) << error;
  ASSERT_NE(t.host->create_container(b, error), 0u) << error;
  ASSERT_NE(t.host->create_container(c, error), 0u) << error;  // no ids: its own copy
  EXPECT_EQ(t.host->counters().layers_unpacked, 2u);
  EXPECT_EQ(t.host->counters().layers_shared, 1u);
  // Each container still has its own upper layer over the shared lower.
  t.host->run(10'000'000);
  container_image::ChangeSet ca, cb;
  ASSERT_TRUE(t.host->container_changes("a", ca, error)) << error;
  ASSERT_TRUE(t.host->container_changes("b", cb, error)) << error;
  // Each made only /proc, in its own upper; the shared lower's /bin/sh is in neither.
  for (const container_image::ChangeSet* changes : {&ca, &cb}) {
    ASSERT_EQ(changes->size(), 1u);
    EXPECT_EQ(changes->front().path, "proc");
    EXPECT_EQ(changes->front().kind, container_image::EntryKind::Directory);
  }
  ContainerSpec bad = spec("bad");
  bad.layer_ids = {"sha256:one", "sha256:two"};
  EXPECT_EQ(t.host->create_container(bad, error), 0u);
  EXPECT_NE(error.find("layer ids"), std::string::npos) << error;
}

TEST(ContainerRuntime, RemoveAfterExit_DropsTheRecordAndTheCgroup) {
  TestHost t;
  std::string error, text;
  ASSERT_NE(t.host->create_container(spec("gone"), error), 0u) << error;
  t.host->run(100'000'000);
  ASSERT_TRUE(t.host->remove_container("gone", error)) << error;
  EXPECT_TRUE(t.host->containers().empty());
  EXPECT_FALSE(t.host->cgroup_read("/virtscope/gone/cgroup.procs", text, error));
}

TEST(ContainerDensity, HundredShells_StartForAFewHundredInstructionsAndTenPagesEach) {
  DensityFigures f;
  std::string error;
  ASSERT_TRUE(measure_container_density(100, read_bytes(VS_USER_SH), 64u << 20, f, error)) << error;
  EXPECT_EQ(f.containers, 100u);
  // Each shell prints its prompt and blocks in read: a few hundred user
  // instructions and two system calls; the teaching kernel's boot to the
  // same prompt is about two million (bench containers prints both).
  EXPECT_EQ(f.syscalls, 200u);
  EXPECT_GT(f.instructions_per_container(), 50.0);
  EXPECT_LT(f.instructions_per_container(), 2000.0);
  // Page directory, page tables, text, data and stack pages.
  EXPECT_GT(f.bytes_per_container(), 4.0 * 4096);
  EXPECT_LT(f.bytes_per_container(), 32.0 * 4096);
  // One image: its layer unpacked once, the other 99 containers share it.
  EXPECT_EQ(f.layers_unpacked, 1u);
  EXPECT_EQ(f.layers_shared, 99u);
  DensityFigures again;
  ASSERT_TRUE(measure_container_density(100, read_bytes(VS_USER_SH), 64u << 20, again, error)) << error;
  EXPECT_EQ(again.instructions, f.instructions);
  EXPECT_EQ(again.frames, f.frames);
}

}  // namespace
}  // namespace vs::container_sim
