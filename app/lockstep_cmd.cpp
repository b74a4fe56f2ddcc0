// `virtscope conformance lockstep`: placeholder until the driver lands.
#include <cstdio>

namespace vs::app {
int run_lockstep_command(int, char**) {
  std::fprintf(stderr, "virtscope conformance lockstep: not available in this build yet\n");
  return 2;
}
}  // namespace vs::app
