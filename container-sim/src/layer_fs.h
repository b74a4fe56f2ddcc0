// Image layers as directories of the in-memory file system, and back
// (../shared/SEMANTICS.md §4.1, §4.2; image-spec layer.md; overlayfs.rst).
//
// An OCI layer is a change set (container_image::ChangeSet: directories,
// whole files, whiteouts, opaque whiteouts). To run a container the layers
// become the lower directories of an overlay, and what the container
// changed (its upper directory) becomes a change set again for commit:
//
//   image layers --apply_layer--> lower dirs --overlayfs--> container root
//                                      upper dir --export_upper--> change set
//
// Two ways to apply a layer's removals, as containerd's snapshotters do:
// - Overlay: each layer in a directory of its own, stacked by overlayfs; a
//   whiteout becomes overlayfs's own (a character device 0/0), an opaque
//   whiteout the opaque flag of the directory, so that the layers below
//   are hidden when they are stacked.
// - Remove: every layer into one directory, bottom first; a whiteout
//   removes the name there, an opaque whiteout empties the directory.
// Either way, in the order layer.md "Applying Changesets" says: opaque
// whiteouts first, then whiteouts, then the additions — so a layer's
// removals act only on the layers below, never on its own entries. A file
// replaces whatever was at its path; a directory over a directory only
// changes the mode. Entries whose name starts ".wh." (the tar spelling,
// layer_from_tar converts them already) are taken as the whiteouts they
// name.
#pragma once

#include <string>

#include "overlayfs.h"
#include "vfs.h"
#include "virtscope/container_image/layer.h"

namespace vs::container_sim {

enum class WhiteoutStyle : uint8_t { Overlay, Remove };

// Applies `layer` under directory `dir` of `fs`. False with `error` for a
// path that climbs out (".."), or a parent that is a file where the layer
// wants a directory under it; `dir` may be partly changed then.
bool apply_layer(Filesystem& fs, Inode& dir, const container_image::ChangeSet& layer, WhiteoutStyle style,
                 std::string& error);

// One layer into the root of `fs` (a fresh tmpfs), overlayfs style: what a
// container's lower directory is made from.
bool unpack_layer(Filesystem& fs, const container_image::ChangeSet& layer, std::string& error);

// The upper directory of an overlay as a change set, parents before
// children, names sorted: a directory entry for each upper directory (one
// exists because something under it changed), an Opaque entry after an
// opaque one, a Whiteout for each character device 0/0 (layer_to_tar
// writes it as ".wh.NAME"), a File for each regular file. False with
// `error` on another device node (layers here carry none).
bool export_upper(const LayerDir& upper, container_image::ChangeSet& out, std::string& error);

}  // namespace vs::container_sim
