// Cost of the event spine's hot path (DESIGN.md §3): one
// `if (log.wants(k)) log.emit(k, ...)` with nobody listening, with the ring
// recording, with one subscriber, and with a trace file writer subscribed.
// Run: ./bench_trace --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <ostream>
#include <streambuf>

#include "virtscope/trace/event.h"
#include "virtscope/trace/export.h"

namespace {

using vs::trace::Event;
using vs::trace::EventKind;
using vs::trace::EventLog;
using vs::trace::KindSet;
using vs::trace::VirtualTime;

// One emit site as the CPU writes it. ClobberMemory stands in for the stores
// the interpreter makes between two checks, so wants() really reloads the
// mask each time instead of being hoisted out of the loop.
void emit_site(benchmark::State& state, EventLog& log) {
  uint64_t icount = 0;
  for (auto _ : state) {
    benchmark::ClobberMemory();
    ++icount;
    if (log.wants(EventKind::PortOut)) log.emit(EventKind::PortOut, VirtualTime{icount, icount}, 0x3f8, 1, icount);
  }
  benchmark::DoNotOptimize(icount);
}

// The loop alone, to read the others against.
void BM_Baseline_EmptyLoop(benchmark::State& state) {
  uint64_t icount = 0;
  for (auto _ : state) {
    benchmark::ClobberMemory();
    ++icount;
  }
  benchmark::DoNotOptimize(icount);
}
BENCHMARK(BM_Baseline_EmptyLoop);

void BM_Emit_NobodyListening(benchmark::State& state) {
  EventLog log;
  emit_site(state, log);
}
BENCHMARK(BM_Emit_NobodyListening);

// Someone listens, but to another kind: still only the load and test.
void BM_Emit_OtherKindWanted(benchmark::State& state) {
  EventLog log;
  log.record(KindSet::of({EventKind::Exception}));
  emit_site(state, log);
}
BENCHMARK(BM_Emit_OtherKindWanted);

void BM_Emit_RingRecording(benchmark::State& state) {
  EventLog log;  // default 65536-event ring; the run wraps it many times
  log.record(KindSet::of({EventKind::PortOut}));
  emit_site(state, log);
  state.counters["dropped"] = static_cast<double>(log.dropped());
}
BENCHMARK(BM_Emit_RingRecording);

void BM_Emit_OneSubscriber(benchmark::State& state) {
  EventLog log;
  uint64_t seen = 0;
  log.subscribe(KindSet::of({EventKind::PortOut}), [&seen](const Event& e) { seen += e.arg[2]; });
  emit_site(state, log);
  benchmark::DoNotOptimize(seen);
}
BENCHMARK(BM_Emit_OneSubscriber);

// A TraceWriter subscribed, formatting JSON Lines into a stream that discards
// its bytes: the formatting cost without the disk.
class DiscardBuffer : public std::streambuf {
 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  int_type overflow(int_type c) override { return traits_type::not_eof(c); }
};

void BM_Emit_JsonlWriter(benchmark::State& state) {
  DiscardBuffer discard;
  std::ostream out(&discard);
  vs::trace::TraceWriter writer(out, vs::trace::TraceWriter::Format::JsonLines);
  EventLog log;
  log.subscribe(KindSet::all(), [&writer](const Event& e) { writer.write(e); });
  emit_site(state, log);
}
BENCHMARK(BM_Emit_JsonlWriter);

}  // namespace

BENCHMARK_MAIN();
