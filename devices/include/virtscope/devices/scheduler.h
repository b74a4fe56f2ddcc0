// One scheduler of named events in virtual time (DESIGN.md §6): the PIT, the
// LAPIC timer, the UART and the disks ask it to call them back at an
// instruction count; nothing reads the wall clock. The machine runs the CPU up
// to the next deadline, then fires what is due, in deadline order (ties in
// registration order), so the same inputs give the same sequence.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "virtscope/devices/state.h"

namespace vs::devices {

class Scheduler {
 public:
  using Callback = std::function<void()>;
  using Id = uint32_t;
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

  // The virtual clock: instructions retired, read from the CPU. Devices read
  // it mid-instruction (a PIT counter latch), so it is a function, not a copy.
  explicit Scheduler(std::function<uint64_t()> clock) : clock_(std::move(clock)) {}

  uint64_t now() const { return clock_(); }

  // Virtual seconds: the guest sees a CPU retiring `kInstructionsPerSecond`
  // instructions per second of its own time (100 MIPS: timers in guest
  // kernels tick at their real rates relative to the work they do).
  static constexpr uint64_t kInstructionsPerSecond = 100'000'000;
  static constexpr uint64_t from_ns(uint64_t ns) { return ns / (1'000'000'000 / kInstructionsPerSecond); }
  static constexpr uint64_t to_ns(uint64_t ticks) { return ticks * (1'000'000'000 / kInstructionsPerSecond); }

  // A named timer; the name shows in the UI and in snapshot checks.
  Id add(std::string name, Callback callback);
  void schedule(Id id, uint64_t at);  // absolute virtual time; replaces an earlier deadline
  void cancel(Id id);
  bool pending(Id id) const;
  uint64_t deadline(Id id) const;      // kNever when not pending
  const std::string& name(Id id) const;
  size_t size() const { return timers_.size(); }

  // The earliest pending deadline, kNever if none.
  uint64_t next_deadline() const;
  // The machine runs the CPU up to a horizon (the next deadline when the
  // slice began). A device that schedules something earlier mid-slice must
  // cut the slice short: `on_earlier` is called then (the machine asks the
  // CPU to stop at the next instruction boundary).
  void set_horizon(uint64_t horizon) { horizon_ = horizon; }
  void on_earlier_deadline(std::function<void()> callback) { on_earlier_ = std::move(callback); }
  // Fire every timer whose deadline is <= now(), earliest first. A callback
  // may reschedule itself or others; those run in this call if already due.
  void run_due();

  // Deadlines only (callbacks are wiring, rebuilt by the machine).
  void save(StateWriter& out) const;
  void load(StateReader& in);

 private:
  struct Timer {
    std::string name;
    Callback callback;
    uint64_t at = kNever;
  };
  std::function<uint64_t()> clock_;
  std::vector<Timer> timers_;
  uint64_t horizon_ = kNever;
  std::function<void()> on_earlier_;
};

}  // namespace vs::devices
