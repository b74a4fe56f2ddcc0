// virtscope: the command-line entry point. Each subcommand lives in its own
// file; with no subcommand the demo runs (later: the visualizer on lesson 1
// when a display is present, the demo otherwise).
#include <cstdio>
#include <cstring>

#include "bare_machine.h"

namespace {
void usage() {
  std::puts(
      "usage: virtscope [COMMAND] [ARGS]\n"
      "  demo                         boot the built-in tour guest headless (the default)\n"
      "  run [QEMU-style options]     boot a PC headless (-kernel, -m, -serial, ...; run --help)\n"
      "  disasm [--16|--32] [--address A] (--hex \"BYTES\" | FILE)\n"
      "                               disassemble (Capstone) with virtscope's opcode-table view\n"
      "  compare --workload NAME [ARGS] [--modes LIST] [--json|--csv]\n"
      "                               one workload on the teaching kernel in each virtualization mode\n"
      "  container COMMAND [ARGS]     build images, run containers on container-sim (container --help)\n"
      "  bench [--iterations N] [--record-events]\n"
      "  bench containers [--count N] [--vm-ram SIZE]\n"
      "                               N containers started together against one VM booting (defaults 100, 16M)\n"
      "                               interpreter speed on a fixed ALU/load/store/branch loop\n"
      "  conformance sst DIR          run SingleStepTests (e.g. ../shared/testdata/sst80286)\n"
      "  conformance lockstep --oracle native|kvm|unicorn --instructions N --seed S\n"
      "                               compare the interpreter with an oracle, instruction by instruction");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return vs::app::run_demo(0, nullptr);
  const char* cmd = argv[1];
  if (!std::strcmp(cmd, "demo")) return vs::app::run_demo(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "run")) return vs::app::run_run(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "bench")) return vs::app::run_bench(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "disasm")) return vs::app::run_disasm(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "conformance")) return vs::app::run_conformance(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "compare")) return vs::app::run_compare(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "container")) return vs::app::run_container(argc - 2, argv + 2);
  if (!std::strcmp(cmd, "help") || !std::strcmp(cmd, "--help") || !std::strcmp(cmd, "-h")) {
    usage();
    return 0;
  }
  std::fprintf(stderr, "virtscope: unknown command '%s'\n", cmd);
  usage();
  return 2;
}
