// The local APIC timer (Intel SDM Vol. 3 §10.5.4): a 32-bit down-counter at
// the bus clock divided by the divide configuration, one-shot or periodic,
// raising the LVT timer entry's vector when it reaches zero. Virtual time:
// one bus clock per instruction (LocalApic::kBusHz, see apic.h).
#include "virtscope/devices/apic.h"

namespace vs::devices {

// §10.5.4 Figure 10-10: divide configuration bits 3,1:0; 111 divides by 1.
uint32_t LocalApic::divisor_of(uint32_t divide) {
  const uint32_t d = ((divide & 8) >> 1) | (divide & 3);
  return d == 7 ? 1 : 2u << d;
}

// The count as of now: down from the initial count by one per `divisor`
// instructions since the anchor, wrapping each period in periodic mode and
// resting at 0 after a one-shot expires.
uint32_t LocalApic::timer_current() const {
  if (!timer_running_ || initial_count_ == 0) return 0;
  const uint64_t period = timer_period();
  uint64_t elapsed = scheduler_.now() - timer_anchor_;
  if (periodic())
    elapsed %= period;
  else if (elapsed >= period)
    return 0;
  return uint32_t(initial_count_ - elapsed / timer_divisor());
}

// "A write of 0 to the initial-count register effectively stops the local
// APIC timer"; any other value restarts the count from it.
void LocalApic::write_initial_count(uint32_t value) {
  initial_count_ = value;
  timer_running_ = value != 0;
  timer_anchor_ = scheduler_.now();
  timer_next_ = timer_anchor_ + timer_period();
  schedule_timer();
}

// A new divisor mid-count keeps the current count and runs on at the new
// rate (the SDM leaves this open; the count is not restarted).
void LocalApic::write_divide(uint32_t value) {
  if (!timer_running_) {
    divide_ = value & kDivideWritable;
    return;
  }
  const uint32_t current = timer_current();
  divide_ = value & kDivideWritable;
  const uint64_t now = scheduler_.now();
  timer_anchor_ = now - uint64_t(initial_count_ - current) * timer_divisor();
  timer_next_ = timer_anchor_ + timer_period();
  schedule_timer();
}

void LocalApic::schedule_timer() {
  if (timer_running_)
    scheduler_.schedule(timer_, timer_next_);
  else
    scheduler_.cancel(timer_);
}

// The count reached zero. Periodic deadlines stay on the grid
// anchor + k * period however late the machine calls us (no drift); periods
// missed entirely collapse into one interrupt, as IRR holds one per vector.
void LocalApic::on_timer() {
  if (!timer_running_) return;
  const uint64_t now = scheduler_.now();
  if (now < timer_next_) {
    schedule_timer();
    return;
  }
  deliver_local(lvt_[kTimer]);
  if (periodic()) {
    const uint64_t period = timer_period();
    timer_next_ += ((now - timer_next_) / period + 1) * period;
  } else {
    timer_running_ = false;
  }
  schedule_timer();
}

}  // namespace vs::devices
