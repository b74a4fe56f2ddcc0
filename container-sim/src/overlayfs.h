// overlayfs: one merged directory tree made of several (Documentation/
// filesystems/overlayfs.rst; ../shared/SEMANTICS.md §4.2). It is how
// Docker and containerd give each container its own writable root over
// shared read-only image layers:
//
//   mount("overlay", "/merged", "overlay", 0, "lowerdir=/l1:/l2,upperdir=/u,workdir=/w")
//
//   /merged   what the container sees                 (this file system)
//   /u        its changes: new and copied-up files,    (upper layer: writable)
//             whiteouts, opaque directories
//   /l1 /l2   the image's layers, leftmost on top      (lower layers: never changed)
//
// The rules, each from overlayfs.rst:
// - Lookup tries the upper layer, then each lower one. A non-directory
//   hides whatever the layers below have under its name; directories of the
//   same name in several layers merge ("Directories").
// - A whiteout (a character device 0/0) hides the name in the layers below;
//   an opaque directory (xattr trusted.overlay.opaque="y": Inode::opaque
//   here, no xattrs are modelled) hides their whole directory ("whiteouts
//   and opaque directories").
// - readdir lists the upper directory, then each lower one, without
//   repeats and without whited-out names ("readdir").
// - The first write to a lower file copies it up: its parent directories
//   are made in the upper layer, then the file with its data; all I/O then
//   goes to the upper copy ("Non-directories"). A descriptor opened
//   read-only before reads the upper copy from then on (io_inode), as
//   Linux does since 4.19.
// - unlink of a lower name leaves a whiteout; rmdir of a merged directory
//   too; mkdir over a whiteout makes an opaque directory.
// - rename of a directory that has a lower layer is EXDEV (redirect_dir is
//   off, the default: "Renaming directories").
// - Without upperdir the mount is read-only: every change is EROFS.
//
// How it sits in the VFS (vfs.h): a merged directory is an Inode of this
// file system whose `overlay` names its layer directories; it is made at
// the first lookup and kept in its merged parent's `entries` (a cache), so
// that the same directory is the same Inode every time: mount points, cwd
// and ".." depend on that. A non-directory is not wrapped: lookup returns
// the layer's own inode, so read, exec and fstat see the real file.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vfs.h"

namespace vs::container_sim {

// A directory of one layer and the file system it lives in.
struct LayerDir {
  std::shared_ptr<Filesystem> fs;
  std::shared_ptr<Inode> dir;
};

// What a merged directory merges (Inode::overlay).
struct OverlayNode {
  std::string name;              // its name in the merged parent ("" at the root)
  std::shared_ptr<Inode> upper;  // its directory in the upper layer; null until copied up
  std::vector<LayerDir> lowers;  // its directories in the lower layers, top first, down to an opaque one
};

// The mount data of mount(2) -t overlay: "lowerdir=A:B,upperdir=U,workdir=W".
struct OverlayOptions {
  std::vector<std::string> lowerdirs;  // top first; "\:" and "\," escape
  std::string upperdir, workdir;       // both or neither
};
// 0, or -EINVAL for a malformed or unknown option (Linux's answer), for
// lowerdir missing or empty, for upperdir without workdir, or for more
// than 500 lower layers (OVL_MAX_STACK).
int parse_overlay_options(const std::string& data, OverlayOptions& out);

class OverlayFs final : public Filesystem {
 public:
  // `lowers` top first; `upper.fs` null makes it read-only. The caller
  // (sys_mount, or a host that builds a container's root) has checked that
  // every one is a directory.
  OverlayFs(std::vector<LayerDir> lowers, LayerDir upper);

  std::shared_ptr<Inode> lookup(Inode& dir, const std::string& name, const Process* viewer) override;
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> list(Inode& dir, const Process* viewer) override;
  int create(Inode& dir, const std::string& name, Inode::Type type, uint32_t mode, uint32_t major, uint32_t minor,
             std::shared_ptr<Inode>* out) override;
  int remove(Inode& dir, const std::string& name, bool directory) override;
  int rename(Inode& from_dir, const std::string& from, Inode& to_dir, const std::string& to) override;
  int open_write(Inode& dir, const std::string& name, std::shared_ptr<Inode>& out) override;
  std::shared_ptr<Inode> io_inode(const std::shared_ptr<Inode>& opened) override;
  bool read_only() const override { return !upper_.fs; }

  const LayerDir& upper() const { return upper_; }
  // Counters for lessons and the UI.
  uint64_t copy_ups() const { return copy_ups_; }
  uint64_t whiteouts_made() const { return whiteouts_made_; }

 private:
  // Makes sure merged directory `dir` has its upper directory (copy-up of
  // the directory and, first, its parents). 0 or -errno.
  int copy_up_dir(Inode& dir);
  // The upper copy of the lower non-directory `lower`, named `name` in merged `dir`.
  std::shared_ptr<Inode> copy_up_file(Inode& dir, const std::string& name, const std::shared_ptr<Inode>& lower);
  // Is `name` present (not whited out) in the first lower layer of `node` that has it?
  bool lower_has(const OverlayNode& node, const std::string& name) const;
  bool in_upper(const Inode& dir, const std::string& name, const std::shared_ptr<Inode>& inode) const;
  void make_whiteout(Inode& upper_dir, const std::string& name);

  LayerDir upper_;
  // Lower files this overlay copied up, and their copies (io_inode). The
  // lower inode is kept weakly too, so a reused address is never mistaken.
  struct CopiedUp {
    std::weak_ptr<Inode> lower, upper;
  };
  std::map<const Inode*, CopiedUp> copied_;
  uint64_t copy_ups_ = 0, whiteouts_made_ = 0;
};

}  // namespace vs::container_sim
