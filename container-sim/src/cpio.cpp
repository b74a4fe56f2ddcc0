#include "cpio.h"

#include <cstring>

namespace vs::container_sim {

namespace {
constexpr size_t kHeader = 110;  // "070701" and 13 fields of 8 hex digits
constexpr uint32_t kTypeMask = 0170000, kRegular = 0100000;

bool hex_field(const uint8_t* p, uint32_t& out) {
  out = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = char(p[i]);
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    out = out << 4 | uint32_t(d);
  }
  return true;
}

size_t align4(size_t n) { return (n + 3) & ~size_t(3); }
}  // namespace

bool read_cpio(const std::vector<uint8_t>& a, std::vector<CpioFile>& files, std::string& error) {
  files.clear();
  for (size_t at = 0;;) {
    if (a.size() - at < kHeader || std::memcmp(&a[at], "070701", 6) != 0) {
      error = "not a cpio newc archive (bad header at offset " + std::to_string(at) + ")";
      return false;
    }
    uint32_t f[13];
    for (int i = 0; i < 13; ++i) {
      if (!hex_field(&a[at + 6 + 8 * size_t(i)], f[i])) {
        error = "bad hex field in the cpio header at offset " + std::to_string(at);
        return false;
      }
    }
    const uint32_t mode = f[1], size = f[6], namesize = f[11];
    const size_t name_at = at + kHeader, data_at = align4(name_at + namesize);
    if (namesize == 0 || namesize > a.size() - name_at || size > a.size() - std::min(a.size(), data_at)) {
      error = "cpio entry at offset " + std::to_string(at) + " runs past the end of the archive";
      return false;
    }
    std::string name(reinterpret_cast<const char*>(&a[name_at]), namesize - 1);
    if (name == "TRAILER!!!") return true;
    if ((mode & kTypeMask) == kRegular)
      files.push_back(CpioFile{name, mode, std::vector<uint8_t>(a.begin() + long(data_at), a.begin() + long(data_at + size))});
    at = align4(data_at + size);
  }
}

}  // namespace vs::container_sim
