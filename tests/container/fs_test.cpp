// Files and overlayfs under container-sim (docs/container-sim/overlayfs.md;
// SEMANTICS.md §4.1, §4.2, checklist items 24-26). The guest programs
// fs_files and fs_overlay (tests/container/guest) look from inside; they run
// unchanged as i386 processes on this Linux host too when it gives them a
// private mount namespace, and the two outputs must be the same. The layer
// conversions (layer_fs.h) and overlayfs's own rules are checked from C++.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "host_helpers.h"
#include "layer_fs.h"
#include "overlayfs.h"
#include "subprocess.h"
#include "virtscope/container_image/layer.h"

namespace vs::container_sim {
namespace {

constexpr uint64_t kBudget = 4'000'000'000;

struct GuestRun {
  std::string out;
  std::optional<int> status;
};

std::string elf_of(const std::string& program) { return program == "fs_files" ? VS_CT_FS_FILES : VS_CT_FS_OVERLAY; }

GuestRun run_sim(const std::string& program, const std::string& sub) {
  TestHost t;
  std::string error;
  EXPECT_TRUE(t.host->add_file("/bin/" + program, read_bytes(elf_of(program)), error)) << error;
  const uint32_t pid = t.spawn({program, sub});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited) << t.console;
  return GuestRun{t.console, t.host->exit_status(pid)};
}

void expect_all_ok(const GuestRun& r, size_t min_oks) { expect_checks_passed(r.out, r.status, min_oks); }

bool has_line(const GuestRun& r, const std::string& line) { return r.out.find(line + "\n") != std::string::npos; }

// --- writable files -----------------------------------------------------------------

TEST(ContainerFiles, CreateWriteAppendTruncate) {
  const GuestRun r = run_sim("fs_files", "create");
  expect_all_ok(r, 12);
  EXPECT_TRUE(has_line(r, "stat64 /tmp/f: reg 5")) << r.out;
  EXPECT_TRUE(has_line(r, "contents: hello world")) << r.out;
  EXPECT_TRUE(has_line(r, "after O_TRUNC: reg 0")) << r.out;
}

TEST(ContainerFiles, LseekLlseekHolesFtruncate) {
  const GuestRun r = run_sim("fs_files", "seek");
  expect_all_ok(r, 12);
  EXPECT_TRUE(has_line(r, "size after the hole: reg 21")) << r.out;
  EXPECT_TRUE(has_line(r, "after ftruncate: hello")) << r.out;
}

TEST(ContainerFiles, UnlinkKeepsOpenDescriptors) {
  const GuestRun r = run_sim("fs_files", "remove");
  expect_all_ok(r, 6);
  EXPECT_TRUE(has_line(r, "stat64 after unlink: error 2")) << r.out;
}

TEST(ContainerFiles, RenameErrorsAndExdevAcrossMounts) {
  const GuestRun r = run_sim("fs_files", "rename");
  expect_all_ok(r, 10);
  EXPECT_TRUE(has_line(r, "/tmp/other: A")) << r.out;
}

TEST(ContainerFiles, MkdirRmdir) { expect_all_ok(run_sim("fs_files", "dirs"), 8); }

TEST(ContainerFiles, MknodWhiteoutNeedsNoPrivilege) {
  const GuestRun r = run_sim("fs_files", "mknod");
  expect_all_ok(r, 6);
  EXPECT_TRUE(has_line(r, "stat64 /tmp/w: chr 0/0")) << r.out;
}

// --- overlayfs, from inside -------------------------------------------------------------

TEST(ContainerOverlay, CopyUp_UpperGainsFileLowerUnchangedSecondMountSeesOld) {  // item 24
  const GuestRun r = run_sim("fs_overlay", "copyup");
  expect_all_ok(r, 6);
  EXPECT_TRUE(has_line(r, "upper before any write: ")) << r.out;
  EXPECT_TRUE(has_line(r, "upper /tmp/u/file: old\nnew")) << r.out;
  EXPECT_TRUE(has_line(r, "lower /tmp/l/file: old\n")) << r.out;
  EXPECT_TRUE(has_line(r, "/tmp/m2/file: old\n")) << r.out;
  EXPECT_TRUE(has_line(r, "upper /tmp/u/dir: inner")) << r.out;
}

TEST(ContainerOverlay, Unlink_WhiteoutCharDevice00NameGone) {  // item 25
  const GuestRun r = run_sim("fs_overlay", "whiteout");
  expect_all_ok(r, 6);
  EXPECT_TRUE(has_line(r, "stat64 /tmp/m/file: error 2")) << r.out;
  EXPECT_TRUE(has_line(r, "stat64 /tmp/u/file: chr 0/0")) << r.out;
  EXPECT_TRUE(has_line(r, "merged /tmp/m: dir/ keep")) << r.out;
  EXPECT_TRUE(has_line(r, "stat64 /tmp/u/dir: chr 0/0")) << r.out;
}

TEST(ContainerOverlay, MkdirOverWhiteout_OpaqueHidesLowerChildren) {  // item 25
  const GuestRun r = run_sim("fs_overlay", "opaque");
  expect_all_ok(r, 3);
  EXPECT_TRUE(has_line(r, "merged /tmp/m/dir: ")) << r.out;
  EXPECT_TRUE(has_line(r, "lower /tmp/l/dir: inner other")) << r.out;
}

TEST(ContainerOverlay, RenameLowerDirectory_Exdev) {  // item 26
  const GuestRun r = run_sim("fs_overlay", "rename");
  expect_all_ok(r, 5);
  EXPECT_TRUE(has_line(r, "ok rename of the lower directory /tmp/m/dir is EXDEV")) << r.out;
}

TEST(ContainerOverlay, SeveralLowers_LeftmostOnTop) {
  const GuestRun r = run_sim("fs_overlay", "lowers");
  expect_all_ok(r, 2);
  EXPECT_TRUE(has_line(r, "/tmp/m/f: top")) << r.out;
  EXPECT_TRUE(has_line(r, "merged /tmp/m/d: p q")) << r.out;
}

TEST(ContainerOverlay, NoUpperdir_ReadOnly) { expect_all_ok(run_sim("fs_overlay", "readonly"), 8); }

TEST(ContainerOverlay, MountOptions_Errors) { expect_all_ok(run_sim("fs_overlay", "options"), 6); }

// --- the same programs on the host Linux --------------------------------------------

struct NativeCase {
  const char* program;
  const char* sub;
};

class ContainerFsNative : public ::testing::TestWithParam<NativeCase> {};

TEST_P(ContainerFsNative, SameOutputAsLinux) {
  const NativeCase c = GetParam();
  const GuestRun sim = run_sim(c.program, c.sub);
  if (const std::string why = expect_same_output_as_linux(elf_of(c.program), {c.sub}, sim.out); !why.empty())
    GTEST_SKIP() << why;
}

INSTANTIATE_TEST_SUITE_P(
    Checklist, ContainerFsNative,
    ::testing::Values(NativeCase{"fs_files", "create"}, NativeCase{"fs_files", "seek"},
                      NativeCase{"fs_files", "remove"}, NativeCase{"fs_files", "rename"},
                      NativeCase{"fs_files", "dirs"}, NativeCase{"fs_files", "mknod"},
                      NativeCase{"fs_overlay", "copyup"}, NativeCase{"fs_overlay", "whiteout"},
                      NativeCase{"fs_overlay", "opaque"}, NativeCase{"fs_overlay", "rename"},
                      NativeCase{"fs_overlay", "lowers"}, NativeCase{"fs_overlay", "readonly"},
                      NativeCase{"fs_overlay", "options"}),
    [](const ::testing::TestParamInfo<NativeCase>& i) { return std::string(i.param.program) + "_" + i.param.sub; });

// --- layers as directories, and overlayfs from C++ (layer_fs.h, overlayfs.h) ---------

using container_image::ChangeSet;
using container_image::EntryKind;
using container_image::LayerEntry;

LayerEntry dir_entry(const std::string& path) { return LayerEntry{path, EntryKind::Directory, 0755, {}}; }
LayerEntry file_entry(const std::string& path, const std::string& text) {
  return LayerEntry{path, EntryKind::File, 0644, container_image::Bytes(text.begin(), text.end())};
}
LayerEntry whiteout_entry(const std::string& path) { return LayerEntry{path, EntryKind::Whiteout, 0644, {}}; }
LayerEntry opaque_entry(const std::string& path) { return LayerEntry{path, EntryKind::Opaque, 0755, {}}; }

std::shared_ptr<Inode> child(const Inode& dir, const std::string& name) {
  const auto it = dir.entries.find(name);
  return it == dir.entries.end() ? nullptr : it->second;
}

std::string text_of(const std::shared_ptr<Inode>& inode) {
  return inode && inode->data ? std::string(inode->data->begin(), inode->data->end()) : "(none)";
}

// Every path under `dir`, "d/" for directories, sorted as the map is.
void paths_of(const Inode& dir, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& [name, inode] : dir.entries) {
    out.push_back(prefix + name + (inode->type == Inode::Type::Directory ? "/" : ""));
    if (inode->type == Inode::Type::Directory) paths_of(*inode, prefix + name + "/", out);
  }
}

const ChangeSet kBase = {dir_entry("etc"), file_entry("etc/passwd", "root\n"), file_entry("etc/shadow", "x\n"),
                         dir_entry("var"), file_entry("var/log", "L\n"), file_entry("old", "o\n"),
                         file_entry("keep", "keep\n")};

TEST(ContainerLayers, OverlayStyle_WhiteoutsBecomeDevice00AndOpaqueFlag) {
  auto fs = std::make_shared<Filesystem>("tmpfs");
  std::string error;
  // The tar spelling of a whiteout (".wh.old") is taken as one too.
  const ChangeSet layer = {whiteout_entry("etc/shadow"), opaque_entry("var"), file_entry("var/new", "n\n"),
                           file_entry(".wh.old", "")};
  ASSERT_TRUE(unpack_layer(*fs, layer, error)) << error;
  const Inode& root = *fs->root();
  ASSERT_TRUE(child(root, "old"));
  EXPECT_TRUE(child(root, "old")->is_whiteout());
  EXPECT_TRUE(child(*child(root, "etc"), "shadow")->is_whiteout());
  EXPECT_TRUE(child(root, "var")->opaque);
  EXPECT_EQ(text_of(child(*child(root, "var"), "new")), "n\n");
  EXPECT_FALSE(child(root, ".wh.old"));  // layer.md: such names cannot exist
}

TEST(ContainerLayers, RemoveStyle_OpaqueThenWhiteoutsThenAdditionsAsFlatten) {
  const ChangeSet top = {file_entry("b", "b\n"), whiteout_entry("b"),  // the same layer: the file stays
                         whiteout_entry("old"), opaque_entry("var"), file_entry("var/new", "n\n"),
                         file_entry("etc", "a file over a directory\n")};
  auto fs = std::make_shared<Filesystem>("tmpfs");
  std::string error;
  ASSERT_TRUE(apply_layer(*fs, *fs->root(), kBase, WhiteoutStyle::Remove, error)) << error;
  ASSERT_TRUE(apply_layer(*fs, *fs->root(), top, WhiteoutStyle::Remove, error)) << error;
  std::vector<std::string> got;
  paths_of(*fs->root(), "", got);
  EXPECT_EQ(got, (std::vector<std::string>{"b", "etc", "keep", "var/", "var/new"}));
  // The image library's own reading of the same stack agrees.
  std::vector<std::string> want;
  for (const auto& [path, e] : container_image::flatten({kBase, top}))
    want.push_back(path + (e.kind == EntryKind::Directory ? "/" : ""));
  EXPECT_EQ(got, want);
}

struct Container {
  std::shared_ptr<Filesystem> upper_fs = std::make_shared<Filesystem>("tmpfs");
  std::shared_ptr<OverlayFs> fs;
  Container(const std::shared_ptr<Filesystem>& lower) {
    fs = std::make_shared<OverlayFs>(std::vector<LayerDir>{{lower, lower->root()}}, LayerDir{upper_fs, upper_fs->root()});
  }
  Inode& root() { return *fs->root(); }
};

std::shared_ptr<Filesystem> base_layer() {
  auto fs = std::make_shared<Filesystem>("tmpfs");
  std::string error;
  EXPECT_TRUE(unpack_layer(*fs, kBase, error)) << error;
  return fs;
}

TEST(ContainerLayers, CopyUp_TwoContainersOnOneLower) {  // item 24
  const auto lower = base_layer();
  Container a(lower), b(lower);
  std::shared_ptr<Inode> w;
  ASSERT_EQ(a.fs->open_write(*a.fs->lookup(a.root(), "etc", nullptr), "passwd", w), 0);
  w->writable_data().push_back('!');
  EXPECT_EQ(text_of(child(*child(*a.upper_fs->root(), "etc"), "passwd")), "root\n!");  // parents made, then the file
  EXPECT_EQ(text_of(child(*child(*lower->root(), "etc"), "passwd")), "root\n");        // the lower layer unchanged
  EXPECT_EQ(text_of(b.fs->lookup(*b.fs->lookup(b.root(), "etc", nullptr), "passwd", nullptr)), "root\n");
  EXPECT_EQ(a.fs->copy_ups(), 2u);  // etc/ and etc/passwd
}

TEST(ContainerLayers, ExportUpper_WhiteoutIsWhTarEntryOpaqueIsOpq) {  // item 25
  const auto lower = base_layer();
  Container c(lower);
  ASSERT_EQ(c.fs->remove(c.root(), "old", false), 0);
  auto var = c.fs->lookup(c.root(), "var", nullptr);
  ASSERT_EQ(c.fs->remove(*var, "log", false), 0);
  ASSERT_EQ(c.fs->remove(c.root(), "var", true), 0);
  ASSERT_EQ(c.fs->create(c.root(), "var", Inode::Type::Directory, 0755, 0, 0, nullptr), 0);
  EXPECT_TRUE(child(*c.upper_fs->root(), "var")->opaque);
  EXPECT_TRUE(c.fs->list(*c.fs->lookup(c.root(), "var", nullptr), nullptr).empty());
  std::shared_ptr<Inode> made;
  ASSERT_EQ(c.fs->create(c.root(), "new", Inode::Type::Regular, 0600, 0, 0, &made), 0);
  made->writable_data().assign({'h', 'i'});
  EXPECT_EQ(c.fs->rename(c.root(), "etc", c.root(), "etc2"), -18 /* EXDEV: a lower directory */);

  ChangeSet diff;
  std::string error;
  ASSERT_TRUE(export_upper(c.fs->upper(), diff, error)) << error;
  std::vector<std::string> got;
  for (const LayerEntry& e : diff) got.push_back(e.path + " " + std::to_string(int(e.kind)));
  EXPECT_EQ(got, (std::vector<std::string>{"new 1", "old 2", "var 0", "var 3"}));
  std::string tar;
  ASSERT_TRUE(container_image::layer_to_tar(diff, tar, error)) << error;
  EXPECT_NE(tar.find(".wh.old"), std::string::npos);
  EXPECT_NE(tar.find("var/.wh..wh..opq"), std::string::npos);
  // Committed on top of the base, the diff says what the container saw.
  std::vector<std::string> paths;
  for (const auto& [path, e] : container_image::flatten({kBase, diff})) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"etc", "etc/passwd", "etc/shadow", "keep", "new", "var"}));
}

TEST(ContainerLayers, ReadOnlyOverlay_EveryChangeErofs) {
  const auto lower = base_layer();
  OverlayFs ro({{lower, lower->root()}}, LayerDir{});
  std::shared_ptr<Inode> out;
  EXPECT_TRUE(ro.read_only());
  EXPECT_EQ(ro.open_write(*ro.root(), "keep", out), -30);
  EXPECT_EQ(ro.remove(*ro.root(), "keep", false), -30);
  EXPECT_EQ(ro.create(*ro.root(), "x", Inode::Type::Regular, 0644, 0, 0, nullptr), -30);
  EXPECT_EQ(text_of(ro.lookup(*ro.root(), "keep", nullptr)), "keep\n");
}

}  // namespace
}  // namespace vs::container_sim
