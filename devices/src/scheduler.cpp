#include "virtscope/devices/scheduler.h"

namespace vs::devices {

Scheduler::Id Scheduler::add(std::string name, Callback callback) {
  timers_.push_back(Timer{std::move(name), std::move(callback), kNever});
  return Id(timers_.size() - 1);
}

void Scheduler::schedule(Id id, uint64_t at) {
  if (id >= timers_.size()) return;
  timers_[id].at = at;
  if (at < horizon_) {
    horizon_ = at;
    if (on_earlier_) on_earlier_();
  }
}

void Scheduler::cancel(Id id) { schedule(id, kNever); }

bool Scheduler::pending(Id id) const { return id < timers_.size() && timers_[id].at != kNever; }

uint64_t Scheduler::deadline(Id id) const { return id < timers_.size() ? timers_[id].at : kNever; }

const std::string& Scheduler::name(Id id) const {
  static const std::string kUnknown = "?";
  return id < timers_.size() ? timers_[id].name : kUnknown;
}

uint64_t Scheduler::next_deadline() const {
  uint64_t next = kNever;
  for (const Timer& t : timers_)
    if (t.at < next) next = t.at;
  return next;
}

void Scheduler::run_due() {
  // A handful of timers: a linear scan per firing is cheaper than a heap and
  // makes the order obvious (earliest deadline, then lowest id).
  for (;;) {
    const uint64_t t = now();
    Timer* due = nullptr;
    for (Timer& timer : timers_)
      if (timer.at <= t && (!due || timer.at < due->at)) due = &timer;
    if (!due) return;
    due->at = kNever;  // one-shot: the callback reschedules if periodic
    due->callback();
  }
}

void Scheduler::save(StateWriter& out) const {
  out.u32(uint32_t(timers_.size()));
  for (const Timer& t : timers_) {
    out.str(t.name);
    out.u64(t.at);
  }
}

void Scheduler::load(StateReader& in) {
  const uint32_t n = in.u32();
  if (!in.expect(n == timers_.size(), "snapshot has a different set of timers")) return;
  for (Timer& t : timers_) {
    const std::string name = in.str();
    if (!in.expect(name == t.name, "snapshot timer '" + name + "' where '" + t.name + "' was expected")) return;
    t.at = in.u64();
  }
}

}  // namespace vs::devices
