// cgroupfs (cgroupfs.h): lookups and listings from the hierarchy, the text
// and writes of the interface files, cgroup.procs (the one file that needs
// the process table), and the host's access by path.
#include "cgroupfs.h"

#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

CgroupFs::CgroupFs(CgroupHierarchy& hierarchy) : Filesystem("cgroup2"), hierarchy_(hierarchy) {
  root()->cgroupfs = true;
  root()->cgroup = hierarchy.root();
  root()->number = hierarchy.root()->id << 8;
}

std::shared_ptr<Inode> CgroupFs::node(const std::shared_ptr<Cgroup>& cg, const std::string& file, uint32_t index) {
  if (file.empty() && cg->is_root()) return root();
  auto n = make(file.empty() ? Inode::Type::Directory : Inode::Type::Regular);
  n->number = (cg->id << 8) | index;  // stable across lookups
  n->cgroupfs = true;
  n->cgroup = cg;
  n->cgroup_file = file;
  // Linux's modes: directories 0755, files 0644 when writable, else 0444.
  const bool writable = hierarchy_.writable(file);
  n->mode = file.empty() ? 0755 : writable ? 0644 : 0444;
  return n;
}

std::shared_ptr<Inode> CgroupFs::lookup(Inode& dir, const std::string& name, const Process*) {
  const std::shared_ptr<Cgroup> cg = dir.cgroup.lock();
  if (!cg || cg->removed || !dir.cgroup_file.empty()) return nullptr;
  const auto child = cg->children.find(name);
  if (child != cg->children.end()) return node(child->second, "", 0);
  const std::vector<std::string> files = hierarchy_.files(*cg);
  for (uint32_t i = 0; i < files.size(); ++i)
    if (files[i] == name) return node(cg, name, i + 1);
  return nullptr;
}

std::vector<std::pair<std::string, std::shared_ptr<Inode>>> CgroupFs::list(Inode& dir, const Process* viewer) {
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> out;
  const std::shared_ptr<Cgroup> cg = dir.cgroup.lock();
  if (!cg || cg->removed) return out;
  std::vector<std::string> names = hierarchy_.files(*cg);
  for (const auto& [name, child] : cg->children) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) out.emplace_back(n, lookup(dir, n, viewer));
  return out;
}

std::shared_ptr<Filesystem> Kernel::cgroupfs() {
  if (!cgroupfs_) cgroupfs_ = std::make_shared<CgroupFs>(cgroups_);
  return cgroupfs_;
}

int Kernel::cgroup_text(const Process* viewer, const Cgroup& cg, const std::string& file, std::string& out) const {
  if (cg.removed) return -kENOENT;
  if (file != "cgroup.procs") return cgroups_.read_file(cg, file, out) ? 0 : -kENOENT;
  // cgroup.procs: the live members (zombies are not listed, §2.1), by
  // their PIDs in the reader's PID namespace; members the reader cannot
  // name are left out (cgroup-v2.rst "Processes"). Sorted here, for
  // determinism; Linux prints them in its task-list order.
  std::vector<uint32_t> pids;
  for (const auto& s : slots_) {
    if (!s || s->cgroup.get() != &cg || s->state == ProcState::Zombie) continue;
    const uint32_t pid = viewer ? pid_as_seen_by(*viewer, *s) : s->pid();
    if (pid) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  out.clear();
  for (uint32_t pid : pids) out += std::to_string(pid) + "\n";
  return 0;
}

int Kernel::cgroup_procs_write(Process* writer, Cgroup& dst, const std::string& text) {
  // __cgroup_procs_write(): one PID per write, as the writer's PID
  // namespace numbers it; 0 means the writer itself.
  int64_t pid = 0;
  if (!parse_kernel_int(text, pid) || pid > INT32_MAX || pid < INT32_MIN) return -kEINVAL;
  Process* target = nullptr;
  if (pid == 0) {
    target = writer;
  } else if (pid > 0) {
    target = writer ? find(*writer, uint32_t(pid)) : process_in(*init_ns_.pid, uint32_t(pid));
  }
  if (!target || target->state == ProcState::Zombie) return -kESRCH;
  if (target->cgroup.get() == &dst) return 0;
  if (const int e = cgroups_.vet_destination(dst)) return e;  // no internal processes (§2.1)
  // (Not modelled: the delegation checks of write access to the common
  // ancestor's cgroup.procs, checklist 23 — files have no permissions yet.)
  cgroups_.move(*target->cgroup, dst);
  target->cgroup = dst.shared_from_this();
  return 0;
}

int Kernel::cgroup_write(Process* writer, Cgroup& cg, const std::string& file, const std::string& text) {
  constexpr int kENODEV = 19;
  if (cg.removed) return -kENODEV;  // kernfs: the node is gone
  const int e = file == "cgroup.procs" ? cgroup_procs_write(writer, cg, text) : cgroups_.write_file(cg, file, text);
  return e < 0 ? e : int(text.size());
}

int Kernel::cgroup_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out) {
  const std::shared_ptr<Cgroup> cg = at.inode->cgroup.lock();
  if (!cg || cg->removed) return -kENOENT;
  const bool write = (flags & kO_ACCMODE) != 0;
  // kernfs_fop_open(): opening for write needs a writable file.
  if (write && !(at.inode->mode & 0200)) return -kEACCES;
  std::string text;
  if (const int e = cgroup_text(&p, *cg, at.inode->cgroup_file, text)) return e;
  out = std::make_shared<OpenFile>(OpenFile::Kind::Cgroup);
  out->inode = at.inode;
  out->cgroup = cg;
  out->writable = write;
  out->text = std::make_shared<const std::vector<uint8_t>>(text.begin(), text.end());
  return 0;
}

std::string Kernel::cgroup_path(uint32_t pid) const {
  const Process* p = process_in(*init_ns_.pid, pid);
  return p && p->cgroup ? p->cgroup->path() : "";
}

}  // namespace vs::container_sim
