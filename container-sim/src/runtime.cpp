// The container runtime (docs/container-sim/runtime.md): what runc does for
// `docker run`, done inside the kernel model with the kernel's own parts —
// the same namespaces clone(2) makes, the same cgroup files a process
// writes, the same overlayfs mount(2) makes. OCI runtime-spec config.md and
// config-linux.md name the steps (../shared/SEMANTICS.md §4.3):
//
//  1. a cgroup for the container, /virtscope/NAME, with the limits written
//     to its files in the order given (linux.resources, linux.cgroupsPath);
//  2. new namespaces: pid, mnt, uts, ipc, net, and user when asked
//     (linux.namespaces without `path`: "created"; the rest are inherited);
//  3. the root file system: an overlay of the image's layers, each unpacked
//     into a tmpfs of its own, with a fresh tmpfs as the upper layer; /proc
//     mounted over it for the new PID namespace (root, mounts); the host's
//     tree is not in the container's mount namespace at all — what
//     pivot_root(2) followed by umount of the old root leaves;
//  4. the hostname (hostname, in the new UTS namespace);
//  5. the process: argv with env and cwd (process.args, env, cwd), PID 1 of
//     its namespace, parented by the host (the runtime's shim).
//
// A failure at any step undoes the steps before it and says which limit or
// file was wrong, with Linux's reason.
#include <algorithm>
#include <cctype>

#include "kernel.h"
#include "virtscope/container_sim/container_host.h"
#include "layer_fs.h"
#include "linux_abi.h"
#include "overlayfs.h"
#include "procfs.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

constexpr const char* kParent = "virtscope";  // /sys/fs/cgroup/virtscope/NAME (docker: system.slice/docker-ID.scope)
constexpr uint32_t kContainerNamespaces = kNsPid | kNsMnt | kNsUts | kNsIpc | kNsNet;
constexpr uint32_t kRootlessBase = 100000, kRootlessCount = 65536;  // /etc/subuid's usual first range

// Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace

int Kernel::container_cgroup(const ContainerSpec& spec, std::shared_ptr<Cgroup>& out, std::string& error) {
  // Every controller on down to /virtscope, so each container's directory
  // has every interface file; the root and /virtscope hold no processes of
  // their own that would stop it (§2.1 "no internal processes").
  const std::string all = "+cpu +io +memory +pids";
  Cgroup& root = *cgroups_.root();
  if (const int e = cgroups_.write_file(root, "cgroup.subtree_control", all)) {
    error = "cgroup.subtree_control: " + errno_text(e);
    return e;
  }
  if (!cgroups_.find(kParent)) cgroups_.mkdir(root, kParent);
  Cgroup& parent = *cgroups_.find(kParent);
  if (const int e = cgroups_.write_file(parent, "cgroup.subtree_control", all)) {
    error = std::string("/") + kParent + "/cgroup.subtree_control: " + errno_text(e);
    return e;
  }
  if (cgroups_.find(std::string(kParent) + "/" + spec.name)) {
    error = "the cgroup /" + std::string(kParent) + "/" + spec.name + " exists already";
    return -kEEXIST;
  }
  if (const int e = cgroups_.mkdir(parent, spec.name)) {
    error = "mkdir /" + std::string(kParent) + "/" + spec.name + ": " + errno_text(e);
    return e;
  }
  out = cgroups_.find(std::string(kParent) + "/" + spec.name);
  for (const auto& [file, value] : spec.limits) {
    const int e = cgroup_write(nullptr, *out, file, value);
    if (e < 0) {
      error = file + " \"" + value + "\": " + errno_text(e);
      cgroups_.rmdir(*out);
      out.reset();
      return e;
    }
  }
  return 0;
}

std::shared_ptr<Filesystem> Kernel::container_rootfs(const ContainerSpec& spec, LayerDir& upper, std::string& error) {
  if (!spec.layer_ids.empty() && spec.layer_ids.size() != spec.layers.size()) {
    error = "the image has " + std::to_string(spec.layers.size()) + " layers but " +
            std::to_string(spec.layer_ids.size()) + " layer ids";
    return nullptr;
  }
  // overlayfs wants its lowers top first; the image lists them bottom first.
  // A layer is never written through an overlay (changes go to the upper
  // layer), so one unpacked copy serves every container that stacks it.
  std::vector<LayerDir> lowers;
  for (size_t i = spec.layers.size(); i-- > 0;) {
    const std::string id = spec.layer_ids.empty() ? "" : spec.layer_ids[i];
    std::shared_ptr<Filesystem> fs = id.empty() ? nullptr : lowers_[id].lock();
    if (fs) {
      ++counters_.layers_shared;
    } else {
      fs = std::make_shared<Filesystem>("tmpfs");
      if (!unpack_layer(*fs, spec.layers[i], error)) {
        error = "layer " + std::to_string(i + 1) + ": " + error;
        return nullptr;
      }
      ++counters_.layers_unpacked;
      if (!id.empty()) lowers_[id] = fs;
    }
    lowers.push_back({fs, fs->root()});
  }
  if (lowers.empty()) {  // FROM scratch with nothing added: an empty root
    auto fs = std::make_shared<Filesystem>("tmpfs");
    lowers.push_back({fs, fs->root()});
  }
  auto upper_fs = std::make_shared<Filesystem>("tmpfs");
  upper = {upper_fs, upper_fs->root()};
  return std::make_shared<OverlayFs>(std::move(lowers), upper);
}

uint32_t Kernel::create_container(const ContainerSpec& spec, std::string& error) {
  if (!valid_name(spec.name)) {
    error = "invalid container name \"" + spec.name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed";
    return 0;
  }
  if (containers_.count(spec.name)) {
    error = "the container name \"" + spec.name + "\" is already in use";
    return 0;
  }
  if (spec.argv.empty() || spec.argv[0].empty()) {
    error = "no command: the image has neither Cmd nor Entrypoint, and none was given";
    return 0;
  }
  if (!panic_.empty()) {
    error = "the kernel has panicked: " + panic_;
    return 0;
  }
  if (spec.veth && spec.host_net) {
    error = "a veth pair needs the container's own network namespace (it shares the host's)";
    return 0;
  }
  if (spec.host_uts && !spec.hostname.empty()) {
    error = "a hostname needs the container's own UTS namespace (it shares the host's)";
    return 0;
  }

  // 3 first (it can fail on a bad layer without anything to undo), then 1.
  ContainerRecord rec;
  rec.name = spec.name;
  rec.hostname = spec.host_uts ? init_ns_.uts->nodename : spec.hostname.empty() ? spec.name : spec.hostname;
  auto rootfs = container_rootfs(spec, rec.upper, error);
  if (!rootfs) return 0;
  std::shared_ptr<Cgroup> cg;
  if (container_cgroup(spec, cg, error) < 0) return 0;

  // 2. The runtime acts as root of the initial namespaces (the host).
  Process runtime;
  runtime.pids = {0};
  runtime.ns = init_ns_;
  runtime.root = runtime.cwd = init_ns_.mnt->mounts.root_ref();
  NamespaceSet set = init_ns_;
  PathRef root = runtime.root, cwd = runtime.cwd;
  uint32_t flags = kContainerNamespaces | (spec.user_namespace ? uint32_t(kNsUser) : 0u);
  if (spec.host_pid) flags &= ~uint32_t(kNsPid);
  if (spec.host_uts) flags &= ~uint32_t(kNsUts);
  if (spec.host_ipc) flags &= ~uint32_t(kNsIpc);
  if (spec.host_net) flags &= ~uint32_t(kNsNet);
  // A failure from here on undoes the process (if made) and the cgroup.
  auto undo = [&](Process* made) {
    if (made) reap(*made);
    cgroups_.rmdir(*cg);
    return 0u;
  };
  if (const int e = make_namespaces(runtime, flags, set, &root, &cwd, false)) {
    error = "cannot create namespaces: " + errno_text(e);
    return undo(nullptr);
  }
  set.pid = set.pid_for_children;
  if (spec.user_namespace) {
    // What newuidmap/newgidmap write for a rootless container: root inside
    // is kRootlessBase outside, and so on for 65536 ids (user_namespaces(7)).
    set.user->uid_map = IdMap{{IdExtent{0, kRootlessBase, kRootlessCount}}, true};
    set.user->gid_map = IdMap{{IdExtent{0, kRootlessBase, kRootlessCount}}, true};
  }
  // 3. The overlay as the mount namespace's root, /proc over it.
  set.mnt->mounts = MountTree(rootfs);
  if (!spec.host_uts) set.uts->nodename = rec.hostname;  // 4. (never the host's own name)

  // 5.
  Process* p = new_process(nullptr, set, cg);
  if (!p) {
    error = "too many processes";
    return undo(nullptr);
  }
  if (spec.user_namespace) {
    p->uid = p->euid = p->suid = kRootlessBase;
    p->gid = p->egid = p->sgid = kRootlessBase;
  }
  p->root = p->cwd = set.mnt->mounts.root_ref();
  if (!mount_container_proc(*p, error) || !enter_workdir(*p, spec.cwd, error)) return undo(p);
  if (exec_image(*p, program_path(spec.argv[0]), spec.argv, spec.env, &error) < 0) {
    error = spec.argv[0] + ": " + error;
    return undo(p);
  }
  give_console(*p);
  if (spec.veth) {
    if (const int e = net_attach_veth(p->pid(), rec.host_veth)) {
      error = "veth pair: " + errno_text(e);
      return undo(p);
    }
  }
  rec.pid = p->pid();
  rec.ns = set;
  rec.cgroup = cg;
  rec.rootfs = rootfs;
  containers_.emplace(spec.name, std::move(rec));
  if (log_.wants(trace::EventKind::ProcessStart)) log_.emit(trace::EventKind::ProcessStart, time(), p->pid(), 0, 0);
  return p->pid();
}

uint32_t Kernel::exec_in_container(const std::string& name, const std::vector<std::string>& argv,
                                   const std::vector<std::string>& envp, std::string& error) {
  // `docker exec`: runc joins the container's namespaces (setns(2) on each
  // /proc/PID/ns file) and its cgroup, then execs. The new process is not
  // a child of the container's init; in its PID namespace its parent is 0.
  const auto it = containers_.find(name);
  if (it == containers_.end()) {
    error = "no such container: " + name;
    return 0;
  }
  const ContainerRecord& rec = it->second;
  const Process* init = process_in(*init_ns_.pid, rec.pid);
  if (!init || init->state == ProcState::Zombie) {
    error = "container " + name + " is not running";
    return 0;
  }
  if (argv.empty() || argv[0].empty()) {
    error = "no command to exec";
    return 0;
  }
  Process* p = new_process(nullptr, rec.ns, rec.cgroup);
  if (!p) {
    error = "too many processes";
    return 0;
  }
  p->uid = p->euid = p->suid = init->uid;
  p->gid = p->egid = p->sgid = init->gid;
  p->root = p->cwd = init->root;
  if (exec_image(*p, program_path(argv[0]), argv, envp, &error) < 0) {
    error = argv[0] + ": " + error;
    reap(*p);
    return 0;
  }
  give_console(*p);
  if (log_.wants(trace::EventKind::ProcessStart)) log_.emit(trace::EventKind::ProcessStart, time(), p->pid(), 0, 0);
  return p->pid();
}

std::vector<ContainerInfo> Kernel::containers() const {
  std::vector<ContainerInfo> out;
  for (const auto& [name, rec] : containers_) {
    ContainerInfo info;
    info.name = name;
    info.pid = rec.pid;
    info.hostname = rec.hostname;
    info.cgroup = rec.cgroup->path();
    info.host_veth = rec.host_veth;
    const Process* init = process_in(*init_ns_.pid, rec.pid);
    info.running = init && init->state != ProcState::Zombie;
    info.exit_status = exit_status(rec.pid);
    for (const auto& s : slots_)
      if (s && s->state != ProcState::Zombie && s->cgroup == rec.cgroup) ++info.processes;
    out.push_back(std::move(info));
  }
  return out;
}

bool Kernel::container_changes(const std::string& name, container_image::ChangeSet& out, std::string& error) const {
  const auto it = containers_.find(name);
  if (it == containers_.end()) {
    error = "no such container: " + name;
    return false;
  }
  return export_upper(it->second.upper, out, error);
}

bool Kernel::remove_container(const std::string& name, std::string& error) {
  const auto it = containers_.find(name);
  if (it == containers_.end()) {
    error = "no such container: " + name;
    return false;
  }
  const Process* init = process_in(*init_ns_.pid, it->second.pid);
  if (init && init->state != ProcState::Zombie) {
    error = "container " + name + " is running: stop it first";
    return false;
  }
  if (const int e = cgroups_.rmdir(*it->second.cgroup)) {
    error = "cannot remove its cgroup " + it->second.cgroup->path() + ": " + errno_text(e);
    return false;
  }
  containers_.erase(it);
  return true;
}

// --- ContainerHost's face of it ---------------------------------------------------------

uint32_t ContainerHost::create_container(const ContainerSpec& spec, std::string& error) {
  return kernel_->create_container(spec, error);
}
uint32_t ContainerHost::exec_in_container(const std::string& name, const std::vector<std::string>& argv,
                                          std::string& error, const std::vector<std::string>& envp) {
  return kernel_->exec_in_container(name, argv, envp, error);
}
std::vector<ContainerInfo> ContainerHost::containers() const { return kernel_->containers(); }
bool ContainerHost::container_changes(const std::string& name, container_image::ChangeSet& out,
                                      std::string& error) const {
  return kernel_->container_changes(name, out, error);
}
bool ContainerHost::remove_container(const std::string& name, std::string& error) {
  return kernel_->remove_container(name, error);
}

// --- the steps' small parts ---------------------------------------------------------

bool Kernel::mount_container_proc(Process& p, std::string& error) {
  // runc mounts proc at /proc for the container's PID namespace (config.md
  // "mounts", the default list); the directory is made if the image has none.
  PathRef at;
  if (resolve(p, "/proc", at) < 0) {
    std::shared_ptr<Inode> dir;
    const PathRef root = p.root;
    if (const int e = root.mount->fs->create(*root.inode, "proc", Inode::Type::Directory, 0555, 0, 0, &dir)) {
      error = "mkdir /proc in the container's root: " + errno_text(e);
      return false;
    }
    at = PathRef{root.mount, dir};
  }
  if (at.inode->type != Inode::Type::Directory) {
    error = "/proc in the image is not a directory";
    return false;
  }
  auto m = std::make_unique<Mount>();
  m->fs = std::make_shared<ProcFs>(p.ns.pid);
  m->root = m->fs->root();
  p.ns.mnt->mounts.attach(std::move(m), at);
  return true;
}

bool Kernel::enter_workdir(Process& p, const std::string& dir, std::string& error) {
  if (dir.empty() || dir == "/") return true;
  PathRef at;
  if (const int e = resolve(p, dir, at)) {
    error = "working directory " + dir + ": " + errno_text(e);
    return false;
  }
  if (at.inode->type != Inode::Type::Directory) {
    error = "working directory " + dir + ": " + errno_text(-kENOTDIR);
    return false;
  }
  p.cwd = at;
  return true;
}

void Kernel::give_console(Process& p) {
  auto console = std::make_shared<OpenFile>(OpenFile::Kind::Console);
  p.files.fds[0] = p.files.fds[1] = p.files.fds[2] = console;
}

}  // namespace vs::container_sim
