// Malformed executables: spawn refuses each with a reason in words, execve
// from a guest gets -ENOEXEC, and nothing crashes.
#include <gtest/gtest.h>

#include "host_helpers.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

// A minimal valid static i386 executable: one PT_LOAD of 0x1010 bytes at
// 0x08048000 whose code at the entry (0x08049000) calls exit(42).
std::vector<uint8_t> tiny_elf() {
  std::vector<uint8_t> e(0x1010, 0);
  auto put16 = [&](size_t at, uint16_t v) { e[at] = uint8_t(v), e[at + 1] = uint8_t(v >> 8); };
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) e[at + size_t(i)] = uint8_t(v >> (8 * i));
  };
  const uint8_t ident[7] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
  std::copy(std::begin(ident), std::end(ident), e.begin());
  put16(16, 2), put16(18, 3), put32(20, 1), put32(24, 0x08049000), put32(28, 52);
  put16(40, 52), put16(42, 32), put16(44, 1);
  put32(52, 1), put32(56, 0), put32(60, 0x08048000), put32(68, 0x1010), put32(72, 0x1010), put32(76, 5);
  const uint8_t code[] = {0xB8, 1, 0, 0, 0, 0xBB, 42, 0, 0, 0, 0xCD, 0x80};  // exit(42)
  std::copy(std::begin(code), std::end(code), e.begin() + 0x1000);
  return e;
}

void put32(std::vector<uint8_t>& e, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) e[at + size_t(i)] = uint8_t(v >> (8 * i));
}

struct Bad {
  const char* name;
  std::vector<uint8_t> bytes;
  const char* reason;  // a substring of the error
};

std::vector<Bad> bad_files() {
  std::vector<Bad> v;
  v.push_back({"empty", {}, "not an ELF file: bad magic"});
  v.push_back({"text", {'#', '!', '/', 'b', 'i', 'n', '/', 's', 'h', '\n'}, "not an ELF file: bad magic"});
  auto e = tiny_elf();
  v.push_back({"truncated", std::vector<uint8_t>(e.begin(), e.begin() + 30), "truncated ELF file: 30 bytes"});
  e = tiny_elf(), e[4] = 2;
  v.push_back({"elf64", e, "not a 32-bit ELF file"});
  e = tiny_elf(), e[5] = 2;
  v.push_back({"bigendian", e, "not a little-endian ELF file"});
  e = tiny_elf(), e[16] = 3;
  v.push_back({"pie", e, "ET_DYN"});
  e = tiny_elf(), e[16] = 1;
  v.push_back({"relocatable", e, "not an executable (e_type 1"});
  e = tiny_elf(), e[18] = 62;
  v.push_back({"x86_64", e, "not an i386 program (e_machine 62"});
  e = tiny_elf(), put32(e, 28, 0x7FFFFFF0);
  v.push_back({"phoff", e, "program header table"});
  e = tiny_elf(), e[44] = 0;
  v.push_back({"nophdr", e, "no program headers"});
  e = tiny_elf(), put32(e, 68, 0x100000);  // filesz beyond the file (memsz grows with it)
  put32(e, 72, 0x100000);
  v.push_back({"filesz", e, "segment 0: file range beyond the end of the file"});
  e = tiny_elf(), put32(e, 72, 0x10);
  v.push_back({"memsz", e, "segment 0: p_filesz 4112 larger than p_memsz 16"});
  e = tiny_elf(), put32(e, 60, 0x1000);
  v.push_back({"lowaddr", e, "segment 0: addresses 0x00001000 + 4112 outside user space"});
  e = tiny_elf(), put32(e, 60, 0xBFFFF000);
  v.push_back({"highaddr", e, "outside user space"});
  e = tiny_elf(), put32(e, 52, 3);
  v.push_back({"interp", e, "dynamically linked (PT_INTERP)"});
  e = tiny_elf(), put32(e, 24, 0x09000000);
  v.push_back({"entry", e, "entry point 0x09000000 is not inside any loaded segment"});
  e = tiny_elf(), e[42] = 40;
  v.push_back({"phentsize", e, "program header size 40"});
  return v;
}

TEST(ContainerElf, ValidTinyExecutable_Runs) {
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/tiny", tiny_elf(), error)) << error;
  std::vector<trace::Event> retired;
  t.host->log().subscribe(trace::KindSet::of({trace::EventKind::InsnRetired}),
                          [&](const trace::Event& e) { retired.push_back(e); });
  const uint32_t pid = t.spawn({"tiny"});
  EXPECT_EQ(t.host->run(1'000'000), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 42 << 8);
  // No guest kernel boots: the very first instruction retired is the
  // program's entry, at ring 3 (CS 0x1B), and there are only its three.
  ASSERT_EQ(retired.size(), 3u);
  EXPECT_EQ(retired[0].when.icount, 1u);
  EXPECT_EQ(retired[0].arg[0], 0x08049000u);
  EXPECT_EQ(retired[0].arg[1], 0x1Bu);
  EXPECT_EQ(t.host->counters().instructions, 3u);
}

TEST(ContainerElf, MalformedFiles_SpawnRefusesWithReason) {
  TestHost t;
  for (const Bad& b : bad_files()) {
    std::string error;
    const std::string path = std::string("/bin/") + b.name;
    ASSERT_TRUE(t.host->add_file(path, b.bytes, error)) << error;
    EXPECT_EQ(t.host->spawn({path}, error), 0u) << b.name;
    EXPECT_NE(error.find(b.reason), std::string::npos) << b.name << ": " << error;
    EXPECT_EQ(error.rfind(path + ": ", 0), 0u) << "the reason names the file: " << error;
  }
  EXPECT_TRUE(t.host->processes().empty());
  EXPECT_EQ(t.host->counters().frames_in_use, 0u);
  const uint32_t pid = t.spawn({"hello"});  // the host is unharmed
  EXPECT_EQ(t.host->run(10'000'000), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 0);
}

TEST(ContainerElf, MissingOrDirectory_SpawnSaysSo) {
  TestHost t;
  std::string error;
  EXPECT_EQ(t.host->spawn({"nothing-here"}, error), 0u);
  EXPECT_EQ(error, "/bin/nothing-here: no such file");
  EXPECT_EQ(t.host->spawn({"/bin"}, error), 0u);
  EXPECT_EQ(error, "/bin: is a directory");
  EXPECT_EQ(t.host->spawn({}, error), 0u);
  EXPECT_FALSE(error.empty());
}

TEST(ContainerElf, ExecveOfMalformedFile_FailsInTheGuest) {
  TestHost t;
  std::string error;
  for (const Bad& b : bad_files()) ASSERT_TRUE(t.host->add_file(std::string("/bin/") + b.name, b.bytes, error));
  t.host->queue_input("pie\nelf64\nexit 4\n");
  const uint32_t pid = t.spawn({"sh"});
  EXPECT_EQ(t.host->run(100'000'000), HostStop::AllExited);
  EXPECT_EQ(t.console,
            "$ sh: pie: not found\nsh: pie exited with status 127\n"
            "$ sh: elf64: not found\nsh: elf64 exited with status 127\n$ ");
  EXPECT_EQ(t.host->exit_status(pid), 4 << 8);
}

TEST(ContainerElf, InitrdThatIsNotCpio_ClearError) {
  ContainerHost host;
  std::string error;
  EXPECT_FALSE(host.add_initrd(VS_KERNEL, error));  // an ELF, not a cpio archive
  EXPECT_NE(error.find("not a cpio newc archive"), std::string::npos) << error;
  EXPECT_FALSE(host.add_initrd("/nonexistent/initrd.cpio", error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

}  // namespace
}  // namespace vs::container_sim
