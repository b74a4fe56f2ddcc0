// Namespaces as the kernel model holds them (namespaces(7),
// pid_namespaces(7), user_namespaces(7); ../shared/SEMANTICS.md §1.1-1.7).
// cgroups are in cgroup.h.
//
// Every process points at one namespace of each type (NamespaceSet). A
// namespace is shared by the processes that point at it and lives as long
// as one of them (or an open /proc/PID/ns/* descriptor) does: shared_ptr
// is exactly Linux's reference count on a namespace. Each one has an id,
// the inode number /proc/PID/ns/* shows ("uts:[4026531838]"), and the user
// namespace that owns it: privilege over a namespace is always "a
// capability in its owning user namespace" (SEMANTICS.md §1.1, last bullets).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net.h"
#include "vfs.h"

namespace vs::container_sim {

struct Process;
struct UserNamespace;

// The CLONE_NEW* flag values (include/uapi/linux/sched.h; SEMANTICS.md §1.1
// table). They double as setns(2)'s nstype and as the NamespaceCreate
// event's `type` field.
enum NsType : uint32_t {
  kNsMnt = 0x00020000,
  kNsUts = 0x04000000,
  kNsIpc = 0x08000000,
  kNsUser = 0x10000000,
  kNsPid = 0x20000000,
  kNsNet = 0x40000000,
};
const char* ns_type_name(uint32_t type);  // "mnt", "uts", ... as in /proc/PID/ns

struct NamespaceBase {
  uint64_t id = 0;                     // the nsfs inode number
  std::shared_ptr<UserNamespace> owner;  // null only for the initial user namespace
};

// §1.2: a tree of PID number spaces, each process visible in its own and
// every ancestor namespace with one PID per level.
struct PidNamespace : NamespaceBase {
  std::shared_ptr<PidNamespace> parent;  // null for the root namespace
  unsigned level = 0;                    // 0 = root; levels above 32 are refused (MAX_PID_NS_LEVEL)
  uint32_t next_pid = 1;                 // the first process created in it is its init, PID 1
  bool init_gone = false;                // init has exited: fork into it fails with ENOMEM (§1.2)
  std::map<uint32_t, Process*> members;  // PID in this namespace -> process (sorted: deterministic scans)
};

// §1.4: what uname() reports (struct new_utsname, 65 bytes per field).
struct UtsNamespace : NamespaceBase {
  std::string sysname = "virtscope", nodename = "virtscope", release = "0.1", version = "container-sim";
  std::string machine = "i386", domainname = "(none)";
};

// §1.3: a private copy of the mount tree; processes' root and cwd point into it.
struct MountNamespace : NamespaceBase {
  explicit MountNamespace(std::shared_ptr<Filesystem> root_fs) : mounts(std::move(root_fs)) {}
  explicit MountNamespace(MountTree tree) : mounts(std::move(tree)) {}
  MountTree mounts;
  // The namespace this one was copied from, kept while the copier's root or
  // cwd still lies in one of its lazily detached mounts (not copied).
  std::shared_ptr<MountNamespace> keeps_alive;
};

// §1.4: System V IPC identifiers. Only the key -> identifier tables are
// modelled (msgget, shmget): enough to show that one namespace cannot find
// another's objects; no messages or shared pages yet.
struct IpcNamespace : NamespaceBase {
  std::map<int32_t, int32_t> msg_keys, shm_keys;  // key -> id (IPC_PRIVATE objects are not listed)
  int32_t next_msg = 0, next_shm = 0;
};

// §1.5: a network namespace's devices (net.h): a new one holds only `lo`,
// DOWN, with no routes; veth pairs join namespaces; the initial one also
// has the physical NIC eth0, where physical devices return when their
// namespace is freed.
struct NetNamespace : NamespaceBase, NetStack {
  NetNamespace() : NetStack(true) {}  // the initial namespace (kernel.cpp): lo and eth0
  explicit NetNamespace(std::weak_ptr<NetNamespace> init) : NetStack(false) { initial = std::move(init); }
};

// §1.6: one extent of a uid_map or gid_map line: `first` inside maps to
// `lower` in the parent namespace's ids, which are stored already
// translated to the root namespace's (kernel) ids.
struct IdExtent {
  uint32_t first = 0, lower = 0, count = 0;
};
struct IdMap {
  std::vector<IdExtent> extents;
  bool written = false;  // the file can be written once (a second write: EPERM)
};
struct UserNamespace : NamespaceBase {
  std::shared_ptr<UserNamespace> parent;  // null for the initial namespace
  unsigned level = 0;                     // nesting, 32 at most as for PID namespaces
  uint32_t owner_uid = 0, owner_gid = 0;  // the creator's effective ids (kernel ids)
  IdMap uid_map, gid_map;                 // the initial namespace maps everything to itself
};

// Kernel id <-> id inside a user namespace; kOverflowId when unmapped (§1.6).
constexpr uint32_t kOverflowId = 65534;
constexpr uint32_t kNoId = 0xFFFFFFFFu;
uint32_t id_from_kernel(const UserNamespace& ns, bool gid, uint32_t kid);  // kNoId: unmapped
uint32_t id_to_kernel(const UserNamespace& ns, bool gid, uint32_t id);     // kNoId: unmapped

struct NamespaceSet {
  std::shared_ptr<PidNamespace> pid;               // where the process's own PIDs live
  std::shared_ptr<PidNamespace> pid_for_children;  // where its children's go (differs after unshare/setns)
  std::shared_ptr<MountNamespace> mnt;
  std::shared_ptr<UtsNamespace> uts;
  std::shared_ptr<IpcNamespace> ipc;
  std::shared_ptr<NetNamespace> net;
  std::shared_ptr<UserNamespace> user;
};

// A namespace held by an open /proc/PID/ns/* descriptor (setns's argument).
struct NsHandle {
  uint32_t type = 0;  // NsType
  std::shared_ptr<NamespaceBase> ns;
};

}  // namespace vs::container_sim
