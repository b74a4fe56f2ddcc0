// The ustar header (POSIX pax(1), "ustar Interchange Format"): one 512-byte
// block per entry, then the data padded to a block, then two zero blocks.
//
//   offset size field          offset size field
//        0  100 name              156    1 typeflag ('0' file, '5' directory)
//      100    8 mode (octal)      157  100 linkname
//      108    8 uid               257    6 magic "ustar\0"
//      116    8 gid               263    2 version "00"
//      124   12 size              265   32 uname
//      136   12 mtime             297   32 gname
//      148    8 chksum            329/337 devmajor/devminor (8 each)
//                                 345  155 prefix (name = prefix + "/" + name)
//
// chksum is the sum of all 512 header bytes as unsigned values, counting
// the chksum field itself as eight spaces.
#include "virtscope/container_image/tar.h"

#include <algorithm>
#include <cstring>

namespace vs::container_image {
namespace {

constexpr size_t kName = 0, kMode = 100, kUid = 108, kGid = 116, kSize = 124, kMtime = 136,
                 kChksum = 148, kType = 156, kMagic = 257, kVersion = 263, kDevMajor = 329,
                 kDevMinor = 337, kPrefix = 345;

// Writes `value` as `width - 1` octal digits and a NUL (the common form).
void put_octal(char* field, size_t width, uint64_t value) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
}

unsigned header_sum(const char* header) {
  unsigned sum = 0;
  for (size_t i = 0; i < kTarBlock; ++i)
    sum += (i >= kChksum && i < kChksum + 8) ? ' ' : static_cast<uint8_t>(header[i]);
  return sum;
}

// An octal field: optional leading spaces, digits, then NULs or spaces to
// the end. Anything else (or no digit) is malformed.
bool get_octal(const char* field, size_t width, uint64_t& value) {
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  value = 0;
  size_t digits = 0;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i, ++digits) {
    if (value >> 60) return false;  // would overflow 64 bits
    value = value << 3 | static_cast<uint64_t>(field[i] - '0');
  }
  if (digits == 0) return false;
  for (; i < width; ++i)
    if (field[i] != '\0' && field[i] != ' ') return false;
  return true;
}

// A NUL-terminated field that may also fill its whole width.
std::string get_string(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

bool safe_name(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return name.find('\0') == std::string::npos;
}

// Name order: component by component, so a directory's whole subtree comes
// right after it ("a", "a/c", "a-b"), the order of a depth-first walk with
// each directory's names sorted (GNU tar --sort=name). Comparing bytes with
// '/' counted lowest gives exactly that.
bool name_less(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned ca = a[i] == '/' ? 0 : static_cast<uint8_t>(a[i]) + 1u;
    const unsigned cb = b[i] == '/' ? 0 : static_cast<uint8_t>(b[i]) + 1u;
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

std::string where(size_t offset) { return "tar header at offset " + std::to_string(offset) + ": "; }

}  // namespace

bool tar_write(std::vector<TarEntry> entries, std::string& out, std::string& error) {
  std::sort(entries.begin(), entries.end(), [](const TarEntry& a, const TarEntry& b) { return name_less(a.name, b.name); });
  for (const TarEntry& e : entries) {
    if (!safe_name(e.name)) {
      error = "tar: unusable entry name '" + e.name + "' (relative, no empty, '.' or '..' parts)";
      return false;
    }
    if (e.type == TarEntry::Type::Directory && !e.data.empty()) {
      error = "tar: directory '" + e.name + "' has data";
      return false;
    }
    // Directories are stored with a trailing '/', as tar(1) writes them.
    const std::string full = e.name + (e.type == TarEntry::Type::Directory ? "/" : "");
    std::string prefix, name = full;
    if (full.size() > 100) {
      // Split at a '/' so that the prefix fits 155 bytes and the rest 100.
      size_t cut = std::string::npos;
      for (size_t i = 1; i < full.size() && i <= 155; ++i) {
        const size_t rest = full.size() - i - 1;
        if (full[i] == '/' && rest > 0 && rest <= 100) {
          cut = i;
          break;
        }
      }
      if (cut == std::string::npos) {
        error = "tar: name too long for ustar (" + std::to_string(full.size()) + " bytes): " + e.name;
        return false;
      }
      prefix = full.substr(0, cut);
      name = full.substr(cut + 1);
    }
    char header[kTarBlock] = {};
    std::memcpy(header + kName, name.data(), name.size());
    put_octal(header + kMode, 8, e.mode & 07777);
    put_octal(header + kUid, 8, 0);
    put_octal(header + kGid, 8, 0);
    put_octal(header + kSize, 12, e.data.size());
    put_octal(header + kMtime, 12, 0);
    header[kType] = e.type == TarEntry::Type::Directory ? '5' : '0';
    put_octal(header + kDevMajor, 8, 0);  // written as numbers, as GNU tar --format=ustar does
    put_octal(header + kDevMinor, 8, 0);
    std::memcpy(header + kMagic, "ustar", 6);  // with its NUL
    std::memcpy(header + kVersion, "00", 2);
    std::memcpy(header + kPrefix, prefix.data(), prefix.size());
    // Checksum: six octal digits, NUL, space (the historical layout).
    put_octal(header + kChksum, 7, header_sum(header));
    header[kChksum + 7] = ' ';
    out.append(header, kTarBlock);
    out.append(reinterpret_cast<const char*>(e.data.data()), e.data.size());
    out.append((kTarBlock - e.data.size() % kTarBlock) % kTarBlock, '\0');
  }
  out.append(2 * kTarBlock, '\0');
  return true;
}

bool tar_read(std::string_view archive, std::vector<TarEntry>& out, std::string& error) {
  out.clear();
  if (archive.size() % kTarBlock != 0) {
    error = "tar: archive is " + std::to_string(archive.size()) +
            " bytes, not a whole number of 512-byte blocks (truncated?)";
    return false;
  }
  size_t offset = 0;
  for (;;) {
    if (offset + kTarBlock > archive.size()) {
      error = "tar: archive ends at offset " + std::to_string(offset) +
              " without the two zero blocks that close it (truncated?)";
      return false;
    }
    const char* header = archive.data() + offset;
    if (std::all_of(header, header + kTarBlock, [](char c) { return c == '\0'; })) {
      if (offset + 2 * kTarBlock > archive.size() ||
          !std::all_of(header + kTarBlock, header + 2 * kTarBlock, [](char c) { return c == '\0'; })) {
        error = where(offset) + "a single zero block; an archive ends with two";
        return false;
      }
      return true;  // anything after the end marker is padding and ignored
    }
    if (std::memcmp(header + kMagic, "ustar", 6) != 0 || std::memcmp(header + kVersion, "00", 2) != 0) {
      error = where(offset) + "not a POSIX ustar header (magic \"ustar\\0\" version \"00\" expected; " +
              "GNU tar writes them with --format=ustar)";
      return false;
    }
    uint64_t stored_sum = 0, mode = 0, size = 0;
    if (!get_octal(header + kChksum, 8, stored_sum)) {
      error = where(offset) + "checksum field is not an octal number";
      return false;
    }
    if (stored_sum != header_sum(header)) {
      error = where(offset) + "checksum mismatch (stored " + std::to_string(stored_sum) + ", computed " +
              std::to_string(header_sum(header)) + "): the header is corrupted";
      return false;
    }
    if (!get_octal(header + kMode, 8, mode) || !get_octal(header + kSize, 12, size)) {
      error = where(offset) + "mode or size field is not an octal number";
      return false;
    }
    std::string name = get_string(header + kName, 100);
    const std::string prefix = get_string(header + kPrefix, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
    TarEntry entry;
    const char type = header[kType];
    if (type == '5') {
      entry.type = TarEntry::Type::Directory;
      if (!name.empty() && name.back() == '/') name.pop_back();
      if (size != 0) {
        error = where(offset) + "directory '" + name + "' has a size of " + std::to_string(size);
        return false;
      }
    } else if (type != '0' && type != '\0') {
      error = where(offset) + "entry '" + name + "' has type '" + std::string(1, type) +
              "'; only regular files ('0') and directories ('5') are supported";
      return false;
    }
    // tar -C dir . writes "./" and "./name": the same names without the
    // leading "./"; the entry for the root itself carries nothing.
    while (name.compare(0, 2, "./") == 0) name.erase(0, 2);
    if (name.empty() || name == ".") {
      if (entry.type != TarEntry::Type::Directory) {
        error = where(offset) + "a regular file without a name";
        return false;
      }
      offset += kTarBlock;
      continue;
    }
    if (!safe_name(name)) {
      error = where(offset) + "unsafe or empty entry name '" + name + "'";
      return false;
    }
    const uint64_t data_blocks = (size + kTarBlock - 1) / kTarBlock;
    const uint64_t room = (archive.size() - offset - kTarBlock) / kTarBlock;
    if (data_blocks > room) {
      error = where(offset) + "entry '" + name + "' claims " + std::to_string(size) +
              " bytes but the archive ends after " + std::to_string(room * kTarBlock) + " more (truncated?)";
      return false;
    }
    entry.name = std::move(name);
    entry.mode = static_cast<uint32_t>(mode & 07777);
    const auto* data = reinterpret_cast<const uint8_t*>(header + kTarBlock);
    entry.data.assign(data, data + size);
    out.push_back(std::move(entry));
    offset += kTarBlock + data_blocks * kTarBlock;
  }
}

}  // namespace vs::container_image
