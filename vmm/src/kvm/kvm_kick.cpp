#include "kvm_kick.h"

#include <linux/kvm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_device.h"

namespace vs::vmm::kvm {
namespace {

int kick_signal() { return SIGRTMIN; }

// The kvm_run of the vCPU this thread runs, for the signal handler.
thread_local kvm_run* t_running = nullptr;

// Async-signal-safe: one store into the shared kvm_run page.
void on_kick(int) {
  if (kvm_run* run = t_running) run->immediate_exit = 1;
}

}  // namespace

Kick::~Kick() { stop(); }

std::optional<std::string> Kick::start(kvm_run* run) {
  stop();
  struct sigaction sa {};
  sa.sa_handler = on_kick;
  sa.sa_flags = SA_RESTART;  // other system calls of this thread just carry on
  sigemptyset(&sa.sa_mask);
  if (::sigaction(kick_signal(), &sa, nullptr) != 0) return errno_text("sigaction for the KVM kick signal");
  run_ = run;
  t_running = run;

  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = kick_signal();
  ev._sigev_un._tid = pid_t(::syscall(SYS_gettid));
  if (::timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0) return errno_text("timer_create for the KVM kick");
  timer_created_ = true;
  return std::nullopt;
}

void Kick::arm(int64_t at_ns) {
  if (!timer_created_) return;
  itimerspec when{};
  if (at_ns > 0) {
    when.it_value.tv_sec = at_ns / 1'000'000'000;
    when.it_value.tv_nsec = at_ns % 1'000'000'000;
  }
  (void)::timer_settime(timer_, TIMER_ABSTIME, &when, nullptr);
}

void Kick::clear() {
  if (run_) run_->immediate_exit = 0;
}

// The handler stays installed: a kick already on its way must find it (the
// default action for a real-time signal would end the process).
void Kick::stop() {
  if (timer_created_) {
    (void)::timer_delete(timer_);
    timer_created_ = false;
  }
  t_running = nullptr;
  clear();
  run_ = nullptr;
}

}  // namespace vs::vmm::kvm
