// cgroupfs, the cgroup2 file system (`mount -t cgroup2 none /sys/fs/cgroup`;
// cgroup-v2.rst "Basic Operations"): one directory per cgroup of the
// hierarchy (cgroup.h), and in each the interface files the cgroup has.
//
//   /sys/fs/cgroup/               the root cgroup
//     cgroup.controllers          what may be enabled for the children
//     cgroup.procs                members, by PID as the reader's PID namespace numbers them
//     cgroup.subtree_control      "+pids -memory ..." (write)
//     NAME/                       a child cgroup (mkdir / rmdir)
//       cgroup.events             "populated 0|1", "frozen 0"
//       pids.max pids.current pids.events   when the parent enables pids
//
// As with procfs, nodes are made on each lookup from the hierarchy
// (Inode::cgroupfs, cgroup, cgroup_file) and a file's text is made when it
// is opened; writes go to Kernel::cgroup_write, which the host's
// ContainerHost::cgroup_write calls too. Every mount of cgroup2 shows the
// same single hierarchy (one superblock), as Linux's do without cgroup
// namespaces. No cgroup namespace yet: the root is always the real root.
#pragma once

#include "cgroup.h"
#include "vfs.h"

namespace vs::container_sim {

class CgroupFs final : public Filesystem {
 public:
  explicit CgroupFs(CgroupHierarchy& hierarchy);
  std::shared_ptr<Inode> lookup(Inode& dir, const std::string& name, const Process* viewer) override;
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> list(Inode& dir, const Process* viewer) override;

 private:
  std::shared_ptr<Inode> node(const std::shared_ptr<Cgroup>& cg, const std::string& file, uint32_t index);
  CgroupHierarchy& hierarchy_;
};

}  // namespace vs::container_sim
