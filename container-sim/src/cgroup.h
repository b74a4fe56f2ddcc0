// The cgroup v2 hierarchy (Documentation/admin-guide/cgroup-v2.rst;
// ../shared/SEMANTICS.md Part 1b §2.1, §2.4): one tree of cgroups, every
// process in exactly one, and the rules that govern it — which controllers
// a cgroup may enable for its children (cgroup.subtree_control), the
// "no internal processes" constraint, migration, mkdir and rmdir — plus the
// first controller, pids.
//
// This file knows nothing of processes beyond the counters they move: the
// kernel (cgroupfs.cpp) calls attach/exit/release as processes are born,
// end and are reaped, and can_fork before a fork. The interface files are
// text made here (read_file / write_file) so that the guest's open/read/write
// and the host's ContainerHost::cgroup_read/write share one code path.
//
// Controllers: cpu, io, memory and pids, of both kinds the rules
// distinguish — *domain* controllers (io, memory), to which the
// no-internal-process rule applies, and *threaded* ones (cpu, pids), which
// may compete with processes (cgroup-v2.rst "Threaded"; kernel/cgroup/cgroup.c
// cgroup_vet_subtree_control_enable). Each controller keeps its state in a
// struct of its own header and lists its interface files in a table
// (CgroupControllerOps, Linux's struct cgroup_subsys with its cftype
// array): cgroup_pids.cpp, cgroup_cpu.cpp, cgroup_memory.cpp, cgroup_io.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cgroup_cpu.h"
#include "cgroup_io.h"
#include "cgroup_memory.h"

namespace vs::container_sim {

enum CgroupController : uint32_t { kCgCpu, kCgIo, kCgMemory, kCgPids, kCgControllerCount };
// In Linux's subsystem order (the order cgroup.controllers prints them).
constexpr const char* kCgroupControllerNames[kCgControllerCount] = {"cpu", "io", "memory", "pids"};
constexpr uint32_t kCgAllControllers = (1u << kCgControllerCount) - 1;
constexpr uint32_t kCgThreadedControllers = (1u << kCgCpu) | (1u << kCgPids);  // cgroup-v2.rst "Threaded"
// pids.max accepts 0 .. PID_MAX_LIMIT (4194304, include/linux/threads.h);
// kernel/cgroup/pids.c rejects anything >= PIDS_MAX = PID_MAX_LIMIT + 1.
constexpr int64_t kPidsMaxLimit = 4194304;
constexpr int64_t kPidsUnlimited = -1;  // "max"

struct Cgroup : std::enable_shared_from_this<Cgroup> {
  std::string name;                  // "" for the root
  uint64_t id = 0;                   // the cgroupfs directory's inode number (Linux: the kernfs id)
  Cgroup* parent = nullptr;          // null for the root
  std::shared_ptr<Cgroup> parent_ref;  // set by rmdir: a removed cgroup's zombies still charge the parent
  std::map<std::string, std::shared_ptr<Cgroup>> children;  // by name: listings come out sorted
  bool removed = false;              // rmdir'ed while zombies still pointed at it

  uint32_t subtree_control = 0;      // controllers enabled for the children (bit per CgroupController)
  uint32_t nr_live = 0;              // own members that have not exited (cgroup.procs, "has tasks")
  uint32_t nr_populated = 0;         // live members in the whole subtree (cgroup.events populated)

  // pids (§2.4). pids_current counts every process charged to the subtree:
  // charged at fork or migration, uncharged only when reaped (a zombie
  // still holds its PID), as kernel/cgroup/pids.c does.
  uint32_t pids_current = 0;
  int64_t pids_max = kPidsUnlimited;  // meaningful while the parent enables pids
  uint64_t pids_events_max = 0;       // times this cgroup's own limit made a fork fail

  CgroupCpu cpu;        // cgroup_cpu.h
  CgroupMemory memory;  // cgroup_memory.h
  CgroupIo io;          // cgroup_io.h

  bool is_root() const { return parent == nullptr; }
  // cgroup.controllers: what this cgroup may enable for its children — the
  // parent's subtree_control, or everything at the root.
  uint32_t controllers() const { return parent ? parent->subtree_control : kCgAllControllers; }
  // Is controller c on for this cgroup (its parent enables it)? Never at the root.
  bool has(CgroupController c) const { return parent && (parent->subtree_control & (1u << c)); }
  bool has_pids() const { return has(kCgPids); }
  // Its path from the hierarchy's root ("/" for the root, "/a/b" below).
  std::string path() const;
};

// One interface file of a controller (Linux's struct cftype). A file shows
// in a non-root cgroup whose parent enables its controller ("owned by the
// parent", §2.1), or in every non-root cgroup when `always` (cpu.stat: the
// core's usage figures exist even with cpu off). None show at the root
// (CFTYPE_NOT_ON_ROOT: the root has no resource-control files, §2.1).
struct CgroupFile {
  const char* name;
  // The text of the file.
  void (*read)(const Cgroup&, std::string& out);
  // One write(2) of `text`: 0 or -errno as Linux gives them; null for a
  // read-only file (mode 0444). Writes that need the process table (an
  // OOM kill after memory.max shrinks) are finished by the kernel
  // (Kernel::cgroup_write).
  int (*write)(Cgroup&, const std::string& text) = nullptr;
  bool always = false;
};

// A controller: its files, and what it keeps per cgroup (Linux's cgroup_subsys).
struct CgroupControllerOps {
  std::vector<CgroupFile> files;
  // The parent disabled the controller: its state in this cgroup is
  // destroyed (the css goes), so enabling it again starts from the defaults.
  void (*reset)(Cgroup&) = nullptr;
};
const CgroupControllerOps& cgroup_controller(CgroupController c);
const CgroupControllerOps& pids_controller();    // cgroup_pids.cpp
const CgroupControllerOps& cpu_controller();     // cgroup_cpu.cpp
const CgroupControllerOps& memory_controller();  // cgroup_memory.cpp
const CgroupControllerOps& io_controller();      // cgroup_io.cpp

class CgroupHierarchy {
 public:
  CgroupHierarchy();
  const std::shared_ptr<Cgroup>& root() const { return root_; }
  // The cgroup at `path` ("/", "/a/b", "a/b"), or null.
  std::shared_ptr<Cgroup> find(const std::string& path) const;

  // --- membership (the kernel calls these; see cgroupfs.cpp) ---
  // pids_can_fork(): 0, or -EAGAIN when the child would take some
  // ancestor-or-self over its pids.max; `over` is then the nearest such
  // cgroup, whose pids.events max has been counted.
  int can_fork(Cgroup& cg, Cgroup** over);
  void attach(Cgroup& cg);   // a new process (fork, spawn): a member, charged
  void exit(Cgroup& cg);     // a member became a zombie: no longer live
  void release(Cgroup& cg);  // a zombie was reaped: uncharged
  // cgroup_migrate_vet_dst(): may a process move into `dst`? 0 or -EBUSY.
  int vet_destination(const Cgroup& dst) const;
  // Moves a live member's counts (no limit applies: §2.4 "organisational operations").
  void move(Cgroup& from, Cgroup& to);

  // --- the tree ---
  int mkdir(Cgroup& parent, const std::string& name);  // 0, -EEXIST, -EINVAL
  int rmdir(Cgroup& cg);                                // 0, -EBUSY

  // --- interface files (not cgroup.procs: the kernel makes that one) ---
  // The files a directory shows, sorted (cgroup.procs included).
  std::vector<std::string> files(const Cgroup& cg) const;
  bool has_file(const Cgroup& cg, const std::string& name) const;
  // The text of a file; false if it has none here.
  bool read_file(const Cgroup& cg, const std::string& name, std::string& out) const;
  // A write of `text` (one write(2)): 0 or -errno as Linux gives them.
  int write_file(Cgroup& cg, const std::string& name, const std::string& text);
  // Is `name` a file a writer may open for writing (mode 0644)?
  bool writable(const std::string& name) const;

 private:
  int write_subtree_control(Cgroup& cg, const std::string& text);
  std::shared_ptr<Cgroup> root_;
  uint64_t next_id_ = 1;
};

// Linux's kstrtoll(s, 0, ...) after strstrip(): decimal, 0x hex, 0 octal,
// an optional sign; false if anything else is there.
bool parse_kernel_int(const std::string& text, int64_t& out);
std::string strip(const std::string& text);  // strstrip(): whitespace off both ends

}  // namespace vs::container_sim
