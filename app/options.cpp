#include "options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace vs::app {

std::optional<uint32_t> parse_memory_size(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  if (errno || end == s.c_str()) return std::nullopt;
  uint64_t mult = 1u << 20;
  const std::string suffix = end;
  if (suffix == "" || suffix == "M" || suffix == "m") mult = 1u << 20;
  else if (suffix == "G" || suffix == "g") mult = 1u << 30;
  else if (suffix == "K" || suffix == "k") mult = 1u << 10;
  else return std::nullopt;
  const uint64_t bytes = n * mult;
  // At least 2 MiB (the loader's low memory plus a kernel at 1 MiB), and
  // below the 4 GiB physical address space's device region.
  if (n == 0 || bytes < (2u << 20) || bytes > 0xE0000000ull) return std::nullopt;
  return uint32_t(bytes);
}

std::optional<uint64_t> parse_count(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(s.c_str(), &end, 0);
  if (errno || end == s.c_str() || *end) return std::nullopt;
  return n;
}

int report_usage_error(const char* command, const std::string& msg, const char* usage) {
  std::fprintf(stderr, "virtscope %s: %s\n%s", command, msg.c_str(), usage);
  return 2;
}

std::string beside_this_program(const std::string& relative) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return relative;
  return (exe.parent_path() / ".." / relative).lexically_normal().string();
}

}  // namespace vs::app
