// xv6 (MIT's x86 teaching OS) booting through virtscope's BIOS from its two
// disk images, to its shell, running `ls` and `echo`. xv6 is never part of
// this repository: build xv6-public beside the project (../xv6, with its own
// Makefile) or point VIRTSCOPE_XV6 at the folder holding xv6.img and fs.img.
// Without them the test skips and says so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "virtscope/vmm/machine.h"

namespace vs::vmm {
namespace {

namespace fs = std::filesystem;

fs::path xv6_dir() {
  if (const char* env = std::getenv("VIRTSCOPE_XV6")) return env;
  return fs::path(VS_PROJECT_ROOT) / ".." / "xv6";
}

TEST(Xv6, BootsFromItsDiskImagesToTheShellAndRunsCommands) {
  const fs::path dir = xv6_dir();
  if (!fs::exists(dir / "xv6.img") || !fs::exists(dir / "fs.img"))
    GTEST_SKIP() << "xv6 images not found in " << dir.string()
                 << " (build mit-pdos/xv6-public there, or set VIRTSCOPE_XV6)";
  // Work on copies: xv6 writes to its file system.
  const std::string tmp = ::testing::TempDir() + "virtscope_xv6_" + std::to_string(::getpid());
  fs::create_directories(tmp);
  fs::copy_file(dir / "xv6.img", tmp + "/xv6.img", fs::copy_options::overwrite_existing);
  fs::copy_file(dir / "fs.img", tmp + "/fs.img", fs::copy_options::overwrite_existing);

  std::string console, error;
  MachineConfig c;
  c.ram_bytes = 224u << 20;  // xv6's PHYSTOP
  c.drives[0] = tmp + "/xv6.img";
  c.drives[1] = tmp + "/fs.img";
  c.serial_out[0] = [&](uint8_t b) { console.push_back(char(b)); };
  auto m = Machine::create(c, error);
  ASSERT_TRUE(m) << error;
  m->queue_serial_input("ls\necho virtscope-was-here\n");
  // The shell prompt comes after about 14 million instructions; give the
  // commands up to 400 million.
  for (int slice = 0; slice < 40 && console.find("virtscope-was-here\n$ ") == std::string::npos; ++slice)
    ASSERT_EQ(m->run(10'000'000), MachineStop::Budget) << console;
  EXPECT_NE(console.find("init: starting sh"), std::string::npos) << console;
  EXPECT_NE(console.find("README"), std::string::npos) << console;  // from ls
  EXPECT_NE(console.find("usertests"), std::string::npos) << console;
  EXPECT_NE(console.find("virtscope-was-here\n$ "), std::string::npos) << console;
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace vs::vmm
