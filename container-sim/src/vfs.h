// The file system as the kernel model sees it: inodes in memory, file
// systems made of them, and a mount tree that joins file systems into the
// one name space a process resolves paths in (Linux's VFS in miniature;
// mount(2), path_resolution(7)).
//
// A mount tree belongs to a mount namespace (namespaces.h); CLONE_NEWNS
// copies the mounts (not the files: both copies show the same inodes,
// SEMANTICS.md §1.3). A process resolves paths from its own root and
// working directory (PathRef: a mount and a directory in it), which chroot,
// chdir and pivot_root move. ".." follows path_resolution(7): it stays put
// at the process's root, and at the root of a mount it climbs to the
// mount point in the parent mount first. There are no symbolic links, so a
// directory's parent is always the one that holds it (Inode::parent).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vs::container_sim {

struct Process;
struct Cgroup;
struct OverlayNode;  // overlayfs.h

struct Inode {
  enum class Type : uint8_t { Directory, Regular, CharDevice, BlockDevice };  // BlockDevice: blockdev.h
  Type type = Type::Regular;
  uint64_t number = 0;                                    // st_ino
  uint32_t mode = 0755;                                   // permission bits (not enforced yet)
  uint32_t uid = 0, gid = 0;                              // owner (kernel ids); chown(2) sets them (cgroupfs.cpp)
  std::shared_ptr<const std::vector<uint8_t>> data;       // Regular: the bytes (null: empty)
  // --- files and overlayfs (docs/container-sim/overlayfs.md) ---
  uint32_t rdev_major = 0, rdev_minor = 0;                // CharDevice, BlockDevice: which device (0/0: an overlay whiteout)
  bool data_private = false;                              // `data` is this inode's own, made writable by writable_data()
  bool opaque = false;                                    // Directory of an overlay layer: trusted.overlay.opaque="y"
  std::shared_ptr<OverlayNode> overlay;                   // Directory of an overlayfs: the layers it merges
  bool is_whiteout() const { return type == Type::CharDevice && rdev_major == 0 && rdev_minor == 0; }
  uint64_t size() const { return data ? data->size() : 0; }
  // The bytes to change in place. Copy-on-write: the vector is copied first
  // unless this inode alone holds one it made itself, so an open reader's
  // snapshot, a lower layer sharing it after copy-up, or a const vector the
  // host seeded are never changed.
  std::vector<uint8_t>& writable_data();
  std::map<std::string, std::shared_ptr<Inode>> entries;  // Directory: name -> inode, sorted
  Inode* parent = nullptr;                                // Directory: the one holding it (null at the fs root)
  // procfs nodes (procfs.cpp) are made on each lookup: what they show.
  uint32_t proc_kind = 0;  // ProcKind; 0 for every other file system
  uint32_t proc_pid = 0;   // the process, as the proc instance's PID namespace numbers it
  // cgroupfs nodes (cgroupfs.cpp) are made on each lookup too: the cgroup
  // they show and, for a file, its name ("" for the cgroup's directory).
  bool cgroupfs = false;
  std::weak_ptr<Cgroup> cgroup;
  std::string cgroup_file;
};

// One file-system instance (a superblock). procfs overrides lookup and
// listing: its directories are made from the process table when read.
class Filesystem {
 public:
  explicit Filesystem(std::string type);
  virtual ~Filesystem() = default;
  const std::string& type() const { return type_; }
  const std::shared_ptr<Inode>& root() const { return root_; }
  std::shared_ptr<Inode> make(Inode::Type type);
  // The entry `name` of directory `dir`, or null. `viewer` resolves /proc/self.
  virtual std::shared_ptr<Inode> lookup(Inode& dir, const std::string& name, const Process* viewer);
  // The names in `dir` with their inodes, in order (getdents64).
  virtual std::vector<std::pair<std::string, std::shared_ptr<Inode>>> list(Inode& dir, const Process* viewer);

  // --- changing the name space (open O_CREAT, mknod, mkdir, unlink, rmdir,
  // rename). The base class edits `entries`; overlayfs sends every change
  // to its upper layer (copy-up, whiteouts). The caller has resolved `dir`
  // (a directory of this file system), checked "." and "..", mount points
  // and EROFS. 0 or -errno as Linux gives it.
  // A new `name` in `dir` (EEXIST if it is there); `out` gets it.
  virtual int create(Inode& dir, const std::string& name, Inode::Type type, uint32_t mode, uint32_t major,
                     uint32_t minor, std::shared_ptr<Inode>* out);
  // unlink(2) (`directory` false: EISDIR on a directory) or rmdir(2)
  // (ENOTDIR on a non-directory, ENOTEMPTY unless empty).
  virtual int remove(Inode& dir, const std::string& name, bool directory);
  // rename(2) within this file system: ENOENT, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL.
  virtual int rename(Inode& from_dir, const std::string& from, Inode& to_dir, const std::string& to);
  // The inode to write `name` of `dir` through (open for writing, O_TRUNC,
  // chmod, chown): the entry itself here, its copy in the upper layer on
  // overlayfs (for a merged directory: its upper directory).
  virtual int open_write(Inode& dir, const std::string& name, std::shared_ptr<Inode>& out);
  // The inode a descriptor opened on `opened` reads now: itself, or on
  // overlayfs its upper copy once a later copy-up made one (Linux >= 4.19).
  virtual std::shared_ptr<Inode> io_inode(const std::shared_ptr<Inode>& opened) { return opened; }
  // An overlay without upperdir: every change is EROFS.
  virtual bool read_only() const { return false; }
  uint32_t dev() const { return dev_; }  // st_dev: one anonymous device number per instance

 private:
  std::string type_;
  uint32_t dev_ = 0;
  uint64_t next_inode_ = 1;
  std::shared_ptr<Inode> root_;
};

// A file system attached somewhere: the root mount has no parent.
struct Mount {
  std::shared_ptr<Filesystem> fs;
  std::shared_ptr<Inode> root;              // the directory of fs this mount shows (a bind mount shows a subtree)
  Mount* parent = nullptr;
  std::shared_ptr<Inode> mountpoint;        // the directory of the parent mount it covers
  bool read_only = false;                   // MS_RDONLY: changes through this mount are EROFS
  std::vector<std::unique_ptr<Mount>> children;
};

// A place in the tree: a directory (or file) and the mount it is seen through.
struct PathRef {
  Mount* mount = nullptr;
  std::shared_ptr<Inode> inode;
  bool operator==(const PathRef& o) const { return mount == o.mount && inode == o.inode; }
};
using Resolved = PathRef;

class MountTree {
 public:
  explicit MountTree(std::shared_ptr<Filesystem> root_fs);
  explicit MountTree(std::unique_ptr<Mount> root);
  Mount& root() { return *root_; }
  PathRef root_ref() { return PathRef{root_.get(), root_->root}; }

  // Resolves `path` from `root` (absolute paths) or `cwd` (relative ones),
  // as path_resolution(7) describes. 0, else -ENOENT, -ENOTDIR or -ENAMETOOLONG.
  int resolve(const PathRef& root, const PathRef& cwd, const std::string& path, PathRef& out,
              const Process* viewer = nullptr);
  // From the tree's root (the host's view, and processes that never chrooted).
  int resolve(const std::string& path, PathRef& out) { return resolve(root_ref(), root_ref(), path, out); }
  // mkdir -p of the parent directories and the file itself (host seeding);
  // `data` null makes a directory.
  bool add_file(const std::string& path, std::shared_ptr<const std::vector<uint8_t>> data, std::string& error);

  // --- changing the tree (mount(2), umount2(2), pivot_root(2)) ---
  Mount* attach(std::unique_ptr<Mount> m, const PathRef& at);  // mount m over `at`
  std::unique_ptr<Mount> detach(Mount* m);                     // take m (and what is under it) out
  // A copy of every mount (CLONE_NEWNS); `map` says which copy each mount became.
  MountTree copy(std::map<const Mount*, Mount*>& map) const;
  // pivot_root: new_root (a mount of this tree, not the root) becomes the
  // root; the old root mount goes over put_old (under new_root).
  void pivot(Mount* new_root, const PathRef& put_old);
  // Is `m` this tree's or under it? (A detached mount is not.)
  bool contains(const Mount* m) const;
  // The path of `at` from `root` ("/a/b"); "(unreachable)" + its path from
  // the tree's root when `root` is not on the way up (getcwd(2) outside a chroot).
  std::string path_of(const PathRef& at, const PathRef& root) const;
  // Mounts detached lazily (umount2 MNT_DETACH) stay alive for whoever still
  // stands in them.
  std::vector<std::unique_ptr<Mount>> detached;

 private:
  std::unique_ptr<Mount> root_;
};

// Splits a path into its components, with "." dropped and ".." applied
// lexically (".." at the root stays at the root, as path_resolution(7) says).
std::vector<std::string> path_components(const std::string& path);

}  // namespace vs::container_sim
