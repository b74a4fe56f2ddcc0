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
//       io.max io.stat                      when the parent enables io (cgroup_io.h)
//
// Every node has an owner and a mode, checked when a file is opened and
// when cgroup.procs moves a process (delegation, docs/container-sim/cgroup-io.md).
//
// As with procfs, nodes are made on each lookup from the hierarchy
// (Inode::cgroupfs, cgroup, cgroup_file) and a file's text is made when it
// is opened; writes go to Kernel::cgroup_write, which the host's
// ContainerHost::cgroup_write calls too. Every mount of cgroup2 shows the
// same single hierarchy (one superblock), as Linux's do without cgroup
// namespaces. No cgroup namespace yet: the root is always the real root.
#pragma once

#include <map>
#include <string>

#include "cgroup.h"
#include "vfs.h"

namespace vs::container_sim {

// Who owns a node (kernel ids).
struct NodeOwner {
  uint32_t uid = 0, gid = 0;
};

class CgroupFs final : public Filesystem {
 public:
  explicit CgroupFs(CgroupHierarchy& hierarchy);
  std::shared_ptr<Inode> lookup(Inode& dir, const std::string& name, const Process* viewer) override;
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> list(Inode& dir, const Process* viewer) override;

  // Ownership (delegation, cgroup-v2.rst "Delegation"): a cgroup's
  // directory and files belong to whoever made the cgroup (cgroup_mkdir():
  // "set uid and gid of cgroup dirs and files to that of the creator"; the
  // root's to root) until chown(2) gives one of them away. `file` "" is the
  // directory. Kept here because the nodes are made anew on each lookup.
  NodeOwner owner(const Cgroup& cg, const std::string& file) const;
  void set_owner(const Cgroup& cg, const std::string& file, NodeOwner o);
  void set_creator(const Cgroup& cg, NodeOwner o);

 private:
  std::shared_ptr<Inode> node(const std::shared_ptr<Cgroup>& cg, const std::string& file, uint32_t index);
  CgroupHierarchy& hierarchy_;
  struct Owners {
    NodeOwner creator;
    std::map<std::string, NodeOwner> nodes;  // what chown changed
  };
  std::map<uint64_t, Owners> owners_;  // by cgroup id (ids are never reused); none: root's
};

}  // namespace vs::container_sim
