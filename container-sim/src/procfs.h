// procfs, the part containers need (proc(5), pid_namespaces(7) "/proc and
// PID namespaces"): an instance shows the processes of the PID namespace
// of the process that mounted it, numbered as that namespace numbers them.
//
//   /proc/                 one directory per visible PID, and self
//   /proc/PID/status       Name, State, Tgid, Pid, PPid, Uid, Gid, NStgid, NSpid
//   /proc/PID/uid_map      user_namespaces(7); writable once
//   /proc/PID/gid_map
//   /proc/PID/cgroup       "0::/a/b" (no cgroup namespaces yet: the path from the real root)
//   /proc/sysrq-trigger    write 'c' to crash the kernel (root of the initial user namespace)
//   /proc/PID/ns/TYPE      ipc mnt net pid pid_for_children user uts:
//                          readlink gives "TYPE:[ID]", open gives a handle for setns(2)
//
// Nodes are made on each lookup from the process table (Inode::proc_kind,
// proc_pid); the text of a file is made when it is opened (procfs.cpp).
#pragma once

#include <memory>

#include "namespaces.h"
#include "vfs.h"

namespace vs::container_sim {

enum ProcKind : uint32_t {
  kProcNone = 0,
  kProcRoot,
  kProcPidDir,
  kProcSelf,  // /proc/self: the viewer's PID directory (readlink gives the PID)
  kProcStatus,
  kProcUidMap,
  kProcGidMap,
  kProcCgroup,  // "0::/path": the cgroup v2 line (cgroup-v2.rst "Processes")
  kProcSysrqTrigger,  // /proc/sysrq-trigger (sysrq.cpp)
  kProcNsDir,
  kProcNsLink,  // + index into kProcNsNames
};
constexpr const char* kProcNsNames[] = {"ipc", "mnt", "net", "pid", "pid_for_children", "user", "uts"};

class ProcFs final : public Filesystem {
 public:
  explicit ProcFs(std::shared_ptr<PidNamespace> ns);
  const std::shared_ptr<PidNamespace>& pid_ns() const { return ns_; }
  std::shared_ptr<Inode> lookup(Inode& dir, const std::string& name, const Process* viewer) override;
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> list(Inode& dir, const Process* viewer) override;

 private:
  std::shared_ptr<Inode> node(uint32_t kind, uint32_t pid, bool directory);
  std::shared_ptr<PidNamespace> ns_;
};

}  // namespace vs::container_sim
