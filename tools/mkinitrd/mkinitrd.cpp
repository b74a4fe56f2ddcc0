// mkinitrd OUT NAME=FILE...: writes a cpio archive in the "newc" format
// (Linux Documentation/driver-api/early-userspace/buffer-format.rst):
// per file a 110-byte header "070701" + 13 eight-digit hex fields, the
// NUL-terminated name, padding to 4, the data, padding to 4; then the
// entry "TRAILER!!!". Deterministic: files in command-line order, mtime 0,
// inode = index, mode 0100755, uid/gid 0, so the same inputs give the same
// bytes.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

void pad4(std::string& out) {
  while (out.size() % 4) out.push_back('\0');
}

void add_entry(std::string& out, unsigned ino, unsigned mode, const std::string& name, const std::string& data) {
  const unsigned fields[13] = {ino, mode, 0, 0, 1, 0, unsigned(data.size()), 0, 0, 0, 0,
                               unsigned(name.size() + 1), 0};
  out += "070701";
  for (unsigned f : fields) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08X", f);
    out += hex;
  }
  out += name;
  out.push_back('\0');
  pad4(out);
  out += data;
  pad4(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mkinitrd OUT NAME=FILE...\n");
    return 2;
  }
  std::string out;
  for (int i = 2; i < argc; i++) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "mkinitrd: %s: expected NAME=FILE\n", arg.c_str());
      return 2;
    }
    std::ifstream in(arg.substr(eq + 1), std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "mkinitrd: cannot read %s\n", arg.substr(eq + 1).c_str());
      return 1;
    }
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    add_entry(out, unsigned(i - 1), 0100755, arg.substr(0, eq), data);
  }
  add_entry(out, 0, 0, "TRAILER!!!", "");
  std::ofstream file(argv[1], std::ios::binary | std::ios::trunc);
  file.write(out.data(), std::streamsize(out.size()));
  if (!file) {
    std::fprintf(stderr, "mkinitrd: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
