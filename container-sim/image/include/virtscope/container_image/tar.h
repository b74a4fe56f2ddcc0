// POSIX ustar archives (IEEE Std 1003.1, pax(1) "ustar Interchange Format"),
// the container for OCI layers (image-spec layer.md). Only what a layer of
// this simulator needs: regular files and directories.
//
// Writing is deterministic, so identical content always gives identical
// bytes and therefore identical digests: entries sorted by name (component
// by component: a directory's subtree follows it), mtime 0, uid/gid 0,
// empty user/group names, the mode taken from the entry, and the archive
// closed by two 512-byte zero blocks. The bytes are those of
//   tar --format=ustar --sort=name --mtime=@0 --owner=0 --group=0
//       --numeric-owner -b 1 -cf layer.tar <names, sorted>
// (GNU tar 1.34), which tests/container/image_test.cpp checks. Reading is strict: every
// header's magic, checksum, numeric fields and size are checked, and a
// malformed archive gives an error naming the offset and what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vs::container_image {

using Bytes = std::vector<uint8_t>;  // a file's contents

struct TarEntry {
  enum class Type : uint8_t { Regular, Directory };
  std::string name;     // relative path, '/'-separated, no trailing '/' (the writer adds it for directories)
  Type type = Type::Regular;
  uint32_t mode = 0644;  // permission bits (07777)
  Bytes data;            // Regular only
};

inline constexpr size_t kTarBlock = 512;

// Appends the archive of `entries` (sorted by name, in a copy) to `out`.
// Fails for a name that does not fit ustar's 155-byte prefix + 100-byte
// name, an empty or absolute name, or data on a directory.
bool tar_write(std::vector<TarEntry> entries, std::string& out, std::string& error);
// Reads an archive written by any ustar writer (regular files, directories;
// `tar --format=ustar` works). Leading "./" is dropped from names and the
// entry for "." itself is skipped.
bool tar_read(std::string_view archive, std::vector<TarEntry>& out, std::string& error);

}  // namespace vs::container_image
