// Kicking the vCPU out of KVM_RUN when a device timer is due (api.rst
// §5 kvm_run.immediate_exit, KVM_EXIT_INTR). KVM_RUN runs the guest until
// something needs user space; a guest spinning in a loop would never give
// the PIT its turn. So a POSIX timer sends this thread a signal at the next
// deadline. A signal that lands inside KVM_RUN makes it return EINTR; the
// handler also sets kvm_run.immediate_exit, so one that lands just before
// KVM_RUN makes the next KVM_RUN return at once instead of being lost (the
// race api.rst describes; immediate_exit is its recommended cure, and
// KVM_SET_SIGNAL_MASK is refused by some hosts, kvm_pvm among them).
#pragma once

#include <signal.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>

struct kvm_run;

namespace vs::vmm::kvm {

class Kick {
 public:
  Kick() = default;
  ~Kick();
  Kick(const Kick&) = delete;
  Kick& operator=(const Kick&) = delete;

  // Installs the handler and creates the timer that signals the calling
  // thread, whose kvm_run is `run`.
  std::optional<std::string> start(kvm_run* run);
  // Fire at CLOCK_MONOTONIC `at_ns` (0: disarm).
  void arm(int64_t at_ns);
  // After KVM_RUN returned: the kick (if any) has done its job.
  void clear();
  void stop();

 private:
  bool timer_created_ = false;
  timer_t timer_{};
  kvm_run* run_ = nullptr;
};

}  // namespace vs::vmm::kvm
