// Container images, the parts that need no store (docs/container-sim/images.md):
// SHA-256 against the FIPS 180-4 example vectors and sha256sum, ustar
// archives (round trip, byte-identical to GNU tar, malformed input
// rejected), layer digests (SEMANTICS.md checklist 27: DiffID and ChainID
// formulas checked with sha256sum), flattening with whiteouts.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "subprocess.h"
#include "virtscope/container_image/layer.h"
#include "virtscope/container_image/sha256.h"
#include "virtscope/container_image/tar.h"

namespace ci = vs::container_image;

namespace {

// The independent computation: coreutils sha256sum over the same bytes.
std::string sha256sum(const std::string& bytes) {
  const vs::test::ProcessResult r = vs::test::run_process("sha256sum", {}, bytes);
  EXPECT_EQ(r.status, 0) << r.err;
  return "sha256:" + r.out.substr(0, 64);
}

ci::Bytes bytes(std::string_view s) { return ci::Bytes(s.begin(), s.end()); }

std::vector<ci::TarEntry> sample_entries() {
  std::vector<ci::TarEntry> e;
  e.push_back({"etc/passwd", ci::TarEntry::Type::Regular, 0644, bytes("root:x:0:0::/root:/bin/sh\n")});
  e.push_back({"bin", ci::TarEntry::Type::Directory, 0755, {}});
  e.push_back({"bin/hello", ci::TarEntry::Type::Regular, 0755, ci::Bytes(1000, 0xAB)});
  e.push_back({"etc", ci::TarEntry::Type::Directory, 0700, {}});
  e.push_back({"empty", ci::TarEntry::Type::Regular, 0600, {}});
  return e;
}

std::string sample_tar() {
  std::string tar, error;
  EXPECT_TRUE(ci::tar_write(sample_entries(), tar, error)) << error;
  return tar;
}

// Re-seals a header after a test edits it, so that only the edit is wrong.
void reseal(std::string& tar, size_t header) {
  std::memset(&tar[header + 148], ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += static_cast<uint8_t>(tar[header + i]);
  std::snprintf(&tar[header + 148], 8, "%06o", sum);
  tar[header + 155] = ' ';
}

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "vs_image_test_XXXXXX").string();
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

std::string read_error(const std::string& tar) {
  std::vector<ci::TarEntry> out;
  std::string error;
  EXPECT_FALSE(ci::tar_read(tar, out, error));
  return error;
}

}  // namespace

TEST(Sha256, FipsExampleVectors) {
  // FIPS 180-4 examples (NIST "SHA256.pdf", "SHA2_Additional.pdf").
  EXPECT_EQ(ci::to_hex(ci::sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ci::to_hex(ci::sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ci::to_hex(ci::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(ci::to_hex(ci::sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalUpdates_SameAsOneShot_AroundBlockBoundaries) {
  for (size_t length : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000}) {
    std::string msg(length, '\0');
    for (size_t i = 0; i < length; ++i) msg[i] = static_cast<char>(i * 7 + 3);
    ci::Sha256 h;
    for (size_t i = 0; i < length; i += 13) h.update(std::string_view(msg).substr(i, 13));
    EXPECT_EQ(ci::to_hex(h.finish()), ci::to_hex(ci::sha256(msg))) << length;
    EXPECT_EQ(ci::digest_of(msg), sha256sum(msg)) << length;
  }
}

TEST(Sha256, DigestStrings) {
  const std::string d = ci::digest_of("a");
  EXPECT_EQ(d, "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
  EXPECT_TRUE(ci::is_digest(d));
  EXPECT_FALSE(ci::is_digest("sha256:CA978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"));
  EXPECT_FALSE(ci::is_digest("sha512:ca97"));
  EXPECT_EQ(ci::digest_prefix(d), 0xca978112ca1bbdcaull);
}

TEST(Tar, RoundTrip_EntriesComeBackSortedWithModes) {
  std::vector<ci::TarEntry> in = sample_entries();
  // A name longer than 100 bytes needs ustar's prefix field.
  const std::string deep = std::string(90, 'd') + "/" + std::string(60, 'e') + "/file";
  in.push_back({deep, ci::TarEntry::Type::Regular, 0644, bytes("deep")});
  std::string tar, error;
  ASSERT_TRUE(ci::tar_write(in, tar, error)) << error;
  EXPECT_EQ(tar.size() % 512, 0u);
  std::vector<ci::TarEntry> out;
  ASSERT_TRUE(ci::tar_read(tar, out, error)) << error;
  ASSERT_EQ(out.size(), in.size());
  std::sort(in.begin(), in.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].name, in[i].name);
    EXPECT_EQ(out[i].type, in[i].type);
    EXPECT_EQ(out[i].mode, in[i].mode);
    EXPECT_EQ(out[i].data, in[i].data);
  }
}

TEST(Tar, Deterministic_InputOrderDoesNotMatter_FixedFields_TwoZeroBlocks) {
  std::vector<ci::TarEntry> reversed = sample_entries();
  std::reverse(reversed.begin(), reversed.end());
  std::string a = sample_tar(), b, error;
  ASSERT_TRUE(ci::tar_write(reversed, b, error));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.substr(0, 4), "bin/");                        // sorted: "bin" first, with its '/'
  EXPECT_EQ(a.substr(136, 12), std::string("00000000000\0", 12));  // mtime 0
  EXPECT_EQ(a.substr(108, 8), std::string("0000000\0", 8));        // uid 0
  EXPECT_EQ(a.substr(a.size() - 1024), std::string(1024, '\0'));
}

TEST(Tar, GnuTarListsOurArchive) {
  const std::filesystem::path dir = make_temp_dir();
  std::ofstream(dir / "x.tar", std::ios::binary) << sample_tar();
  const vs::test::ProcessResult r = vs::test::run_process("tar", {"-tvf", (dir / "x.tar").string()});
  std::filesystem::remove_all(dir);
  if (r.exec_errno != 0) GTEST_SKIP() << "no tar(1) on this host";
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("drwxr-xr-x 0/0"), std::string::npos) << r.out;
  // (the listed date depends on the local time zone, so it is not compared)
  EXPECT_NE(r.out.find("-rwxr-xr-x 0/0            1000 19"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" bin/hello\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("etc/passwd"), std::string::npos) << r.out;
}

TEST(Tar, TruncatedArchives_RejectedAtEveryLength) {
  const std::string tar = sample_tar();
  for (size_t cut = 0; cut < tar.size(); cut += 97) {
    const std::string error = read_error(tar.substr(0, cut));
    EXPECT_NE(error.find("tar"), std::string::npos) << cut;
  }
  // Whole blocks but no end marker, or half of it.
  EXPECT_NE(read_error(tar.substr(0, tar.size() - 1024)).find("without the two zero blocks"), std::string::npos);
  EXPECT_NE(read_error(tar.substr(0, tar.size() - 512)).find("single zero block"), std::string::npos);
  EXPECT_NE(read_error(tar.substr(0, 1000)).find("not a whole number"), std::string::npos);
}

TEST(Tar, CorruptedHeaders_ClearErrors) {
  std::string tar = sample_tar();
  std::string flipped = tar;
  flipped[3] ^= 0x20;  // a name byte, checksum left alone
  EXPECT_NE(read_error(flipped).find("checksum mismatch"), std::string::npos);

  std::string bad_magic = tar;
  std::memcpy(&bad_magic[257], "ustaX", 5);
  reseal(bad_magic, 0);
  EXPECT_NE(read_error(bad_magic).find("not a POSIX ustar header"), std::string::npos);

  std::string symlink = tar;
  symlink[156] = '2';
  reseal(symlink, 0);
  EXPECT_NE(read_error(symlink).find("only regular files"), std::string::npos);

  std::string escape = tar;
  std::memcpy(&escape[0], "../x\0", 5);
  reseal(escape, 0);
  EXPECT_NE(read_error(escape).find("unsafe"), std::string::npos);

  // bin/hello (second header, at 512) claims far more data than there is.
  std::string huge = tar;
  std::memcpy(&huge[512 + 124], "77777777777", 11);
  reseal(huge, 512);
  EXPECT_NE(read_error(huge).find("claims"), std::string::npos);

  std::string not_octal = tar;
  not_octal[512 + 124] = '9';
  reseal(not_octal, 512);
  EXPECT_NE(read_error(not_octal).find("not an octal number"), std::string::npos);
}

TEST(Tar, EveryByteFlipped_NeverCrashes) {
  const std::string tar = sample_tar();
  for (size_t i = 0; i < 3 * 512; ++i) {
    std::string damaged = tar;
    damaged[i] = static_cast<char>(damaged[i] ^ 0xFF);
    std::vector<ci::TarEntry> out;
    std::string error;
    if (!ci::tar_read(damaged, out, error)) {
      EXPECT_FALSE(error.empty()) << i;
    }
  }
}

TEST(Layer, WhiteoutsBecomeDotWhFiles_AndComeBack) {
  ci::ChangeSet changes = {
      {"etc", ci::EntryKind::Directory, 0755, {}},
      {"etc/motd", ci::EntryKind::File, 0644, bytes("hi\n")},
      {"etc/passwd", ci::EntryKind::Whiteout, 0644, {}},
      {"var/cache", ci::EntryKind::Opaque, 0644, {}},
      {"", ci::EntryKind::Opaque, 0644, {}},
  };
  std::string tar, error;
  ASSERT_TRUE(ci::layer_to_tar(changes, tar, error)) << error;
  std::vector<ci::TarEntry> raw;
  ASSERT_TRUE(ci::tar_read(tar, raw, error));
  std::vector<std::string> names;
  for (auto& e : raw) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{".wh..wh..opq", "etc", "etc/.wh.passwd", "etc/motd",
                                             "var/cache/.wh..wh..opq"}));
  EXPECT_TRUE(raw[2].data.empty());
  ci::ChangeSet back;
  ASSERT_TRUE(ci::layer_from_tar(tar, back, error)) << error;
  ASSERT_EQ(back.size(), 5u);
  EXPECT_EQ(back[0].kind, ci::EntryKind::Opaque);
  EXPECT_EQ(back[0].path, "");
  EXPECT_EQ(back[2].kind, ci::EntryKind::Whiteout);
  EXPECT_EQ(back[2].path, "etc/passwd");
  EXPECT_EQ(back[4].path, "var/cache");
}

TEST(Layer, BadChangeSets_Rejected) {
  std::string tar, error;
  EXPECT_FALSE(ci::layer_to_tar({{".wh.x", ci::EntryKind::File, 0644, {}}}, tar, error));
  EXPECT_NE(error.find("reserved"), std::string::npos);
  EXPECT_FALSE(ci::layer_to_tar({{"/abs", ci::EntryKind::File, 0644, {}}}, tar, error));
  EXPECT_FALSE(ci::layer_to_tar({{"a/../../b", ci::EntryKind::File, 0644, {}}}, tar, error));
  EXPECT_FALSE(ci::layer_to_tar({{"a", ci::EntryKind::File, 0644, {}}, {"a", ci::EntryKind::File, 0600, {}}},
                                tar, error));
  EXPECT_NE(error.find("two entries"), std::string::npos);
  EXPECT_FALSE(ci::layer_to_tar({{"d", ci::EntryKind::Directory, 0755, bytes("x")}}, tar, error));
}

// SEMANTICS.md checklist 27: DiffID = sha256 of the uncompressed tar;
// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
TEST(Layer, DiffIdAndChainId_MatchTheOciFormulas_CheckedWithSha256sum) {
  std::string tar1, tar2, tar3, error;
  ASSERT_TRUE(ci::layer_to_tar({{"a", ci::EntryKind::File, 0644, bytes("one")}}, tar1, error));
  ASSERT_TRUE(ci::layer_to_tar({{"b", ci::EntryKind::File, 0644, bytes("two")}}, tar2, error));
  ASSERT_TRUE(ci::layer_to_tar({{"a", ci::EntryKind::Whiteout, 0644, {}}}, tar3, error));
  const std::vector<std::string> diffs = {ci::diff_id(tar1), ci::diff_id(tar2), ci::diff_id(tar3)};
  EXPECT_EQ(diffs[0], sha256sum(tar1));
  EXPECT_EQ(diffs[1], sha256sum(tar2));
  EXPECT_EQ(diffs[2], sha256sum(tar3));
  const std::vector<std::string> chain = ci::chain_ids(diffs);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0], diffs[0]);
  EXPECT_EQ(chain[1], sha256sum(diffs[0] + " " + diffs[1]));
  EXPECT_EQ(chain[2], sha256sum(chain[1] + " " + diffs[2]));
  // Written down from:  A=sha256:$(printf a | sha256sum | cut -c1-64)
  //   B=sha256:$(printf b | sha256sum | cut -c1-64); printf '%s' "$A $B" | sha256sum
  EXPECT_EQ(ci::chain_ids({ci::digest_of("a"), ci::digest_of("b")})[1],
            "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676");
  EXPECT_EQ(ci::image_id("{}"), sha256sum("{}"));
}

TEST(Layer, Flatten_AppliesWhiteoutsOpaqueAndReplacement) {
  std::vector<ci::ChangeSet> layers = {
      {{"etc", ci::EntryKind::Directory, 0755, {}},
       {"etc/a", ci::EntryKind::File, 0644, bytes("a")},
       {"etc/b", ci::EntryKind::File, 0644, bytes("b")},
       {"var", ci::EntryKind::Directory, 0755, {}},
       {"var/x", ci::EntryKind::File, 0644, bytes("x")},
       {"d", ci::EntryKind::Directory, 0755, {}},
       {"d/in", ci::EntryKind::File, 0644, {}}},
      {{"etc/a", ci::EntryKind::Whiteout, 0644, {}},
       {"etc", ci::EntryKind::Directory, 0700, {}},
       {"var", ci::EntryKind::Opaque, 0644, {}},
       {"var/y", ci::EntryKind::File, 0644, bytes("y")},  // the layer's own entry survives its opaque
       {"d", ci::EntryKind::File, 0644, bytes("now a file")}},
  };
  const auto fs = ci::flatten(layers);
  std::vector<std::string> paths;
  for (auto& [p, e] : fs) paths.push_back(p);
  EXPECT_EQ(paths, (std::vector<std::string>{"d", "etc", "etc/b", "var", "var/y"}));
  EXPECT_EQ(fs.at("etc").mode, 0700u);
  EXPECT_EQ(fs.at("d").kind, ci::EntryKind::File);
}

TEST(Tar, ReadsWhatGnuTarWrites_InUstarFormat) {
  const std::filesystem::path dir = make_temp_dir();
  std::filesystem::create_directories(dir / "src/sub");
  std::ofstream(dir / "src/a.txt") << "alpha";
  std::ofstream(dir / "src/sub/b.bin") << std::string(700, 'b');
  std::filesystem::permissions(dir / "src/a.txt", std::filesystem::perms(0640));
  const vs::test::ProcessResult r = vs::test::run_process(
      "tar", {"--format=ustar", "-C", (dir / "src").string(), "-cf", (dir / "x.tar").string(), "."});
  if (r.exec_errno != 0) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "no tar(1) on this host";
  }
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(dir / "x.tar", std::ios::binary);
  const std::string tar((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  std::vector<ci::TarEntry> out;
  std::string error;
  ASSERT_TRUE(ci::tar_read(tar, out, error)) << error;
  std::map<std::string, ci::TarEntry> by_name;
  for (auto& e : out) by_name[e.name] = e;
  ASSERT_EQ(by_name.size(), 3u);  // "./" itself is skipped
  EXPECT_EQ(by_name.at("a.txt").mode, 0640u);
  EXPECT_EQ(by_name.at("a.txt").data, bytes("alpha"));
  EXPECT_EQ(by_name.at("sub").type, ci::TarEntry::Type::Directory);
  EXPECT_EQ(by_name.at("sub/b.bin").data.size(), 700u);
}

TEST(Tar, NameLengths_100FitsTheNameField_TooLongIsAnError) {
  std::string tar, error;
  const std::string exactly100(100, 'n');
  ASSERT_TRUE(ci::tar_write({{exactly100, ci::TarEntry::Type::Regular, 0644, {}}}, tar, error)) << error;
  std::vector<ci::TarEntry> out;
  ASSERT_TRUE(ci::tar_read(tar, out, error)) << error;
  EXPECT_EQ(out.at(0).name, exactly100);
  EXPECT_FALSE(ci::tar_write({{std::string(101, 'n'), ci::TarEntry::Type::Regular, 0644, {}}}, tar, error));
  EXPECT_NE(error.find("too long"), std::string::npos);
  EXPECT_FALSE(ci::tar_write({{std::string(200, 'p') + "/x", ci::TarEntry::Type::Regular, 0644, {}}}, tar, error));
  EXPECT_FALSE(ci::tar_write({{"a//b", ci::TarEntry::Type::Regular, 0644, {}}}, tar, error));
}

// An independent writer: GNU tar, told to be deterministic the same way,
// produces the very same bytes, so its sha256sum is our DiffID.
TEST(Layer, SameBytesAsGnuTar_SoSha256sumOfItsArchiveIsTheDiffId) {
  const std::filesystem::path dir = make_temp_dir();
  namespace fs = std::filesystem;
  for (const char* d : {"a", "a/c", "a-b"}) fs::create_directories(dir / "src" / d);
  std::ofstream(dir / "src/a/c/f") << "in c\n";
  std::ofstream(dir / "src/a.b") << std::string(513, 'z');
  std::ofstream(dir / "src/a/run") << "#!/bin/sh\n";
  for (const char* d : {"a", "a/c", "a-b"}) fs::permissions(dir / "src" / d, fs::perms(0755));
  fs::permissions(dir / "src/a/c/f", fs::perms(0644));
  fs::permissions(dir / "src/a.b", fs::perms(0600));
  fs::permissions(dir / "src/a/run", fs::perms(0755));
  const vs::test::ProcessResult r = vs::test::run_process(
      "tar", {"--format=ustar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-b",
              "1", "-C", (dir / "src").string(), "-cf", (dir / "gnu.tar").string(), "a", "a-b", "a.b"});
  std::ifstream in(dir / "gnu.tar", std::ios::binary);
  const std::string gnu((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove_all(dir);
  if (r.exec_errno != 0) GTEST_SKIP() << "no tar(1) on this host";
  ASSERT_EQ(r.status, 0) << r.err;
  const ci::ChangeSet changes = {
      {"a.b", ci::EntryKind::File, 0600, ci::Bytes(513, 'z')},
      {"a", ci::EntryKind::Directory, 0755, {}},
      {"a-b", ci::EntryKind::Directory, 0755, {}},
      {"a/c/f", ci::EntryKind::File, 0644, bytes("in c\n")},
      {"a/c", ci::EntryKind::Directory, 0755, {}},
      {"a/run", ci::EntryKind::File, 0755, bytes("#!/bin/sh\n")},
  };
  std::string ours, error;
  ASSERT_TRUE(ci::layer_to_tar(changes, ours, error)) << error;
  EXPECT_EQ(ours.size(), gnu.size());
  EXPECT_TRUE(ours == gnu);
  EXPECT_EQ(ci::diff_id(ours), sha256sum(gnu));
}
