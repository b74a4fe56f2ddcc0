// The file system as the kernel model sees it: inodes in memory, file
// systems made of them, and a mount tree that joins file systems into the
// one name space a process resolves paths in (Linux's VFS in miniature;
// mount(2), path_resolution(7)).
//
// Built so far: one in-memory file system ("memfs", seeded by the host with
// the workload binaries under /bin) mounted at "/", lookups of absolute and
// relative paths ("." and ".." handled lexically: there are no symbolic links).
//
// The places for what comes next (issue 6): a MountTree belongs to a mount
// namespace (namespaces.h) and is copied by CLONE_NEWNS; mount() adds a
// child Mount over a directory inode (tmpfs, proc, bind, overlay are other
// Filesystem kinds); chroot and pivot_root change which Mount a process
// resolves "/" from (Process::root).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vs::container_sim {

struct Inode {
  enum class Type : uint8_t { Directory, Regular };
  Type type = Type::Regular;
  uint64_t number = 0;                                    // st_ino
  uint32_t mode = 0755;                                   // permission bits (not enforced yet)
  std::shared_ptr<const std::vector<uint8_t>> data;       // Regular: the bytes
  std::map<std::string, std::shared_ptr<Inode>> entries;  // Directory: name -> inode, sorted
};

// One file-system instance (a superblock).
class Filesystem {
 public:
  explicit Filesystem(std::string type);
  const std::string& type() const { return type_; }
  const std::shared_ptr<Inode>& root() const { return root_; }
  std::shared_ptr<Inode> make(Inode::Type type);

 private:
  std::string type_;
  uint64_t next_inode_ = 1;
  std::shared_ptr<Inode> root_;
};

// A file system attached somewhere: the root mount has no parent.
struct Mount {
  std::shared_ptr<Filesystem> fs;
  std::shared_ptr<Inode> root;              // the directory of fs this mount shows (a bind mount shows a subtree)
  Mount* parent = nullptr;
  std::shared_ptr<Inode> mountpoint;        // the directory of the parent mount it covers
  std::vector<std::unique_ptr<Mount>> children;
};

// Where a path led.
struct Resolved {
  Mount* mount = nullptr;
  std::shared_ptr<Inode> inode;
};

class MountTree {
 public:
  explicit MountTree(std::shared_ptr<Filesystem> root_fs);
  Mount& root() { return *root_; }

  // Resolves `path` ("/bin/sh", "bin/sh", "./x/../y"; relative to "/", the
  // only working directory so far). 0 on success, else -ENOENT, -ENOTDIR or
  // -ENAMETOOLONG.
  int resolve(const std::string& path, Resolved& out);
  // mkdir -p of the parent directories and the file itself (host seeding).
  bool add_file(const std::string& path, std::shared_ptr<const std::vector<uint8_t>> data, std::string& error);

 private:
  std::unique_ptr<Mount> root_;
};

// Splits a path into its components, with "." dropped and ".." applied
// lexically (".." at the root stays at the root, as path_resolution(7) says).
std::vector<std::string> path_components(const std::string& path);

}  // namespace vs::container_sim
