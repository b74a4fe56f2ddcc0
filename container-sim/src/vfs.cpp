#include "vfs.h"

#include <algorithm>
#include <atomic>

#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
// Anonymous device numbers (Linux's get_anon_bdev: major 0, a fresh minor
// per superblock). Only their difference is meant to be seen; atomic, as
// hosts may run on several threads.
std::atomic<uint32_t> next_anon_dev{16};
}  // namespace

Filesystem::Filesystem(std::string type) : type_(std::move(type)), dev_(next_anon_dev++) {
  root_ = make(Inode::Type::Directory);
}

std::vector<uint8_t>& Inode::writable_data() {
  if (!data_private || !data || data.use_count() != 1) {
    auto copy = data ? std::make_shared<std::vector<uint8_t>>(*data) : std::make_shared<std::vector<uint8_t>>();
    data = copy;
    data_private = true;
    return *copy;
  }
  // Made non-const above and held by this inode alone: changing it in place
  // is what the copy was for.
  return const_cast<std::vector<uint8_t>&>(*data);
}

int Filesystem::create(Inode& dir, const std::string& name, Inode::Type type, uint32_t mode, uint32_t major,
                       uint32_t minor, std::shared_ptr<Inode>* out) {
  auto& slot = dir.entries[name];
  if (slot) return -kEEXIST;
  slot = make(type);
  slot->mode = mode & 07777;
  slot->rdev_major = major, slot->rdev_minor = minor;
  // Non-directories always have bytes (none for a device): exec and read never meet a null.
  if (type != Inode::Type::Directory) slot->data = std::make_shared<const std::vector<uint8_t>>();
  if (type == Inode::Type::Directory) slot->parent = &dir;
  if (out) *out = slot;
  return 0;
}

int Filesystem::remove(Inode& dir, const std::string& name, bool directory) {
  const auto it = dir.entries.find(name);
  if (it == dir.entries.end()) return -kENOENT;
  const bool is_dir = it->second->type == Inode::Type::Directory;
  if (directory && !is_dir) return -kENOTDIR;
  if (!directory && is_dir) return -kEISDIR;
  if (is_dir && !it->second->entries.empty()) return -kENOTEMPTY;
  dir.entries.erase(it);
  return 0;
}

// rename(2)'s checks in the order its ERRORS section and fs/namei.c make them.
int Filesystem::rename(Inode& from_dir, const std::string& from, Inode& to_dir, const std::string& to) {
  const auto src_it = from_dir.entries.find(from);
  if (src_it == from_dir.entries.end()) return -kENOENT;
  const std::shared_ptr<Inode> src = src_it->second;
  const auto dst_it = to_dir.entries.find(to);
  const std::shared_ptr<Inode> dst = dst_it == to_dir.entries.end() ? nullptr : dst_it->second;
  if (dst == src) return 0;  // the same file: nothing to do
  const bool src_dir = src->type == Inode::Type::Directory;
  if (dst) {
    const bool dst_dir = dst->type == Inode::Type::Directory;
    if (src_dir && !dst_dir) return -kENOTDIR;
    if (!src_dir && dst_dir) return -kEISDIR;
    if (dst_dir && !dst->entries.empty()) return -kENOTEMPTY;
  }
  if (src_dir)  // not into itself: newpath may not lie under oldpath
    for (const Inode* up = &to_dir; up; up = up->parent)
      if (up == src.get()) return -kEINVAL;
  from_dir.entries.erase(from);
  to_dir.entries[to] = src;
  if (src_dir) src->parent = &to_dir;
  return 0;
}

int Filesystem::open_write(Inode& dir, const std::string& name, std::shared_ptr<Inode>& out) {
  out = lookup(dir, name, nullptr);  // procfs and cgroupfs make their nodes here
  return out ? 0 : -kENOENT;
}

std::shared_ptr<Inode> Filesystem::make(Inode::Type type) {
  auto inode = std::make_shared<Inode>();
  inode->type = type;
  inode->number = next_inode_++;
  // Every non-directory has bytes, none to begin with, procfs and cgroupfs
  // nodes too: read and execve never meet a null (copy-on-write keeps the
  // shared empty vector unchanged).
  static const auto kNoBytes = std::make_shared<const std::vector<uint8_t>>();
  if (type != Inode::Type::Directory) inode->data = kNoBytes;
  return inode;
}

std::shared_ptr<Inode> Filesystem::lookup(Inode& dir, const std::string& name, const Process*) {
  const auto it = dir.entries.find(name);
  return it == dir.entries.end() ? nullptr : it->second;
}

std::vector<std::pair<std::string, std::shared_ptr<Inode>>> Filesystem::list(Inode& dir, const Process*) {
  return {dir.entries.begin(), dir.entries.end()};
}

MountTree::MountTree(std::shared_ptr<Filesystem> root_fs) : root_(std::make_unique<Mount>()) {
  root_->root = root_fs->root();
  root_->fs = std::move(root_fs);
}

MountTree::MountTree(std::unique_ptr<Mount> root) : root_(std::move(root)) {}

namespace {

// The path component at `i` (slashes before it skipped), `i` moved past it;
// "" at the end.
std::string next_component(const std::string& path, size_t& i) {
  while (i < path.size() && path[i] == '/') ++i;
  const size_t start = i;
  while (i < path.size() && path[i] != '/') ++i;
  return path.substr(start, i - start);
}

}  // namespace

std::vector<std::string> path_components(const std::string& path) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < path.size();) {
    const std::string part = next_component(path, i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
  }
  return parts;
}

namespace {

// Into whatever is mounted on `at` (the last mount there wins, as with stacked mounts).
void cross_mounts(PathRef& at) {
  for (bool crossed = true; crossed;) {
    crossed = false;
    for (auto c = at.mount->children.rbegin(); c != at.mount->children.rend(); ++c) {
      if ((*c)->mountpoint == at.inode) {
        at = PathRef{c->get(), (*c)->root};
        crossed = true;
        break;
      }
    }
  }
}

// path_resolution(7) "..": at the process's root it stays; at the root of a
// mount it first steps out to the mount point, then to its parent.
void dot_dot(PathRef& at, const PathRef& root) {
  for (;;) {
    if (at == root) return;
    if (at.inode != at.mount->root) {
      if (at.inode->parent) {
        Inode* up = at.inode->parent;
        // The parent holds us: find its shared_ptr through its own parent's
        // entries, or it is the file system's root.
        std::shared_ptr<Inode> ref;
        if (up == at.mount->root.get()) {
          ref = at.mount->root;
        } else if (up->parent) {
          for (const auto& [name, child] : up->parent->entries)
            if (child.get() == up) ref = child;
        }
        if (ref) at.inode = ref;
      }
      return;
    }
    if (!at.mount->parent) return;  // the root of the whole tree
    at = PathRef{at.mount->parent, at.mount->mountpoint};
  }
}

}  // namespace

int MountTree::resolve(const PathRef& root, const PathRef& cwd, const std::string& path, PathRef& out,
                       const Process* viewer) {
  if (path.empty()) return -kENOENT;  // path_resolution(7): an empty path is ENOENT
  PathRef at = path[0] == '/' ? root : cwd;
  size_t i = 0;
  while (i < path.size()) {
    const std::string part = next_component(path, i);
    if (part.empty() || part == ".") continue;
    if (part.size() > 255) return -kENAMETOOLONG;
    if (at.inode->type != Inode::Type::Directory) return -kENOTDIR;
    if (part == "..") {
      dot_dot(at, root);
      cross_mounts(at);
      continue;
    }
    std::shared_ptr<Inode> next = at.mount->fs->lookup(*at.inode, part, viewer);
    if (!next) return -kENOENT;
    at.inode = std::move(next);
    cross_mounts(at);
  }
  out = at;
  return 0;
}

bool MountTree::add_file(const std::string& path, std::shared_ptr<const std::vector<uint8_t>> data,
                         std::string& error) {
  const std::vector<std::string> parts = path_components(path);
  if (parts.empty()) {
    if (!data) return true;  // "/" is there already
    error = "'" + path + "' names no file";
    return false;
  }
  Filesystem& fs = *root_->fs;
  std::shared_ptr<Inode> dir = root_->root;
  const size_t dirs = data ? parts.size() - 1 : parts.size();
  for (size_t i = 0; i < dirs; ++i) {
    auto& slot = dir->entries[parts[i]];
    if (!slot) {
      slot = fs.make(Inode::Type::Directory);
      slot->parent = dir.get();
    }
    if (slot->type != Inode::Type::Directory) {
      error = "'" + parts[i] + "' in '" + path + "' is a file, not a directory";
      return false;
    }
    dir = slot;
  }
  if (!data) return true;
  auto& slot = dir->entries[parts.back()];
  if (slot && slot->type == Inode::Type::Directory) {
    error = "'" + path + "' is a directory";
    return false;
  }
  slot = fs.make(Inode::Type::Regular);
  slot->data = std::move(data);
  return true;
}

Mount* MountTree::attach(std::unique_ptr<Mount> m, const PathRef& at) {
  m->parent = at.mount;
  m->mountpoint = at.inode;
  Mount* raw = m.get();
  at.mount->children.push_back(std::move(m));
  return raw;
}

std::unique_ptr<Mount> MountTree::detach(Mount* m) {
  if (!m->parent) return nullptr;
  auto& siblings = m->parent->children;
  for (auto it = siblings.begin(); it != siblings.end(); ++it) {
    if (it->get() != m) continue;
    std::unique_ptr<Mount> out = std::move(*it);
    siblings.erase(it);
    out->parent = nullptr;
    return out;
  }
  return nullptr;
}

namespace {
std::unique_ptr<Mount> copy_mount(const Mount& m, Mount* parent, std::map<const Mount*, Mount*>& map) {
  auto c = std::make_unique<Mount>();
  c->fs = m.fs;
  c->root = m.root;
  c->parent = parent;
  c->mountpoint = m.mountpoint;
  c->read_only = m.read_only;
  map[&m] = c.get();
  for (const auto& child : m.children) c->children.push_back(copy_mount(*child, c.get(), map));
  return c;
}
}  // namespace

MountTree MountTree::copy(std::map<const Mount*, Mount*>& map) const {
  return MountTree(copy_mount(*root_, nullptr, map));
}

void MountTree::pivot(Mount* new_root, const PathRef& put_old) {
  std::unique_ptr<Mount> nr = detach(new_root);
  std::unique_ptr<Mount> old = std::move(root_);
  nr->mountpoint = nullptr;
  root_ = std::move(nr);
  attach(std::move(old), put_old);
}

bool MountTree::contains(const Mount* m) const {
  while (m && m->parent) m = m->parent;
  return m == root_.get();
}

std::string MountTree::path_of(const PathRef& at, const PathRef& root) const {
  std::vector<std::string> names;
  PathRef p = at;
  bool reached = false;
  for (int guard = 0; guard < 4096; ++guard) {
    if (p == root) {
      reached = true;
      break;
    }
    if (p.inode == p.mount->root) {
      if (!p.mount->parent) break;  // the top of the tree, and `root` was not on the way
      p = PathRef{p.mount->parent, p.mount->mountpoint};
      continue;
    }
    Inode* up = p.inode->parent;
    if (!up) break;
    std::string name;
    std::shared_ptr<Inode> ref;
    for (const auto& [n, child] : up->entries)
      if (child == p.inode) name = n;
    if (up == p.mount->root.get()) {
      ref = p.mount->root;
    } else if (up->parent) {
      for (const auto& [n, child] : up->parent->entries)
        if (child.get() == up) ref = child;
    }
    if (!ref) break;
    names.push_back(name);
    p.inode = ref;
  }
  std::string out = reached ? "" : "(unreachable)";
  for (auto it = names.rbegin(); it != names.rend(); ++it) out += "/" + *it;
  if (names.empty()) out += "/";
  return out;
}

}  // namespace vs::container_sim
