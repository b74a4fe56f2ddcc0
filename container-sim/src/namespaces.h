// Namespaces and cgroups as the kernel model holds them (namespaces(7),
// pid_namespaces(7); ../shared/SEMANTICS.md §1.1-1.7, Part 1b).
//
// Built so far: every process belongs to one of each namespace type and to
// one cgroup; only the initial namespaces and the root cgroup exist, so the
// behaviour is that of a plain Linux without containers. What is real
// already is the shape the next steps need:
//   - a PID namespace has a parent and a level, and a process gets one PID in
//     its own namespace and in each ancestor (Process::pids, level 0 = the
//     root namespace); kill and wait4 look PIDs up in the caller's namespace;
//   - the UTS namespace holds what uname() reports;
//   - the mount namespace holds the mount tree paths are resolved in.
// Still to come (issue 6): clone/unshare/setns with CLONE_NEW*, the
// namespace-init rules (orphans, init's death, signal protection), ipc, net
// and user namespaces with content, cgroup controllers and their files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vfs.h"

namespace vs::container_sim {

struct Process;

struct PidNamespace {
  std::shared_ptr<PidNamespace> parent;  // null for the root namespace
  unsigned level = 0;                    // 0 = root; Linux allows 32 levels (MAX_PID_NS_LEVEL)
  uint32_t next_pid = 1;                 // the first process created in it is its init, PID 1
  std::map<uint32_t, Process*> members;  // PID in this namespace -> process (sorted: deterministic scans)
};

struct UtsNamespace {
  // struct new_utsname (uname(2)), 65 bytes per field including the NUL.
  std::string sysname = "virtscope", nodename = "virtscope", release = "0.1", version = "container-sim";
  std::string machine = "i386", domainname = "(none)";
};

struct MountNamespace {
  explicit MountNamespace(std::shared_ptr<Filesystem> root_fs) : mounts(std::move(root_fs)) {}
  MountTree mounts;
};

// Placeholders that only give a process something to point at until their issue steps land.
struct IpcNamespace {};
struct NetNamespace {};
struct UserNamespace {
  std::shared_ptr<UserNamespace> parent;
};

struct NamespaceSet {
  std::shared_ptr<PidNamespace> pid;  // where the process's own PID lives (and, for now, its children's)
  std::shared_ptr<MountNamespace> mnt;
  std::shared_ptr<UtsNamespace> uts;
  std::shared_ptr<IpcNamespace> ipc;
  std::shared_ptr<NetNamespace> net;
  std::shared_ptr<UserNamespace> user;
};

// A node of the cgroup v2 hierarchy (cgroup-v2.rst): the controllers' state
// and interface files come with the cgroup step of issue 6.
struct Cgroup {
  std::string name;  // "" for the root
  Cgroup* parent = nullptr;
  std::vector<std::unique_ptr<Cgroup>> children;
  uint32_t processes = 0;  // members (cgroup.procs); pids.current will be this subtree's sum
};

}  // namespace vs::container_sim
