// `virtscope compare` as a user meets it: it finds the teaching kernel built
// beside it, prints one row per mode, marks modes not built yet as
// unavailable, and refuses bad options with status 2.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "subprocess.h"

namespace {

vs::test::ProcessResult compare(const std::vector<std::string>& args) {
  std::vector<std::string> all{"compare"};
  all.insert(all.end(), args.begin(), args.end());
  return vs::test::run_process(VS_VIRTSCOPE, all);
}

TEST(CompareCli, CsvHasARowPerModeAndUnavailableModesWithReasons) {
  const auto r = compare({"--workload", "hello", "--modes", "native,bt,trap,pv,container", "--csv"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("mode,available,exit_status,instructions,", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nnative,1,1,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nbt,1,1,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\npv,1,1,"), std::string::npos) << r.out;
  // Plain trap-and-emulate runs but never finishes: the lesson of that mode
  // (column 13, "finished", is 0).
  const size_t trap = r.out.find("\ntrap,1,");
  ASSERT_NE(trap, std::string::npos) << r.out;
  std::vector<std::string> fields;
  std::string line = r.out.substr(trap + 1, r.out.find('\n', trap + 1) - trap - 1);
  for (size_t at = 0, comma; (comma = line.find(',', at)) != std::string::npos; at = comma + 1)
    fields.push_back(line.substr(at, comma - at));
  ASSERT_GE(fields.size(), 13u) << line;
  EXPECT_EQ(fields[12], "0") << line;
  // container runs in container-sim (no guest kernel) and finishes.
  EXPECT_NE(r.out.find("\ncontainer,1,1,"), std::string::npos) << r.out;
}

TEST(CompareCli, KvmRowSaysWhatThisHostsKvmCouldDo) {
  const auto r = compare({"--workload", "hello", "--modes", "kvm", "--csv"});
  ASSERT_EQ(r.status, 0) << r.err;
  // Where the host's KVM cannot run the 32-bit kernel natively (kvm_pvm, or
  // no /dev/kvm) the row says why; elsewhere it ran.
  if (r.out.find("\nkvm,0,") != std::string::npos)
    EXPECT_NE(r.out.find("kvm mode: "), std::string::npos) << r.out;
  else
    EXPECT_NE(r.out.find("\nkvm,1,1,"), std::string::npos) << r.out;
}

TEST(CompareCli, TableShowsTheWorkloadsOutputOnce) {
  const auto r = compare({"--workload", "cpu", "1000", "--modes", "native"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("workload: cpu 1000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpu: 1000 iterations, checksum 0x"), std::string::npos) << r.out;
}

TEST(CompareCli, JsonIsTheSameFiguresAsCsv) {
  const auto json = compare({"--workload", "syscall", "10", "--modes", "native", "--json"});
  const auto csv = compare({"--workload", "syscall", "10", "--modes", "native", "--csv"});
  ASSERT_EQ(json.status, 0) << json.err;
  ASSERT_EQ(csv.status, 0) << csv.err;
  // The instruction count appears in both, and is the same.
  const size_t at = csv.out.find("\nnative,1,1,") + 12;
  const std::string instructions = csv.out.substr(at, csv.out.find(',', at) - at);
  EXPECT_NE(json.out.find("\"instructions\": " + instructions + ","), std::string::npos) << json.out;
}

TEST(CompareCli, BadOptionsAreUsageErrors) {
  EXPECT_EQ(compare({"--workload", "hello", "--modes", "native,vmware"}).status, 2);
  EXPECT_EQ(compare({"--modes", "native"}).status, 2);  // no workload
  EXPECT_EQ(compare({"--workload", "hello", "--cost", "hw_exit=lots"}).status, 2);
  EXPECT_EQ(compare({"--workload", "hello", "--kernel", "/nonexistent"}).status, 2);
  const auto r = compare({"--workload", "hello", "--bogus"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("usage: virtscope compare"), std::string::npos);
}

TEST(CompareCli, ListCostsNamesEverySource) {
  const auto r = compare({"--list-costs", "--cost", "hypercall=999"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("hypercall             999"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("source: Adams & Agesen 2006"), std::string::npos) << r.out;
}

}  // namespace
