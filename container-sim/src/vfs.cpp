#include "vfs.h"

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

MountTree::MountTree(std::shared_ptr<Filesystem> root_fs) : root_(std::make_unique<Mount>()) {
  root_->root = root_fs->root();
  root_->fs = std::move(root_fs);
}

std::vector<std::string> path_components(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    const std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j;
  }
  return parts;
}

int MountTree::resolve(const std::string& path, Resolved& out) {
  if (path.empty()) return -kENOENT;  // path_resolution(7): an empty path is ENOENT
  Mount* mount = root_.get();
  std::shared_ptr<Inode> at = mount->root;
  for (const std::string& part : path_components(path)) {
    if (part.size() > 255) return -kENAMETOOLONG;
    if (at->type != Inode::Type::Directory) return -kENOTDIR;
    const auto it = at->entries.find(part);
    if (it == at->entries.end()) return -kENOENT;
    at = it->second;
    // Crossing into a file system mounted on this directory (the last one
    // mounted there wins, as with stacked mounts).
    for (bool crossed = true; crossed;) {
      crossed = false;
      for (auto c = mount->children.rbegin(); c != mount->children.rend(); ++c) {
        if ((*c)->mountpoint == at) {
          mount = c->get();
          at = mount->root;
          crossed = true;
          break;
        }
      }
    }
  }
  out = Resolved{mount, at};
  return 0;
}

bool MountTree::add_file(const std::string& path, std::shared_ptr<const std::vector<uint8_t>> data,
                         std::string& error) {
  const std::vector<std::string> parts = path_components(path);
  if (parts.empty()) {
    error = "'" + path + "' names no file";
    return false;
  }
  Filesystem& fs = *root_->fs;
  std::shared_ptr<Inode> dir = root_->root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto& slot = dir->entries[parts[i]];
    if (!slot) slot = fs.make(Inode::Type::Directory);
    if (slot->type != Inode::Type::Directory) {
      error = "'" + parts[i] + "' in '" + path + "' is a file, not a directory";
      return false;
    }
    dir = slot;
  }
  auto& slot = dir->entries[parts.back()];
  if (slot && slot->type == Inode::Type::Directory) {
    error = "'" + path + "' is a directory";
    return false;
  }
  slot = fs.make(Inode::Type::Regular);
  slot->data = std::move(data);
  return true;
}

}  // namespace vs::container_sim
