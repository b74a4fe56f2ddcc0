// The local image store (docs/container-sim/images.md): build from recipes
// made in a temporary directory, list, inspect, remove with blob garbage
// collection, layer reuse (ImageOp op 2), determinism, RUN through the
// caller's callback, and corruption detected on load.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "subprocess.h"
#include "virtscope/container_image/sha256.h"
#include "virtscope/container_image/store.h"
#include "virtscope/trace/event.h"

namespace ci = vs::container_image;
namespace fs = std::filesystem;

namespace {

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vs_image_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    write("ctx/hello", "hello from the image\n", 0755);
    write("ctx/etc/motd", "welcome\n", 0644);
    write("ctx/etc/conf/app.conf", "x=1\n", 0600);  // becomes 0644: no execute bit
    write("ctx/Containerfile",
          "FROM scratch\n"
          "COPY hello /bin/hello\n"
          "COPY etc /etc/\n"
          "ENV PATH=/bin\n"
          "WORKDIR /home\n"
          "CMD [\"/bin/hello\"]\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, const std::string& text, int mode = 0644) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    fs::permissions(p, static_cast<fs::perms>(mode));
  }
  std::string recipe(const std::string& name = "ctx/Containerfile") const { return (dir_ / name).string(); }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  ci::ImageInfo build_ok(ci::ImageStore& store, const std::string& tag, const std::string& file,
                         const ci::RunStep& run = {}) {
    ci::ImageInfo info;
    std::string error;
    EXPECT_TRUE(store.build(file, tag, info, error, run)) << error;
    return info;
  }

  fs::path dir_;
};

// Counts ImageOp events by op.
struct OpCounter {
  explicit OpCounter(vs::trace::EventLog& log) {
    log.subscribe(vs::trace::KindSet::of({vs::trace::EventKind::ImageOp}),
                  [this](const vs::trace::Event& e) { ++ops[e.arg[0]]; events.push_back(e); });
  }
  std::map<uint64_t, int> ops;
  std::vector<vs::trace::Event> events;
};

}  // namespace

TEST_F(ImageStoreTest, BuildFromScratch_ConfigLayersAndLayoutFiles) {
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo img = build_ok(store, "hello:1", recipe());
  EXPECT_EQ(img.tags, (std::vector<std::string>{"hello:1"}));
  EXPECT_EQ(img.config.architecture, "386");
  EXPECT_EQ(img.config.os, "linux");
  EXPECT_EQ(img.config.env, (std::vector<std::string>{"PATH=/bin"}));
  EXPECT_EQ(img.config.cmd, (std::vector<std::string>{"/bin/hello"}));
  EXPECT_EQ(img.config.working_dir, "/home");
  ASSERT_EQ(img.config.diff_ids.size(), 2u);
  ASSERT_EQ(img.config.history.size(), 5u);
  EXPECT_EQ(img.config.history[0].created_by, "COPY hello /bin/hello");
  EXPECT_FALSE(img.config.history[0].empty_layer);
  EXPECT_TRUE(img.config.history[2].empty_layer);  // ENV
  EXPECT_EQ(img.layers[0].digest, img.config.diff_ids[0]);
  EXPECT_EQ(img.chain_ids.size(), 2u);
  EXPECT_EQ(slurp(dir_ / "store/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
  const std::string index = slurp(dir_ / "store/index.json");
  EXPECT_NE(index.find("\"org.opencontainers.image.ref.name\":\"hello:1\""), std::string::npos) << index;
  EXPECT_NE(index.find(img.manifest_digest), std::string::npos);

  std::vector<ci::ChangeSet> layers;
  std::string error;
  ASSERT_TRUE(store.load_layers("hello:1", layers, error)) << error;
  ASSERT_EQ(layers.size(), 2u);
  const auto root = ci::flatten(layers);
  ASSERT_TRUE(root.count("bin/hello"));
  EXPECT_EQ(root.at("bin/hello").mode, 0755u);
  const std::string hello = "hello from the image\n";
  EXPECT_EQ(root.at("bin/hello").data, ci::Bytes(hello.begin(), hello.end()));
  EXPECT_EQ(root.at("bin").kind, ci::EntryKind::Directory);
  ASSERT_TRUE(root.count("etc/conf/app.conf"));
  EXPECT_EQ(root.at("etc/conf/app.conf").mode, 0644u);
  EXPECT_TRUE(root.count("etc/motd"));
}

TEST_F(ImageStoreTest, ImageIdAndBlobNames_AreSha256OfTheBytes_CheckedWithSha256sum) {
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo img = build_ok(store, "hello", recipe());
  const fs::path config = dir_ / "store/blobs/sha256" / img.id.substr(7);
  const vs::test::ProcessResult r = vs::test::run_process("sha256sum", {config.string()});
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ("sha256:" + r.out.substr(0, 64), img.id);
  EXPECT_EQ(ci::image_id(slurp(config)), img.id);
  for (const std::string& d : img.config.diff_ids)
    EXPECT_EQ(ci::diff_id(slurp(dir_ / "store/blobs/sha256" / d.substr(7))), d);
}

TEST_F(ImageStoreTest, SecondBuild_ReusesLayers_SameImageId_Events) {
  vs::trace::EventLog log;
  OpCounter count(log);
  ci::ImageStore store(dir_ / "store", &log);
  const ci::ImageInfo first = build_ok(store, "a", recipe());
  EXPECT_EQ(count.ops[0], 2);  // two layers made
  EXPECT_EQ(count.ops[1], 2);  // both stored
  EXPECT_EQ(count.ops[2], 0);
  EXPECT_EQ(count.ops[3], 1);  // one image committed
  ASSERT_FALSE(count.events.empty());
  EXPECT_EQ(count.events.back().arg[1], ci::digest_prefix(first.id));
  EXPECT_EQ(count.events.back().arg[3], 2u);  // its layer count
  const ci::ImageInfo second = build_ok(store, "b", recipe());
  EXPECT_EQ(count.ops[2], 2);  // both reused
  EXPECT_EQ(count.ops[1], 2);  // nothing new stored
  EXPECT_EQ(second.id, first.id);
  std::vector<ci::ImageInfo> all;
  std::string error;
  ASSERT_TRUE(store.list(all, error)) << error;
  ASSERT_EQ(all.size(), 1u);  // one image, two tags
  EXPECT_EQ(all[0].tags, (std::vector<std::string>{"a", "b"}));
  std::vector<ci::ChangeSet> layers;
  ASSERT_TRUE(store.load_layers("a", layers, error));
  EXPECT_EQ(count.ops[4], 2);  // unpacked
  ASSERT_EQ(count.events.size(), 12u);
  EXPECT_EQ(count.events[10].arg[3], 0u);  // index: the layer's position from the bottom
  EXPECT_EQ(count.events[11].arg[3], 1u);
  EXPECT_EQ(count.events[11].arg[1], ci::digest_prefix(first.config.diff_ids[1]));
  // Another tag still names the image: removing "a" deletes no blob.
  size_t deleted = 99;
  ASSERT_TRUE(store.remove("a", error, &deleted)) << error;
  EXPECT_EQ(deleted, 0u);
  EXPECT_TRUE(store.load_layers("b", layers, error)) << error;
}

TEST_F(ImageStoreTest, TwoStores_SameRecipe_SameDigests) {
  ci::ImageStore one(dir_ / "one"), two(dir_ / "two");
  const ci::ImageInfo a = build_ok(one, "x", recipe());
  const ci::ImageInfo b = build_ok(two, "x", recipe());
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.manifest_digest, b.manifest_digest);
  EXPECT_EQ(a.config.diff_ids, b.config.diff_ids);
  EXPECT_EQ(slurp(dir_ / "one/index.json"), slurp(dir_ / "two/index.json"));
}

TEST_F(ImageStoreTest, FromStoredImage_InheritsLayersAndConfig_EntrypointResetsBaseCmd) {
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo base = build_ok(store, "base", recipe());
  write("ctx/Child", "FROM base\nENV PATH=/usr/bin X=1\nCOPY hello app/\nENTRYPOINT [\"/app/hello\"]\n");
  const ci::ImageInfo child = build_ok(store, "child", recipe("ctx/Child"));
  ASSERT_EQ(child.config.diff_ids.size(), 3u);
  EXPECT_EQ(child.config.diff_ids[0], base.config.diff_ids[0]);
  EXPECT_EQ(child.config.diff_ids[1], base.config.diff_ids[1]);
  EXPECT_EQ(child.chain_ids[1], base.chain_ids[1]);
  EXPECT_EQ(child.config.env, (std::vector<std::string>{"PATH=/usr/bin", "X=1"}));
  EXPECT_TRUE(child.config.cmd.empty());
  EXPECT_EQ(child.config.history.size(), 8u);
  std::vector<ci::ChangeSet> layers;
  std::string error;
  ASSERT_TRUE(store.load_layers("child", layers, error)) << error;
  EXPECT_TRUE(ci::flatten(layers).count("home/app/hello"));  // relative dest under WORKDIR /home
  write("ctx/Missing", "FROM nothere\n");
  ci::ImageInfo info;
  EXPECT_FALSE(store.build(recipe("ctx/Missing"), "m", info, error));
  EXPECT_NE(error.find("Missing:1: FROM nothere: no image 'nothere'"), std::string::npos) << error;
}

TEST_F(ImageStoreTest, ListInspectRemove_SharedBlobsStay) {
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo a = build_ok(store, "a", recipe());
  write("ctx/B", "FROM scratch\nCOPY hello /bin/hello\nCOPY etc/motd /etc/motd\n");
  const ci::ImageInfo b = build_ok(store, "b", recipe("ctx/B"));
  ASSERT_EQ(a.config.diff_ids[0], b.config.diff_ids[0]);  // the same COPY made the same layer
  ci::ImageInfo found;
  std::string error;
  ASSERT_TRUE(store.inspect(a.id.substr(7, 12), found, error)) << error;
  EXPECT_EQ(found.id, a.id);
  ASSERT_TRUE(store.inspect(b.id, found, error)) << error;
  EXPECT_EQ(found.tags, (std::vector<std::string>{"b"}));
  EXPECT_FALSE(store.inspect("nope", found, error));
  EXPECT_NE(error.find("no image 'nope'"), std::string::npos);
  if (a.id[7] == b.id[7]) {
    EXPECT_FALSE(store.inspect(a.id.substr(7, 1), found, error));
    EXPECT_NE(error.find("ambiguous"), std::string::npos);
  }

  size_t deleted = 0;
  ASSERT_TRUE(store.remove("a", error, &deleted)) << error;
  EXPECT_EQ(deleted, 3u);  // a's second layer, its config and its manifest
  EXPECT_FALSE(fs::exists(dir_ / "store/blobs/sha256" / a.id.substr(7)));
  EXPECT_TRUE(fs::exists(dir_ / "store/blobs/sha256" / a.config.diff_ids[0].substr(7)));  // shared with b
  std::vector<ci::ChangeSet> layers;
  ASSERT_TRUE(store.load_layers("b", layers, error)) << error;
  EXPECT_FALSE(store.remove("a", error));
  EXPECT_NE(error.find("no tag 'a'"), std::string::npos);
  ASSERT_TRUE(store.remove("b", error, &deleted)) << error;
  EXPECT_TRUE(fs::is_empty(dir_ / "store/blobs/sha256"));
  std::vector<ci::ImageInfo> all;
  ASSERT_TRUE(store.list(all, error));
  EXPECT_TRUE(all.empty());
}

TEST_F(ImageStoreTest, CorruptedBlobs_DetectedOnLoad_RepairedByRebuild) {
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo img = build_ok(store, "x", recipe());
  const fs::path layer = dir_ / "store/blobs/sha256" / img.config.diff_ids[1].substr(7);
  std::string tar = slurp(layer);
  tar[600] ^= 1;
  std::ofstream(layer, std::ios::binary | std::ios::trunc) << tar;
  std::vector<ci::ChangeSet> layers;
  std::string error;
  EXPECT_FALSE(store.load_layers("x", layers, error));
  EXPECT_NE(error.find("layer 1 (" + img.config.diff_ids[1] + "): blob " + img.config.diff_ids[1] +
                       " is corrupted: its content hashes to sha256:"),
            std::string::npos)
      << error;
  // Building again notices the damaged blob and writes it anew.
  build_ok(store, "x", recipe());
  EXPECT_TRUE(store.load_layers("x", layers, error)) << error;

  const fs::path config = dir_ / "store/blobs/sha256" / img.id.substr(7);
  std::ofstream(config, std::ios::binary | std::ios::trunc) << "{}";
  ci::ImageInfo info;
  EXPECT_FALSE(store.inspect("x", info, error));
  EXPECT_NE(error.find("is corrupted"), std::string::npos) << error;
  fs::remove(config);
  EXPECT_FALSE(store.inspect("x", info, error));
  EXPECT_NE(error.find("is missing"), std::string::npos) << error;
  std::ofstream(dir_ / "store/index.json", std::ios::trunc) << "{\"schemaVersion\":2,";
  EXPECT_FALSE(store.inspect("x", info, error));
  EXPECT_NE(error.find("index.json: JSON 1:"), std::string::npos) << error;
}

TEST_F(ImageStoreTest, Run_WithoutCallbackIsAnError_WithCallbackMakesALayer) {
  write("ctx/Run", "FROM scratch\nCOPY hello /bin/hello\nENV A=1\nWORKDIR /tmp\n\nRUN /bin/hello > /out\n");
  ci::ImageStore store(dir_ / "store");
  ci::ImageInfo info;
  std::string error;
  EXPECT_FALSE(store.build(recipe("ctx/Run"), "r", info, error));
  EXPECT_NE(error.find("Run:6: RUN needs a program runner"), std::string::npos) << error;

  size_t seen_layers = 0;
  ci::RunCommand seen;
  const ci::RunStep run = [&](const std::vector<ci::ChangeSet>& layers, const ci::RunCommand& cmd,
                              ci::ChangeSet& changes, std::string&) {
    seen_layers = layers.size();
    seen = cmd;
    changes.push_back({"out", ci::EntryKind::File, 0644, {'o', 'k'}});
    changes.push_back({"bin/hello", ci::EntryKind::Whiteout, 0644, {}});
    return true;
  };
  info = build_ok(store, "r", recipe("ctx/Run"), run);
  EXPECT_EQ(seen_layers, 1u);
  EXPECT_EQ(seen.argv, (std::vector<std::string>{"/bin/sh", "-c", "/bin/hello > /out"}));
  EXPECT_EQ(seen.env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ(seen.working_dir, "/tmp");
  EXPECT_NE(seen.where.find("Run:6"), std::string::npos);
  EXPECT_EQ(info.config.history.back().created_by, "RUN /bin/hello > /out");
  std::vector<ci::ChangeSet> layers;
  ASSERT_TRUE(store.load_layers("r", layers, error)) << error;
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1][0].kind, ci::EntryKind::Whiteout);  // ".wh.hello" sorts before "out"
  const auto root = ci::flatten(layers);
  EXPECT_FALSE(root.count("bin/hello"));
  EXPECT_TRUE(root.count("out"));

  const ci::RunStep failing = [](const std::vector<ci::ChangeSet>&, const ci::RunCommand&, ci::ChangeSet&,
                                 std::string& why) {
    why = "exit status 1";
    return false;
  };
  EXPECT_FALSE(store.build(recipe("ctx/Run"), "r", info, error, failing));
  EXPECT_NE(error.find("Run:6: RUN failed: exit status 1"), std::string::npos) << error;
}

TEST_F(ImageStoreTest, CopyErrors_MissingSourceSymlinkEscapeBadTag) {
  ci::ImageStore store(dir_ / "store");
  ci::ImageInfo info;
  std::string error;
  write("ctx/NoSrc", "FROM scratch\nCOPY missing /x\n");
  EXPECT_FALSE(store.build(recipe("ctx/NoSrc"), "t", info, error));
  EXPECT_NE(error.find("NoSrc:2: COPY source 'missing' does not exist"), std::string::npos) << error;
  write("outside/secret", "s");
  fs::create_directory_symlink(dir_ / "outside", dir_ / "ctx/link");
  write("ctx/Esc", "FROM scratch\nCOPY link/secret /x\n");
  EXPECT_FALSE(store.build(recipe("ctx/Esc"), "t", info, error));
  EXPECT_NE(error.find("Esc:2: COPY source 'link/secret' leads outside the build context"), std::string::npos)
      << error;
  write("ctx/Over", "FROM scratch\nCOPY hello /f\nCOPY hello /f/g\n");
  EXPECT_FALSE(store.build(recipe("ctx/Over"), "t", info, error));
  EXPECT_NE(error.find("Over:3: '/f' is a file in the image"), std::string::npos) << error;
  EXPECT_FALSE(store.build(recipe(), "bad tag", info, error));
  EXPECT_NE(error.find("invalid tag"), std::string::npos);
  EXPECT_FALSE(store.build(recipe("ctx/absent"), "t", info, error));
  EXPECT_NE(error.find("cannot read recipe"), std::string::npos);
}

TEST_F(ImageStoreTest, LeftoverTemporaryFiles_DoNotBreakTheStore_RemoveSweepsThem) {
  ci::ImageStore store(dir_ / "store");
  build_ok(store, "keep", recipe());
  write("ctx/Other", "FROM scratch\nCOPY etc/motd /motd\n");
  build_ok(store, "other", recipe("ctx/Other"));
  // What a crash between write and rename leaves behind.
  write("store/blobs/sha256/.tmp-abc-1-0", "half a blob");
  write("store/.tmp-index.json-1-1", "{\"schemaVersion\":");
  std::vector<ci::ImageInfo> all;
  std::string error;
  ASSERT_TRUE(store.list(all, error)) << error;
  EXPECT_EQ(all.size(), 2u);
  ASSERT_TRUE(store.remove("other", error)) << error;
  EXPECT_FALSE(fs::exists(dir_ / "store/blobs/sha256/.tmp-abc-1-0"));
  std::vector<ci::ChangeSet> layers;
  EXPECT_TRUE(store.load_layers("keep", layers, error)) << error;
}

TEST_F(ImageStoreTest, WorkdirAndCopyDestinations) {
  write("ctx/W", "FROM scratch\nWORKDIR /srv\nWORKDIR app\nCOPY hello .\nCOPY etc/motd m\nCOPY etc sub/\n"
                 "COPY hello /srv/app/sub/\n");
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo img = build_ok(store, "w", recipe("ctx/W"));
  EXPECT_EQ(img.config.working_dir, "/srv/app");
  std::vector<ci::ChangeSet> layers;
  std::string error;
  ASSERT_TRUE(store.load_layers("w", layers, error)) << error;
  const auto root = ci::flatten(layers);
  EXPECT_TRUE(root.count("srv/app/hello"));
  EXPECT_EQ(root.at("srv/app/m").kind, ci::EntryKind::File);
  EXPECT_TRUE(root.count("srv/app/sub/motd"));
  EXPECT_TRUE(root.count("srv/app/sub/conf/app.conf"));
  EXPECT_TRUE(root.count("srv/app/sub/hello"));  // an existing directory takes the file inside
}

TEST_F(ImageStoreTest, CommitAndStoreLayer_ForCallersWithoutARecipe) {
  vs::trace::EventLog log;
  OpCounter count(log);
  ci::ImageStore store(dir_ / "store", &log);
  std::string diff, error;
  ASSERT_TRUE(store.store_layer({{"f", ci::EntryKind::File, 0644, {'x'}}}, 0, diff, error)) << error;
  ci::ImageConfig config;
  config.diff_ids = {diff};
  config.cmd = {"/f"};
  ci::ImageInfo img;
  ASSERT_TRUE(store.commit(config, "committed", img, error)) << error;
  EXPECT_EQ(img.id, ci::image_id(ci::config_to_json(config)));
  ASSERT_EQ(count.events.size(), 3u);  // made, stored, committed
  EXPECT_EQ(count.events[0].arg[1], ci::digest_prefix(diff));
  EXPECT_EQ(count.events[0].arg[2], 2048u);  // one header + one data block + two zero blocks
  config.diff_ids.push_back(ci::digest_of("not stored"));
  EXPECT_FALSE(store.commit(config, "broken", img, error));
  EXPECT_NE(error.find("is not in the store"), std::string::npos);
}

// The worked example of docs/container-sim/images.md, digest for digest
// (each one was computed there with sha256sum and GNU tar).
TEST_F(ImageStoreTest, DocsWorkedExample_DigestsAsDocumented) {
  write("doc/hello.txt", "hello\n", 0644);
  write("doc/bye.txt", "bye\n", 0644);
  write("doc/Containerfile",
        "FROM scratch\nCOPY hello.txt /hello.txt\nCOPY bye.txt /bye.txt\nCMD [\"/bin/cat\", \"/hello.txt\"]\n");
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo img = build_ok(store, "hello", recipe("doc/Containerfile"));
  EXPECT_EQ(img.config.diff_ids, (std::vector<std::string>{
                                     "sha256:fa01e42d19005c93c2a6fc09347768cc08a524c9a3d7cc27b5b992321e01474a",
                                     "sha256:6ea75be75f933954c426de4cfe5f8310c8147dad543b88eece927f7458e34dc4"}));
  EXPECT_EQ(img.chain_ids.at(1), "sha256:d3a053426bbb6bdeb2ea789dcd5bd735baf6c8b9a47eaff3e72ab91c58047f39");
  EXPECT_EQ(img.id, "sha256:ae8ad3f5e048d517eb359acfc21105c7043c7d7b58118ec87acc9ac22086f077");
  EXPECT_EQ(img.manifest_digest, "sha256:5c879f8260bef09da59277006320bccfa64257e815c4fafb87a129edec61ef9c");
}

TEST_F(ImageStoreTest, OneDamagedImage_DoesNotHideTheOthers) {
  ci::ImageStore store(dir_ / "store");
  const ci::ImageInfo good = build_ok(store, "good", recipe());
  write("ctx/Bad", "FROM scratch\nCOPY etc/motd /motd\n");
  const ci::ImageInfo bad = build_ok(store, "bad", recipe("ctx/Bad"));
  fs::remove(dir_ / "store/blobs/sha256" / bad.id.substr(7));
  std::vector<ci::ImageInfo> all;
  std::string error;
  EXPECT_FALSE(store.list(all, error));
  EXPECT_NE(error.find("image 'bad': blob " + bad.id + " is missing"), std::string::npos) << error;
  ci::ImageInfo info;
  ASSERT_TRUE(store.inspect("good", info, error)) << error;
  ASSERT_TRUE(store.inspect(good.id.substr(7, 10), info, error)) << error;
  EXPECT_EQ(info.tags, (std::vector<std::string>{"good"}));
  EXPECT_FALSE(store.inspect(bad.id.substr(7, 10), info, error));
  EXPECT_NE(error.find("unreadable images were skipped"), std::string::npos) << error;
  std::vector<ci::ChangeSet> layers;
  EXPECT_TRUE(store.load_layers("good", layers, error)) << error;
  EXPECT_TRUE(store.remove("bad", error)) << error;
  EXPECT_TRUE(store.list(all, error)) << error;
}
