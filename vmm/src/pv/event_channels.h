// Event channels (Barham et al. 2003 §3.1; Xen's evtchn_set_pending): the
// hypervisor's side of the shared-info page's pending and mask bits.
#pragma once

#include <cstdint>

#include "virtscope/vmm/pv_abi.h"

namespace vs::vmm {

class EventChannels {
 public:
  explicit EventChannels(pv_shared_info* shared);
  // A fresh port, masked until the guest clears its mask bit; 0 when all are taken.
  uint32_t allocate();
  bool bound(uint32_t port) const { return port > 0 && port < next_; }
  // Marks `port` pending. A port already pending, or masked, changes
  // nothing else: the edge is lost (the guest scans the pending bits when
  // it unmasks). Otherwise its selector bit and upcall_pending are set.
  void send(uint32_t port);
  bool masked(uint32_t port) const;
  // The guest should be called back now: an upcall is pending and its
  // virtual interrupt flag (upcall_mask) allows it.
  bool upcall_due() const { return shared_->upcall_pending && !shared_->upcall_mask; }
  pv_shared_info& shared() { return *shared_; }

 private:
  pv_shared_info* shared_;
  uint32_t next_ = 1;  // port 0 is never bound (as in Xen)
};

}  // namespace vs::vmm
