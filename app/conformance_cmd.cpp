// `virtscope conformance`: the SingleStepTests runner and the lockstep
// comparison against oracles (conformance/).
#include <cstdio>
#include <cstring>

#include "bare_machine.h"

namespace vs::app {

int run_conformance(int argc, char** argv) {
  std::fprintf(stderr, "virtscope conformance: not wired yet\n");
  return 2;
}

}  // namespace vs::app
