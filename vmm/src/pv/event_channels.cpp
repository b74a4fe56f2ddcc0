#include "event_channels.h"

#include <cstring>

namespace vs::vmm {

EventChannels::EventChannels(pv_shared_info* shared) : shared_(shared) {
  std::memset(shared_, 0, sizeof *shared_);
  shared_->upcall_mask = 1;  // the guest starts with events masked, as with IF = 0 at boot
  for (uint32_t& w : shared_->evtchn_mask) w = ~0u;
}

uint32_t EventChannels::allocate() { return next_ < PV_NR_EVENT_CHANNELS ? next_++ : 0; }

bool EventChannels::masked(uint32_t port) const { return (shared_->evtchn_mask[port / 32] >> (port % 32)) & 1; }

void EventChannels::send(uint32_t port) {
  if (!bound(port)) return;
  const uint32_t word = port / 32, bit = 1u << (port % 32);
  if (shared_->evtchn_pending[word] & bit) return;
  shared_->evtchn_pending[word] |= bit;
  if (masked(port)) return;
  shared_->pending_sel |= 1u << word;
  shared_->upcall_pending = 1;
}

}  // namespace vs::vmm
