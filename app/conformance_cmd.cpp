// `virtscope conformance`: the SingleStepTests runner and the lockstep
// comparison of the interpreter against an oracle (conformance/).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "bare_machine.h"
#include "virtscope/conformance/sst.h"

namespace vs::app {

int run_lockstep_command(int argc, char** argv);

namespace {
int run_sst(int argc, char** argv) {
  conformance::SstOptions options;
  std::string dir;
  for (int i = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--verbose")) options.verbose = true;
    else if (!std::strcmp(argv[i], "--forms") && i + 1 < argc) options.forms = argv[++i];
    else if (!std::strcmp(argv[i], "--stop-after") && i + 1 < argc) options.stop_after_failures = std::strtoull(argv[++i], nullptr, 0);
    else if (argv[i][0] != '-' && dir.empty()) dir = argv[i];
    else {
      std::fprintf(stderr, "usage: virtscope conformance sst DIR [--forms GLOBS] [--verbose] [--stop-after N]\n");
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "virtscope conformance sst: give the test directory, e.g. ../shared/testdata/sst80286\n");
    return 2;
  }
  const conformance::SstSummary s = conformance::run_sst_dir(dir, options, std::cout);
  return s.clean() ? 0 : 1;
}
}  // namespace

int run_conformance(int argc, char** argv) {
  if (argc >= 1 && !std::strcmp(argv[0], "sst")) return run_sst(argc - 1, argv + 1);
  if (argc >= 1 && !std::strcmp(argv[0], "lockstep")) return run_lockstep_command(argc - 1, argv + 1);
  std::fprintf(stderr, "usage: virtscope conformance sst DIR | lockstep --oracle native|kvm|unicorn ...\n");
  return 2;
}

}  // namespace vs::app
