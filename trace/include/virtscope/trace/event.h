// The event spine (DESIGN.md §3): the one record type every layer emits, the set
// of kinds from events.def, and the EventLog that records and dispatches them.
//
// How the spine works — for students reading the emulator:
//
//   Everything interesting the emulator does (an exception, an interrupt, a port
//   read, a mode switch, later a VM exit or a page walk) becomes one `Event`: a
//   sequence number, the virtual time, which VM and process it belongs to, the
//   kind, and up to four numbers whose names come from events.def. There is one
//   list of kinds (events.def), so the UI timeline, the Lua hooks, the tests and
//   the exported trace files all speak about the same things with the same names.
//
//   The code that notices something writes
//
//       if (log.wants(EventKind::PortOut)) log.emit(EventKind::PortOut, now, port, 1, value);
//
//   `wants()` is a single load and bit test of a mask that the EventLog keeps up
//   to date: the union of the kinds being recorded into the ring buffer and the
//   kinds some subscriber asked for. When nobody listens, the whole line costs
//   about a nanosecond and the event is never built — observability you do not
//   use is not paid for. `emit()` fills in the sequence number, the current VM
//   and process, and the source location of the call (so the UI can show the
//   code that produced the event), then stores it in the ring buffer and calls
//   each subscriber that asked for that kind, synchronously.
//
// An EventLog belongs to one Machine and is used from one thread; it is not
// synchronised.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>
#include <version>
#if __has_include(<source_location>)
#include <source_location>
#endif

namespace vs::trace {

// Where an emit call is in the source. std::source_location where the library
// has it; clang 14 with libstdc++ 12 (the fuzzing build) does not, so there the
// same shape is built from __builtin_FILE/__builtin_LINE, which likewise
// report the caller's location when used as default arguments.
#if defined(__cpp_lib_source_location)
using SourceLocation = std::source_location;
#else
class SourceLocation {
 public:
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          uint_least32_t line = __builtin_LINE()) noexcept {
    SourceLocation here;
    here.file_ = file;
    here.line_ = line;
    return here;
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr uint_least32_t line() const noexcept { return line_; }

 private:
  const char* file_ = "";
  uint_least32_t line_ = 0;
};
#endif

// Every kind of event, one enumerator per row of events.def, then kCount.
enum class EventKind : uint16_t {
#define VS_EVENT(Name, label, f0, f1, f2, f3, meaning) Name,
#include "virtscope/trace/events.def"
#undef VS_EVENT
  kCount
};

inline constexpr size_t kKindCount = static_cast<size_t>(EventKind::kCount);

// What events.def says about one kind.
struct EventKindInfo {
  const char* name;       // the label: UI, Lua and trace files use it
  const char* fields[4];  // name of arg[i], "" when unused
  const char* meaning;    // one line for the UI and lessons
};

// The row of events.def for `k`; a kind outside the list gets a row named "?".
const EventKindInfo& kind_info(EventKind k);
// The kind whose label is `name` (ASCII case-insensitive), or nullopt.
std::optional<EventKind> kind_from_name(std::string_view name);

// Virtual time (DESIGN.md §6): the emulator's own clock, never the wall clock.
struct VirtualTime {
  uint64_t icount = 0;  // instructions retired
  uint64_t cycles = 0;  // modelled cycles (the cost model's estimate)
};

struct Event {
  uint64_t seq;          // 0,1,2,... per EventLog, counts every emitted event
  VirtualTime when;      // instructions retired and modelled cycles at emission
  EventKind kind;
  uint16_t vm;           // 0 = the bare machine / host; VMs numbered from 1 (set by the VMM)
  uint32_t pid;          // guest process, 0 = none
  uint64_t arg[4];       // the fields named in the .def
  const char* file;      // std::source_location of the emit call (for "show source" in the UI)
  uint32_t line;
};

namespace detail {
// A fixed-size bit set stored in 64-bit words, all constexpr so that a set of
// constant kinds folds to constants. Separate from KindSet so that tests can
// exercise more than 64 bits before events.def grows that long.
template <size_t Bits>
class WordBits {
 public:
  static constexpr size_t kWords = (Bits + 63) / 64;

  constexpr void set(size_t i, bool on) {
    if (i >= Bits) return;
    const uint64_t bit = uint64_t{1} << (i % 64);
    words_[i / 64] = on ? (words_[i / 64] | bit) : (words_[i / 64] & ~bit);
  }
  // The hot-path test: one load, one shift, one and (the bound check folds
  // away when `i` is a constant, which it is at every emit site).
  constexpr bool test(size_t i) const {
    return i < Bits && ((words_[i / 64] >> (i % 64)) & 1) != 0;
  }
  constexpr void fill() {
    for (size_t i = 0; i < Bits; ++i) set(i, true);
  }
  constexpr bool empty() const {
    for (uint64_t w : words_)
      if (w != 0) return false;
    return true;
  }
  constexpr size_t count() const {
    size_t n = 0;
    for (uint64_t w : words_)
      for (; w != 0; w &= w - 1) ++n;
    return n;
  }
  constexpr WordBits& operator|=(const WordBits& o) {
    for (size_t i = 0; i < kWords; ++i) words_[i] |= o.words_[i];
    return *this;
  }
  constexpr WordBits& operator&=(const WordBits& o) {
    for (size_t i = 0; i < kWords; ++i) words_[i] &= o.words_[i];
    return *this;
  }
  constexpr WordBits& remove(const WordBits& o) {
    for (size_t i = 0; i < kWords; ++i) words_[i] &= ~o.words_[i];
    return *this;
  }
  constexpr bool operator==(const WordBits&) const = default;

 private:
  std::array<uint64_t, kWords> words_{};
};
}  // namespace detail

// A set of event kinds: what a subscriber listens to, what the ring records.
class KindSet {
 public:
  constexpr KindSet() = default;

  // Every kind, including the high-volume opt-in InsnRetired: to listen to
  // everything else use KindSet::all().without(EventKind::InsnRetired).
  static constexpr KindSet all() {
    KindSet s;
    s.bits_.fill();
    return s;
  }
  static constexpr KindSet none() { return KindSet{}; }
  static constexpr KindSet of(std::initializer_list<EventKind> kinds) {
    KindSet s;
    for (EventKind k : kinds) s.set(k);
    return s;
  }

  constexpr KindSet& set(EventKind k, bool on = true) {
    bits_.set(static_cast<size_t>(k), on);
    return *this;
  }
  constexpr KindSet& reset(EventKind k) { return set(k, false); }
  constexpr bool test(EventKind k) const { return bits_.test(static_cast<size_t>(k)); }
  constexpr bool empty() const { return bits_.empty(); }
  constexpr size_t size() const { return bits_.count(); }

  constexpr KindSet without(EventKind k) const {
    KindSet s = *this;
    return s.reset(k);
  }
  constexpr KindSet& operator|=(const KindSet& o) {
    bits_ |= o.bits_;
    return *this;
  }
  constexpr KindSet& operator&=(const KindSet& o) {
    bits_ &= o.bits_;
    return *this;
  }
  friend constexpr KindSet operator|(KindSet a, const KindSet& b) { return a |= b; }
  friend constexpr KindSet operator&(KindSet a, const KindSet& b) { return a &= b; }
  constexpr bool operator==(const KindSet&) const = default;

 private:
  detail::WordBits<kKindCount> bits_;
};

// Parses a comma-separated list of labels ("Exception,PortOut"), ignoring
// spaces; "all" means KindSet::all(). nullopt if any label is unknown.
std::optional<KindSet> kind_set_from_names(std::string_view list);

// The event log of one machine: a bounded ring of recent events plus
// synchronous subscribers. See the comment at the top of this file.
class EventLog {
 public:
  explicit EventLog(size_t ring_capacity = 65536);
  // Movable, not copyable: subscribers are callbacks owned by one log.
  EventLog(EventLog&&) = default;
  EventLog& operator=(EventLog&&) = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Hot path: callers write `if (log.wants(K)) log.emit(K, ...)`.
  bool wants(EventKind k) const { return wanted_.test(k); }
  // Builds and delivers one event. Calling it for a kind nobody wants is
  // harmless (it is counted and numbered, then goes nowhere) — only slower.
  void emit(EventKind k, VirtualTime when, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
            uint64_t a3 = 0, SourceLocation loc = SourceLocation::current());
  // The VM and guest process stamped into the events that follow.
  void set_context(uint16_t vm, uint32_t pid);

  // Ring buffer: keeps the last `capacity` events of the recorded kinds;
  // when full, the oldest is dropped and counted. Memory grows with use, up
  // to capacity events. A capacity of 0 keeps nothing (every one is dropped).
  void record(KindSet kinds);           // which kinds go into the ring (default: none)
  KindSet recording() const { return recorded_kinds_; }
  std::vector<Event> recorded() const;  // oldest first
  size_t capacity() const { return capacity_; }
  uint64_t dropped() const { return dropped_; }
  // Empties the ring and zeroes dropped(). Sequence numbers and count() are
  // totals over the log's life and keep counting.
  void clear();

  // Subscribers: called synchronously on emit for the kinds they asked for, in
  // order of subscription. A subscriber may emit, subscribe and unsubscribe
  // (itself too) from inside its callback; one subscribed during an emit first
  // sees the next event.
  using SubscriberId = uint32_t;
  SubscriberId subscribe(KindSet kinds, std::function<void(const Event&)> fn);
  void unsubscribe(SubscriberId id);  // unknown ids are ignored

  // Per-kind counts of emitted events (only kinds somebody wants are emitted at all).
  uint64_t count(EventKind k) const;

 private:
  struct Subscriber {
    SubscriberId id;
    KindSet kinds;
    std::function<void(const Event&)> fn;
    bool removed = false;  // unsubscribed; erased once no dispatch is running
  };

  void recompute_wanted();
  void store_in_ring(const Event& ev);
  void deliver_to_subscribers(const Event& ev);
  void remove_unsubscribed();

  KindSet wanted_;          // recorded_kinds_ | every subscriber's kinds: what wants() tests
  KindSet recorded_kinds_;  // what goes into the ring
  uint64_t next_seq_ = 0;
  uint16_t vm_ = 0;
  uint32_t pid_ = 0;
  std::array<uint64_t, kKindCount> counts_{};

  size_t capacity_;
  std::vector<Event> ring_;  // grows to capacity_, then wraps
  size_t ring_next_ = 0;     // where the next event goes once the ring is full
  uint64_t dropped_ = 0;

  // unique_ptr so a subscriber's std::function stays put while it runs, even
  // if the callback subscribes someone else and the vector reallocates.
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
  SubscriberId next_subscriber_id_ = 1;
  int dispatch_depth_ = 0;  // > 0 while subscribers are being called
  bool has_unsubscribed_ = false;
};

}  // namespace vs::trace
