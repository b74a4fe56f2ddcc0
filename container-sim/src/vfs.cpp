#include "vfs.h"

#include <algorithm>

#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

Filesystem::Filesystem(std::string type) : type_(std::move(type)) { root_ = make(Inode::Type::Directory); }

std::shared_ptr<Inode> Filesystem::make(Inode::Type type) {
  auto inode = std::make_shared<Inode>();
  inode->type = type;
  inode->number = next_inode_++;
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
