// Exporting the event stream (DESIGN.md §3): JSON Lines (RFC 8259 objects, one
// per line) and the Chrome trace-event format (JSON array form), which opens in
// Perfetto (ui.perfetto.dev) and chrome://tracing.
//
// Chrome trace mapping: every event is an instant event ("ph":"i", "s":"t") whose
// timestamp "ts" is the virtual instruction count — so in the viewer 1 µs means
// 1 instruction retired, not a microsecond of real time. "pid" is the VM (0 = the
// bare machine / host), "tid" is the guest process, "name" is the kind's label
// and "args" holds the fields named in events.def plus seq, cycles and src.
//
// Both formats name the emitting code as "src":"path:line", the path relative to
// the project root when the event came from virtscope's own sources.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <set>
#include <string>
#include <string_view>

#include "virtscope/trace/event.h"

namespace vs::trace {

// One JSON object and a newline, e.g.
// {"seq":3,"icount":100,"cycles":250,"kind":"PortOut","vm":0,"pid":0,"port":1016,"size":1,"value":65,"src":"devices/src/uart.cpp:40"}
// Fields unused by the kind are left out.
void write_jsonl(const Event&, std::ostream&);

// The file's path as exported: relative to the project root when it lies inside
// it (so traces do not depend on where the tree was checked out), else as given.
std::string_view exported_source_path(const char* file);

// Streams events to a file as they are emitted — subscribe it to an EventLog
// so a full ring never loses them:
//   TraceWriter w(file, TraceWriter::format_for_path(path));
//   auto id = log.subscribe(kinds, [&w](const Event& e) { w.write(e); });
class TraceWriter {
 public:
  enum class Format { JsonLines, ChromeTrace };
  // ".json" -> ChromeTrace, ".jsonl" or anything else -> JsonLines (case-insensitive).
  static Format format_for_path(std::string_view path);

  TraceWriter(std::ostream& out, Format f);  // ChromeTrace writes "[" and a metadata record now
  ~TraceWriter();                            // calls finish()
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void write(const Event&);  // ignored after finish()
  void finish();             // closes the Chrome JSON array and flushes; idempotent

  Format format() const { return format_; }
  uint64_t written() const { return written_; }  // events written so far
  bool ok() const;                               // false once the stream has failed

 private:
  void write_process_name(uint16_t vm);

  std::ostream& out_;
  Format format_;
  bool finished_ = false;
  uint64_t written_ = 0;
  std::set<uint16_t> named_vms_;  // VMs that already have a process_name record
  std::string buf_;               // reused per event to avoid an allocation each time
};

}  // namespace vs::trace
