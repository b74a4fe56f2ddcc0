// OCI layers (image-spec layer.md, config.md; ../shared/SEMANTICS.md §4.1):
// a layer is a change set — whole files and directories added or changed,
// and names removed — stored as a tar archive.
//
// A removal is a whiteout: an empty regular file named ".wh.<name>" beside
// the removed name; ".wh..wh..opq" in a directory is an opaque whiteout
// that hides every lower child of that directory. This header keeps the
// change set as plain entries (path, kind, mode, bytes) and converts to and
// from the tar form.
//
// Digests (config.md "Layer DiffID", "Layer ChainID", "ImageID"), all
// strings "sha256:<64 hex>":
//   DiffID(L)   = sha256(uncompressed tar of L)
//   ChainID(L1) = DiffID(L1)
//   ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))   (both as "sha256:..." strings)
//   ImageID     = sha256(config JSON bytes)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "virtscope/container_image/tar.h"

namespace vs::container_image {

enum class EntryKind : uint8_t {
  Directory,  // a directory (its mode; merged with a lower one of the same name)
  File,       // a regular file with its whole contents
  Whiteout,   // `path` is removed from the layers below (tar: dir/.wh.name)
  Opaque,     // every lower child of directory `path` is hidden (tar: path/.wh..wh..opq)
};

struct LayerEntry {
  std::string path;  // relative to the root, '/'-separated, no leading or trailing '/'; "" only for an Opaque root
  EntryKind kind = EntryKind::File;
  uint32_t mode = 0644;  // permission bits; whiteouts are written with it too
  Bytes data;            // File only
};

using ChangeSet = std::vector<LayerEntry>;

// The tar form of a change set (deterministic; see tar.h). Fails on a bad
// path, two entries with one path, a name starting ".wh." that is not a
// whiteout (layer.md: such names cannot exist), or data on a non-file.
bool layer_to_tar(const ChangeSet& changes, std::string& tar, std::string& error);
// Reads the tar form back; entries come out sorted by tar name.
bool layer_from_tar(std::string_view tar, ChangeSet& changes, std::string& error);

std::string diff_id(std::string_view uncompressed_tar);
// ChainID of every prefix of the stack: result[i] is ChainID(layers 0..i).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);
std::string image_id(std::string_view config_json);

// The file system a stack of layers (bottom first) describes, as
// path -> entry (Directory or File only), applying whiteouts the way
// layer.md "Applying Changesets" says: opaque first, then removals, then
// additions; a file replaces whatever was at its path, a directory over a
// directory only changes the mode. The root itself is not listed.
std::map<std::string, LayerEntry> flatten(const std::vector<ChangeSet>& layers);

// A relative layer path made canonical: leading '/' and "." parts dropped;
// false (with `error`) when a ".." part would climb above the root.
bool normalize_path(std::string_view path, std::string& out, std::string& error);

}  // namespace vs::container_image
