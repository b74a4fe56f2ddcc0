#include "overlayfs.h"

#include <set>

#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

// Splits `s` at unescaped `sep`; a backslash keeps the next character as it is.
std::vector<std::string> split_escaped(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s[++i];
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back() += s[i];
    }
  }
  return out;
}

constexpr size_t kMaxStack = 500;  // OVL_MAX_STACK: lower layers per mount

}  // namespace

int parse_overlay_options(const std::string& data, OverlayOptions& out) {
  out = {};
  bool have_lower = false;
  for (const std::string& opt : split_escaped(data, ',')) {
    if (opt.empty()) continue;
    const size_t eq = opt.find('=');
    const std::string key = opt.substr(0, eq), value = eq == std::string::npos ? "" : opt.substr(eq + 1);
    if (key == "lowerdir") {
      have_lower = true;
      out.lowerdirs = split_escaped(value, ':');
      for (const std::string& l : out.lowerdirs)
        if (l.empty()) return -kEINVAL;
    } else if (key == "upperdir") {
      out.upperdir = value;
    } else if (key == "workdir") {
      out.workdir = value;
    } else if (key == "userxattr" || key == "volatile" || key == "default_permissions" ||
               ((key == "redirect_dir" || key == "index" || key == "metacopy" || key == "xino" ||
                 key == "nfs_export") &&
                value == "off")) {
      // Accepted, and what the model does anyway: the features they turn
      // on (directory redirects, the inode index, metadata-only copy-up)
      // are not modelled, so only "off" is taken.
    } else {
      return -kEINVAL;  // "overlayfs: unrecognized mount option"
    }
  }
  if (!have_lower || out.lowerdirs.empty() || out.lowerdirs.size() > kMaxStack) return -kEINVAL;
  if (out.upperdir.empty() != out.workdir.empty()) return -kEINVAL;  // "missing 'workdir'" / "missing 'upperdir'"
  return 0;
}

OverlayFs::OverlayFs(std::vector<LayerDir> lowers, LayerDir upper) : Filesystem("overlay"), upper_(std::move(upper)) {
  auto node = std::make_shared<OverlayNode>();
  node->upper = upper_.dir;
  // An opaque directory at the top of a layer still hides the layers below
  // it, as anywhere else.
  for (LayerDir& l : lowers) {
    if (upper_.dir && upper_.dir->opaque) break;
    const bool opaque = l.dir->opaque;
    node->lowers.push_back(std::move(l));
    if (opaque) break;
  }
  root()->overlay = node;
  if (upper_.dir || !node->lowers.empty()) {
    const Inode& top = upper_.dir ? *upper_.dir : *node->lowers.front().dir;
    root()->mode = top.mode, root()->uid = top.uid, root()->gid = top.gid;
  }
}

std::shared_ptr<Inode> OverlayFs::lookup(Inode& dir, const std::string& name, const Process*) {
  if (!dir.overlay) return nullptr;
  const OverlayNode& node = *dir.overlay;
  std::shared_ptr<Inode> upper_dir;
  std::vector<LayerDir> lower_dirs;
  std::shared_ptr<Inode> found;  // a non-directory that hides everything below
  bool stop = false;
  if (node.upper) {
    if (std::shared_ptr<Inode> e = upper_.fs->lookup(*node.upper, name, nullptr)) {
      if (e->is_whiteout()) stop = true;
      else if (e->type != Inode::Type::Directory) found = e;
      else upper_dir = e, stop = e->opaque;
    }
  }
  for (size_t i = 0; !stop && !found && i < node.lowers.size(); ++i) {
    const LayerDir& l = node.lowers[i];
    const std::shared_ptr<Inode> e = l.fs->lookup(*l.dir, name, nullptr);
    if (!e) continue;
    if (e->is_whiteout()) break;
    if (e->type != Inode::Type::Directory) {
      // Under a directory of a higher layer a non-directory is hidden.
      if (!upper_dir && lower_dirs.empty()) found = e;
      break;
    }
    lower_dirs.push_back(LayerDir{l.fs, e});
    stop = e->opaque;
  }
  if (!upper_dir && lower_dirs.empty()) {
    dir.entries.erase(name);  // no merged directory (any more) under this name
    return found;
  }
  // A merged directory: the same Inode as last time if there was one.
  std::shared_ptr<Inode>& cached = dir.entries[name];
  if (!cached || !cached->overlay) {
    cached = make(Inode::Type::Directory);
    cached->parent = &dir;
    cached->overlay = std::make_shared<OverlayNode>();
    cached->overlay->name = name;
  }
  cached->overlay->upper = upper_dir;
  cached->overlay->lowers = std::move(lower_dirs);
  // Attributes come from the upper directory when there is one (overlayfs.rst "Directories").
  const Inode& top = upper_dir ? *upper_dir : *cached->overlay->lowers.front().dir;
  cached->mode = top.mode, cached->uid = top.uid, cached->gid = top.gid;
  return cached;
}

std::vector<std::pair<std::string, std::shared_ptr<Inode>>> OverlayFs::list(Inode& dir, const Process*) {
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> out;
  if (!dir.overlay) return out;
  const OverlayNode node = *dir.overlay;  // a copy: lookup below refreshes the cache
  std::set<std::string> seen;  // names a higher layer has decided (whiteouts included)
  std::vector<std::string> names;
  auto take = [&](const LayerDir& l) {
    for (const auto& [name, inode] : l.fs->list(*l.dir, nullptr))
      if (inode && seen.insert(name).second && !inode->is_whiteout()) names.push_back(name);
  };
  if (node.upper) take(LayerDir{upper_.fs, node.upper});
  for (const LayerDir& l : node.lowers) take(l);  // node.lowers already ends at an opaque directory
  for (const std::string& name : names)
    if (std::shared_ptr<Inode> inode = lookup(dir, name, nullptr)) out.emplace_back(name, std::move(inode));
  return out;
}

bool OverlayFs::lower_has(const OverlayNode& node, const std::string& name) const {
  for (const LayerDir& l : node.lowers)
    if (const std::shared_ptr<Inode> e = l.fs->lookup(*l.dir, name, nullptr)) return !e->is_whiteout();
  return false;
}

bool OverlayFs::in_upper(const Inode& dir, const std::string& name, const std::shared_ptr<Inode>& inode) const {
  const std::shared_ptr<Inode>& up = dir.overlay->upper;
  if (!up) return false;
  const auto it = up->entries.find(name);
  return it != up->entries.end() && it->second == inode;
}

void OverlayFs::make_whiteout(Inode& upper_dir, const std::string& name) {
  upper_dir.entries.erase(name);
  upper_.fs->create(upper_dir, name, Inode::Type::CharDevice, 0, 0, 0, nullptr);  // c--------- 0,0 as Linux makes it
  ++whiteouts_made_;
}

int OverlayFs::copy_up_dir(Inode& dir) {
  OverlayNode& node = *dir.overlay;
  if (node.upper) return 0;
  if (read_only()) return -kEROFS;
  if (!dir.parent) return -kEROFS;  // the root has upper_.dir whenever there is an upper layer
  if (const int e = copy_up_dir(*dir.parent)) return e;
  Inode& parent_upper = *dir.parent->overlay->upper;
  const Inode& lower = *node.lowers.front().dir;
  std::shared_ptr<Inode> made;
  if (const int e = upper_.fs->create(parent_upper, node.name, Inode::Type::Directory, lower.mode, 0, 0, &made))
    return e;
  made->uid = lower.uid, made->gid = lower.gid;
  node.upper = made;
  ++copy_ups_;
  return 0;
}

std::shared_ptr<Inode> OverlayFs::copy_up_file(Inode& dir, const std::string& name, const std::shared_ptr<Inode>& lower_ref) {
  const Inode& lower = *lower_ref;
  // overlayfs.rst "Non-directories": the object with its mode, then its
  // data (shared here until the first write: Inode::writable_data).
  std::shared_ptr<Inode> made = upper_.fs->make(lower.type);
  made->mode = lower.mode, made->uid = lower.uid, made->gid = lower.gid;
  made->data = lower.data;
  made->rdev_major = lower.rdev_major, made->rdev_minor = lower.rdev_minor;
  copied_[lower_ref.get()] = CopiedUp{lower_ref, made};
  dir.overlay->upper->entries[name] = made;
  ++copy_ups_;
  return made;
}

std::shared_ptr<Inode> OverlayFs::io_inode(const std::shared_ptr<Inode>& opened) {
  const auto it = copied_.find(opened.get());
  if (it == copied_.end() || it->second.lower.lock() != opened) return opened;
  std::shared_ptr<Inode> upper = it->second.upper.lock();
  return upper ? upper : opened;
}

int OverlayFs::create(Inode& dir, const std::string& name, Inode::Type type, uint32_t mode, uint32_t major,
                      uint32_t minor, std::shared_ptr<Inode>* out) {
  if (read_only()) return -kEROFS;
  if (!dir.overlay) return -kENOENT;
  if (lookup(dir, name, nullptr)) return -kEEXIST;
  if (const int e = copy_up_dir(dir)) return e;
  Inode& up = *dir.overlay->upper;
  const auto it = up.entries.find(name);
  const bool over_whiteout = it != up.entries.end() && it->second->is_whiteout();
  if (over_whiteout) up.entries.erase(it);
  std::shared_ptr<Inode> made;
  if (const int e = upper_.fs->create(up, name, type, mode, major, minor, &made)) return e;
  // A new directory where a whiteout stood must not show what the whiteout
  // hid: it is made opaque (overlayfs.rst "whiteouts and opaque directories").
  if (type == Inode::Type::Directory && over_whiteout) made->opaque = true;
  if (out) *out = type == Inode::Type::Directory ? lookup(dir, name, nullptr) : made;
  return 0;
}

int OverlayFs::remove(Inode& dir, const std::string& name, bool directory) {
  if (read_only()) return -kEROFS;
  const std::shared_ptr<Inode> target = dir.overlay ? lookup(dir, name, nullptr) : nullptr;
  if (!target) return -kENOENT;
  const bool is_dir = target->type == Inode::Type::Directory;
  if (directory && !is_dir) return -kENOTDIR;
  if (!directory && is_dir) return -kEISDIR;
  if (is_dir && !list(*target, nullptr).empty()) return -kENOTEMPTY;  // empty in the merged view is enough
  if (const int e = copy_up_dir(dir)) return e;
  Inode& up = *dir.overlay->upper;
  up.entries.erase(name);  // the upper file, or the upper directory with the whiteouts in it
  if (lower_has(*dir.overlay, name)) make_whiteout(up, name);
  dir.entries.erase(name);
  return 0;
}

int OverlayFs::rename(Inode& from_dir, const std::string& from, Inode& to_dir, const std::string& to) {
  if (read_only()) return -kEROFS;
  if (!from_dir.overlay || !to_dir.overlay) return -kENOENT;
  const std::shared_ptr<Inode> src = lookup(from_dir, from, nullptr);
  if (!src) return -kENOENT;
  const std::shared_ptr<Inode> dst = lookup(to_dir, to, nullptr);
  if (dst == src) return 0;
  const bool src_dir = src->type == Inode::Type::Directory;
  if (dst) {
    const bool dst_dir = dst->type == Inode::Type::Directory;
    if (src_dir && !dst_dir) return -kENOTDIR;
    if (!src_dir && dst_dir) return -kEISDIR;
  }
  // SEMANTICS.md §4.2, checklist 26: a directory with a lower layer cannot
  // move (it would take its lower contents along), so rename says EXDEV and
  // tools such as mv fall back to copying.
  if (src_dir && !src->overlay->lowers.empty()) return -kEXDEV;
  if (dst && dst->type == Inode::Type::Directory && !list(*dst, nullptr).empty()) return -kENOTEMPTY;
  if (src_dir)
    for (const Inode* up = &to_dir; up; up = up->parent)
      if (up == src.get()) return -kEINVAL;
  if (const int e = copy_up_dir(from_dir)) return e;
  if (const int e = copy_up_dir(to_dir)) return e;
  std::shared_ptr<Inode> moved;
  if (src_dir) moved = src->overlay->upper;  // an upper-only directory
  else moved = in_upper(from_dir, from, src) ? src : copy_up_file(from_dir, from, src);
  Inode& from_up = *from_dir.overlay->upper;
  Inode& to_up = *to_dir.overlay->upper;
  from_up.entries.erase(from);
  if (lower_has(*from_dir.overlay, from)) make_whiteout(from_up, from);
  to_up.entries[to] = moved;  // over the upper target or its whiteout
  if (src_dir) {
    moved->parent = &to_up;
    // Over a name the lower layers have, the directory must hide their
    // directory of that name, as mkdir over a whiteout does.
    if (lower_has(*to_dir.overlay, to)) moved->opaque = true;
  }
  from_dir.entries.erase(from);
  to_dir.entries.erase(to);
  return 0;
}

int OverlayFs::open_write(Inode& dir, const std::string& name, std::shared_ptr<Inode>& out) {
  const std::shared_ptr<Inode> target = dir.overlay ? lookup(dir, name, nullptr) : nullptr;
  if (!target) return -kENOENT;
  if (in_upper(dir, name, target)) {
    out = target;
    return 0;
  }
  if (read_only()) return -kEROFS;
  if (target->type == Inode::Type::Directory) {  // chmod, chown: the upper directory, copied up
    if (const int e = copy_up_dir(*target)) return e;
    out = target->overlay->upper;
    return 0;
  }
  if (const int e = copy_up_dir(dir)) return e;
  out = copy_up_file(dir, name, target);
  return 0;
}

}  // namespace vs::container_sim
