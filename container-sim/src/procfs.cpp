// procfs (procfs.h): lookups and listings from the process table, and the
// text of its files, made at open.
#include "procfs.h"

#include <cstdio>
#include <iterator>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

// /proc/net (Linux: a link to self/net) and /proc/PID/net: the network
// namespace of that process (networking part, net.h). Kinds below 256 and
// above kProcNsLink's range; proc_open() serves them before its ns test.
constexpr uint32_t kProcNetDir = 0xF0, kProcNetDev = 0xF1, kProcNetRoute = 0xF2;

namespace {
// The viewer's PID in `ns`, or 0 when the viewer is outside it (then /proc/self is dangling).
uint32_t pid_in(const PidNamespace& ns, const Process* viewer) {
  if (!viewer) return 0;
  for (const PidNamespace* n = viewer->ns.pid.get(); n; n = n->parent.get())
    if (n == &ns) return viewer->pids[ns.level];
  return 0;
}

bool parse_pid(const std::string& name, uint32_t& pid) {
  if (name.empty() || name.size() > 9 || name[0] == '0') return false;
  pid = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
    pid = pid * 10 + uint32_t(c - '0');
  }
  return true;
}
}  // namespace

ProcFs::ProcFs(std::shared_ptr<PidNamespace> ns) : Filesystem("proc"), ns_(std::move(ns)) {
  root()->proc_kind = kProcRoot;
}

std::shared_ptr<Inode> ProcFs::node(uint32_t kind, uint32_t pid, bool directory) {
  auto n = make(directory ? Inode::Type::Directory : Inode::Type::Regular);
  n->number = (uint64_t(pid) << 8) | kind;  // stable across lookups, as Linux's proc inode numbers are per pid
  n->proc_kind = kind;
  n->proc_pid = pid;
  n->mode = directory ? 0555 : 0444;
  return n;
}

std::shared_ptr<Inode> ProcFs::lookup(Inode& dir, const std::string& name, const Process* viewer) {
  switch (dir.proc_kind) {
    case kProcRoot: {
      if (name == "self") {
        const uint32_t pid = pid_in(*ns_, viewer);
        return pid ? node(kProcSelf, pid, true) : nullptr;
      }
      if (name == "net") {  // the reader's own network namespace
        const uint32_t pid = pid_in(*ns_, viewer);
        return pid ? node(kProcNetDir, pid, true) : nullptr;
      }
      if (name == "sysrq-trigger") {
        auto n = node(kProcSysrqTrigger, 0, false);
        n->mode = 0200;  // root may write it; nobody reads it
        return n;
      }
      uint32_t pid = 0;
      if (!parse_pid(name, pid) || !ns_->members.count(pid)) return nullptr;
      return node(kProcPidDir, pid, true);
    }
    case kProcPidDir:
    case kProcSelf:
      if (!ns_->members.count(dir.proc_pid)) return nullptr;  // reaped since
      if (name == "status") return node(kProcStatus, dir.proc_pid, false);
      if (name == "uid_map") return node(kProcUidMap, dir.proc_pid, false);
      if (name == "gid_map") return node(kProcGidMap, dir.proc_pid, false);
      if (name == "ns") return node(kProcNsDir, dir.proc_pid, true);
      if (name == "cgroup") return node(kProcCgroup, dir.proc_pid, false);
      if (name == "net") return node(kProcNetDir, dir.proc_pid, true);
      return nullptr;
    case kProcNetDir:
      if (!ns_->members.count(dir.proc_pid)) return nullptr;
      if (name == "dev") return node(kProcNetDev, dir.proc_pid, false);
      if (name == "route") return node(kProcNetRoute, dir.proc_pid, false);
      return nullptr;
    case kProcNsDir:
      for (uint32_t i = 0; i < std::size(kProcNsNames); ++i)
        if (name == kProcNsNames[i]) return node(kProcNsLink + i, dir.proc_pid, false);
      return nullptr;
  }
  return nullptr;
}

std::vector<std::pair<std::string, std::shared_ptr<Inode>>> ProcFs::list(Inode& dir, const Process* viewer) {
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> out;
  switch (dir.proc_kind) {
    case kProcRoot:
      // Only the processes of this instance's namespace (and its
      // descendants), by their PIDs here (§1.2 "/proc").
      for (const auto& [pid, p] : ns_->members) out.emplace_back(std::to_string(pid), node(kProcPidDir, pid, true));
      if (const uint32_t self = pid_in(*ns_, viewer)) out.emplace_back("self", node(kProcSelf, self, true));
      out.emplace_back("sysrq-trigger", lookup(dir, "sysrq-trigger", viewer));
      break;
    case kProcPidDir:
    case kProcSelf:
      for (const char* n : {"cgroup", "gid_map", "net", "ns", "status", "uid_map"}) out.emplace_back(n, lookup(dir, n, viewer));
      break;
    case kProcNetDir:
      for (const char* n : {"dev", "route"}) out.emplace_back(n, lookup(dir, n, viewer));
      break;
    case kProcNsDir:
      for (const char* n : kProcNsNames) out.emplace_back(n, lookup(dir, n, viewer));
      break;
  }
  return out;
}

Process* Kernel::process_in(const PidNamespace& ns, uint32_t pid) const {
  const auto it = ns.members.find(pid);
  return it == ns.members.end() ? nullptr : it->second;
}

namespace {
NsHandle ns_of(const Process& t, uint32_t index) {
  switch (index) {
    case 0: return {kNsIpc, t.ns.ipc};
    case 1: return {kNsMnt, t.ns.mnt};
    case 2: return {kNsNet, t.ns.net};
    case 3: return {kNsPid, t.ns.pid};
    case 4: return {kNsPid, t.ns.pid_for_children};
    case 5: return {kNsUser, t.ns.user};
    default: return {kNsUts, t.ns.uts};
  }
}
}  // namespace

int Kernel::proc_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out) {
  auto* fs = dynamic_cast<ProcFs*>(at.mount->fs.get());
  const Inode& node = *at.inode;
  if (node.proc_kind == kProcSysrqTrigger) return sysrq_open(p, at, flags, out);
  Process* t = fs ? process_in(*fs->pid_ns(), node.proc_pid) : nullptr;
  if (!t) return -kENOENT;
  const bool write = (flags & kO_ACCMODE) != 0;
  if (node.proc_kind == kProcNetDev || node.proc_kind == kProcNetRoute) {  // networking (net.cpp makes the text)
    if (write) return -kEACCES;
    const std::string net = node.proc_kind == kProcNetDev ? proc_net_dev(*t->ns.net) : proc_net_route(*t->ns.net);
    out = std::make_shared<OpenFile>(OpenFile::Kind::Proc);
    out->inode = at.inode;
    out->proc_pid_ns = fs->pid_ns();
    out->text = std::make_shared<const std::vector<uint8_t>>(net.begin(), net.end());
    return 0;
  }
  if (node.proc_kind >= kProcNsLink) {
    if (write) return -kEPERM;
    out = std::make_shared<OpenFile>(OpenFile::Kind::Namespace);
    out->ns = ns_of(*t, node.proc_kind - kProcNsLink);
    return 0;
  }
  std::string text;
  char line[160];
  const PidNamespace& ns = *fs->pid_ns();
  if (node.proc_kind == kProcStatus) {
    if (write) return -kEACCES;
    const char state = t->state == ProcState::Zombie ? 'Z' : t->state == ProcState::Blocked ? 'S' : 'R';
    const char* state_name = state == 'Z' ? "zombie" : state == 'S' ? "sleeping" : "running";
    // PPid: the parent's PID here, 0 when it is outside this namespace.
    uint32_t ppid = 0;
    if (t->parent && pid_in(ns, t->parent)) ppid = t->parent->pids[ns.level];
    const uint32_t mine = t->pids[ns.level];
    std::snprintf(line, sizeof line, "Name:\t%s\nState:\t%c (%s)\nTgid:\t%u\nPid:\t%u\nPPid:\t%u\n", t->name.c_str(),
                  state, state_name, mine, mine, ppid);
    text += line;
    // Ids as the reader's user namespace sees them (65534 when unmapped).
    std::snprintf(line, sizeof line, "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", seen_id(p, t->uid, false),
                  seen_id(p, t->euid, false), seen_id(p, t->suid, false), seen_id(p, t->euid, false),
                  seen_id(p, t->gid, true), seen_id(p, t->egid, true), seen_id(p, t->sgid, true),
                  seen_id(p, t->egid, true));
    text += line;
    // One PID per level, from this instance's namespace down (§1.2).
    std::string pids;
    for (size_t level = ns.level; level < t->pids.size(); ++level) pids += "\t" + std::to_string(t->pids[level]);
    text += "NStgid:" + pids + "\nNSpid:" + pids + "\n";
  } else if (node.proc_kind == kProcUidMap || node.proc_kind == kProcGidMap) {
    const bool gid = node.proc_kind == kProcGidMap;
    const UserNamespace& target = *t->ns.user;
    // user_namespaces(7): ID-outside as seen from the reader's namespace, or
    // from the parent when the reader is inside the target namespace.
    const UserNamespace* view = p.ns.user.get() == &target && target.parent ? target.parent.get() : p.ns.user.get();
    if (!target.parent) {
      std::snprintf(line, sizeof line, "%10u %10u %10u\n", 0u, 0u, 4294967295u);
      text += line;
    }
    for (const IdExtent& e : (gid ? target.gid_map : target.uid_map).extents) {
      const uint32_t lower = id_from_kernel(*view, gid, e.lower);
      if (lower == kNoId) continue;  // not expressible from here
      std::snprintf(line, sizeof line, "%10u %10u %10u\n", e.first, lower, e.count);
      text += line;
    }
  } else if (node.proc_kind == kProcCgroup) {
    if (write) return -kEACCES;
    // §2.1: the v2 line; " (deleted)" once its cgroup was removed (a zombie's).
    text = "0::" + (t->cgroup ? t->cgroup->path() : "/") + (t->cgroup && t->cgroup->removed ? " (deleted)" : "") + "\n";
  } else {
    return -kENOENT;
  }
  out = std::make_shared<OpenFile>(OpenFile::Kind::Proc);
  out->inode = at.inode;
  out->proc_pid_ns = fs->pid_ns();
  out->writable = write;
  out->text = std::make_shared<const std::vector<uint8_t>>(text.begin(), text.end());
  return 0;
}

int Kernel::proc_write(Process& p, OpenFile& f, const std::string& text) {
  const uint32_t kind = f.inode->proc_kind;
  if (kind == kProcSysrqTrigger) return sysrq_write(p, text);
  if (kind != kProcUidMap && kind != kProcGidMap) return -kEINVAL;
  if (f.offset != 0) return -kEINVAL;  // the whole map in one write at offset 0
  Process* t = process_in(*f.proc_pid_ns, f.inode->proc_pid);
  if (!t) return -kESRCH;
  const int r = write_id_map(p, *t, kind == kProcGidMap, text);
  return r < 0 ? r : int(text.size());
}

}  // namespace vs::container_sim
