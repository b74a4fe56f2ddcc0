// `virtscope demo`: boot the built-in tour guest (guest/demo/tour.S) headless
// and show its console output and a summary of the events it raised. Later
// issues make the visualizer open on lesson 1 here when a display is present.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include "bare_machine.h"
#include "virtscope/trace/export.h"

extern const unsigned char guest_tour[];
extern const unsigned guest_tour_size;

namespace vs::app {

int run_demo(int argc, char** argv) {
  const char* trace_path = nullptr;
  for (int i = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--trace") && i + 1 < argc) trace_path = argv[++i];
    else {
      std::fprintf(stderr, "virtscope demo: unknown option '%s' (usage: virtscope demo [--trace FILE.jsonl|FILE.json])\n", argv[i]);
      return 2;
    }
  }
  BareMachine m(1u << 20);
  m.load(0x7C00, guest_tour, guest_tour_size);
  m.enter_real(0x7C00);

  std::map<trace::EventKind, uint64_t> counts;
  const auto everything = trace::KindSet::all().without(trace::EventKind::InsnRetired);
  m.log.subscribe(everything, [&](const trace::Event& e) { ++counts[e.kind]; });
  std::ofstream trace_file;
  std::unique_ptr<trace::TraceWriter> writer;
  if (trace_path) {
    trace_file.open(trace_path);
    if (!trace_file) {
      std::fprintf(stderr, "virtscope demo: cannot write trace file %s\n", trace_path);
      return 1;
    }
    writer = std::make_unique<trace::TraceWriter>(trace_file, trace::TraceWriter::format_for_path(trace_path));
    m.log.subscribe(everything, [&](const trace::Event& e) { writer->write(e); });
  }

  const cpu::RunStop stop = m.cpu.run(1'000'000);
  if (writer) writer->finish();
  std::fputs(m.io.output.c_str(), stdout);
  std::printf("\n--- virtscope demo summary ---\n");
  std::printf("stopped: %s after %llu instructions\n", cpu::run_stop_name(stop),
              (unsigned long long)m.cpu.instructions());
  for (const auto& [kind, n] : counts)
    std::printf("  %-12s %6llu  %s\n", trace::kind_info(kind).name, (unsigned long long)n, trace::kind_info(kind).meaning);
  if (trace_path) std::printf("trace written to %s\n", trace_path);
  return stop == cpu::RunStop::Halted ? 0 : 1;
}

}  // namespace vs::app
