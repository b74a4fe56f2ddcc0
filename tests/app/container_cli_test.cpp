// `virtscope container` as a process (docs/container-cli.md): images built
// from the example recipes, containers run from them, their records, the
// errors Linux gives for impossible limits, and a session where several
// containers share one machine and its one kernel.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "subprocess.h"

namespace {

namespace fs = std::filesystem;

class ContainerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vs-container-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  vs::test::ProcessResult vs(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> all = {"container", "--root", root_.string()};
    all.insert(all.end(), args.begin(), args.end());
    return vs::test::run_process(VS_VIRTSCOPE, all, input);
  }
  void build(const std::string& tag, const std::string& recipe, const std::string& context = VS_USER_DIR) {
    const auto r = vs({"build", "-t", tag, "--context", context, recipe});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = root_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path root_;
};

const std::string kExamples = VS_EXAMPLES;

TEST_F(ContainerCli, BuildRunAndRecords_HelloFromTheExampleRecipe) {
  build("hello", kExamples + "/hello.Containerfile");
  const auto images = vs({"images"});
  ASSERT_EQ(images.status, 0) << images.err;
  EXPECT_NE(images.out.find("hello "), std::string::npos) << images.out;
  const std::string trace = (root_ / "run.jsonl").string();
  const auto run = vs({"--trace", trace, "run", "--name", "h1", "hello"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "hello, world\n");
  // One event stream: the image's layer unpacked (ImageOp op 4), the
  // container's namespaces, its process.
  std::ifstream in(trace);
  const std::string events{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(events.find("\"kind\":\"ImageOp\",\"vm\":0,\"pid\":0,\"op\":4"), std::string::npos) << events;
  EXPECT_NE(events.find("\"kind\":\"NamespaceCreate\""), std::string::npos);
  EXPECT_NE(events.find("\"kind\":\"ProcessExit\""), std::string::npos);
  const auto ps = vs({"ps", "-a"});
  EXPECT_NE(ps.out.find("h1"), std::string::npos) << ps.out;
  EXPECT_NE(ps.out.find("exited (0)"), std::string::npos) << ps.out;
  EXPECT_NE(ps.out.find("/bin/hello"), std::string::npos) << ps.out;
  // A second container of the same name is refused until the first is removed.
  EXPECT_EQ(vs({"run", "--name", "h1", "hello"}).status, 125);
  EXPECT_EQ(vs({"rm", "h1"}).status, 0);
  EXPECT_EQ(vs({"run", "--name", "h1", "hello"}).status, 0);
}

TEST_F(ContainerCli, ExitStatusOfTheContainer_IsTheCommands) {
  build("tools", kExamples + "/tools.Containerfile");
  const auto r = vs({"run", "--rm", "tools", "cpu"});  // no N: the usage line, status 2
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  const auto ok = vs({"run", "--rm", "tools", "pipe", "20"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("pipe:"), std::string::npos) << ok.out;
}

TEST_F(ContainerCli, ImpossibleLimit_GetsLinuxsErrorAndNothingRuns) {
  build("hello", kExamples + "/hello.Containerfile");
  const auto r = vs({"run", "--pids-max", "lots", "hello"});
  EXPECT_EQ(r.status, 125);
  EXPECT_NE(r.err.find("pids.max \"lots\": Invalid argument"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("hello, world"), std::string::npos) << r.out;
}

TEST_F(ContainerCli, RunStepOfARecipe_RunsOnContainerSimAtBuildTime) {
  build("tools", kExamples + "/tools.Containerfile");
  const std::string recipe = write("Run.Containerfile", "FROM tools\nRUN [\"/bin/write\", \"2\"]\nCMD [\"/bin/hello\"]\n");
  const auto r = vs({"build", "-t", "t2", recipe});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("write: 2 writes"), std::string::npos) << r.out;
  const std::string failing = write("Fail.Containerfile", "FROM tools\nRUN [\"/bin/cpu\"]\n");
  const auto f = vs({"build", "-t", "t3", failing});
  EXPECT_NE(f.status, 0);
  EXPECT_NE(f.err.find("Fail.Containerfile:2: RUN /bin/cpu: exited with status 2"), std::string::npos) << f.err;
}

TEST_F(ContainerCli, Session_SeveralContainersOnOneMachine_PsExecStats) {
  build("tools", kExamples + "/tools.Containerfile");
  const std::string script = write("s.session",
                                   "run -d --name a --pids-max 10 tools cpu 3000000\n"
                                   "run -d --name b --hostname bee tools cpu 3000000\n"
                                   "ps\n"
                                   "exec a hello\n"
                                   "wait a\n"
                                   "wait b\n"
                                   "stats\n");
  const auto r = vs({"session", script});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  // Both running at the first ps, each in its own cgroup.
  EXPECT_NE(r.out.find("/virtscope/a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bee"), std::string::npos) << r.out;
  const size_t ps = r.out.find("$ ps");
  ASSERT_NE(ps, std::string::npos);
  const std::string ps_block = r.out.substr(ps, r.out.find("$ exec") - ps);
  EXPECT_NE(ps_block.find("running"), std::string::npos) << ps_block;
  EXPECT_NE(r.out.find("hello, world\n(exit 0)"), std::string::npos) << r.out;
  // Records for both, with their figures.
  const auto recs = vs({"ps", "-a"});
  EXPECT_NE(recs.out.find("a "), std::string::npos) << recs.out;
  EXPECT_NE(recs.out.find("b "), std::string::npos) << recs.out;
}

TEST_F(ContainerCli, Session_OneContainerCrashesTheSharedKernel_EveryContainerStops) {
  build("tools", kExamples + "/tools.Containerfile");
  const fs::path sysrq = VS_USER_SYSRQ;
  const std::string recipe = write("Crash.Containerfile", "FROM scratch\nCOPY " + sysrq.filename().string() +
                                                          " /bin/sysrq\nCMD [\"/bin/sysrq\"]\n");
  build("crash", recipe, sysrq.parent_path().string());
  const std::string script = write("crash.session",
                                   "run -d --name web tools cpu 50000000\n"
                                   "run -d --name db tools cpu 50000000\n"
                                   "run --name oops crash\n"
                                   "ps\n");
  const auto r = vs({"session", script});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("Kernel panic - not syncing: sysrq triggered crash"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("every container stopped with it"), std::string::npos) << r.err;
  for (const char* name : {"web", "db", "oops"}) {
    const auto in = vs({"inspect", name});
    EXPECT_NE(in.out.find("status     kernel panic"), std::string::npos) << name << ": " << in.out << in.err;
  }
}

TEST_F(ContainerCli, ExecOutsideASession_SaysWhy) {
  const auto r = vs({"exec", "web", "hello"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("container session"), std::string::npos) << r.err;
  EXPECT_NE(vs({"frobnicate"}).status, 0);
  EXPECT_NE(vs({"run"}).status, 0);
}

}  // namespace
