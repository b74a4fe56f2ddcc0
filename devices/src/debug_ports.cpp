// QEMU's isa-debug-exit and debugcon ports (QEMU documentation; see
// debug_ports.h for the behaviour guests rely on).
#include "virtscope/devices/debug_ports.h"

#include "virtscope/devices/scheduler.h"
#include "virtscope/trace/event.h"

namespace vs::devices {

// ------------------------------------------------------------ debug-exit ----

DebugExit::DebugExit(std::function<void(int)> on_exit, trace::EventLog* log, const Scheduler* scheduler,
                     Config config)
    : Device("isa-debug-exit"), on_exit_(std::move(on_exit)), log_(log), scheduler_(scheduler), config_(config) {
  if (config_.iosize == 0) config_.iosize = 1;
  if (uint32_t(config_.iobase) + config_.iosize > 0x10000) config_.iosize = uint16_t(0x10000 - config_.iobase);
}

uint16_t DebugExit::last_port() const { return uint16_t(config_.iobase + config_.iosize - 1); }

void DebugExit::write(uint32_t addr, unsigned size, uint32_t value) {
  // The whole access is one request, whatever its size (QEMU takes 1-4 bytes).
  if (addr < config_.iobase || addr > last_port()) return;
  requested_ = true;
  status_ = status_for(value);
  if (log_ && log_->wants(trace::EventKind::GuestExit)) {
    const uint64_t now = scheduler_ ? scheduler_->now() : 0;
    log_->emit(trace::EventKind::GuestExit, trace::VirtualTime{now, now}, uint32_t(status_), addr);
  }
  if (on_exit_) on_exit_(status_);
}

void DebugExit::reset() {
  requested_ = false;
  status_ = 0;
}

void DebugExit::save(StateWriter& out) const {
  out.u16(config_.iobase);
  out.u16(config_.iosize);
  out.boolean(requested_);
  out.u32(uint32_t(status_));
}

void DebugExit::load(StateReader& in) {
  const uint16_t base = in.u16(), size = in.u16();
  const uint8_t requested = in.u8();
  const uint32_t status = in.u32();
  in.expect(base == config_.iobase && size == config_.iosize, "isa-debug-exit: snapshot from another port range");
  in.expect(requested <= 1, "isa-debug-exit: flag is neither 0 nor 1");
  // Every status the port can produce is odd; none is produced before a write.
  in.expect(requested ? (status & 1) : status == 0, "isa-debug-exit: impossible status");
  if (!in.ok()) return;
  requested_ = requested;
  status_ = int(status);
}

// ------------------------------------------------------------ debugcon ----

DebugCon::DebugCon(std::function<void(uint8_t)> output, uint16_t port)
    : Device("debugcon"), output_(std::move(output)), port_(port) {}

void DebugCon::write(uint32_t addr, unsigned size, uint32_t value) {
  // A byte port: of a wider access only the byte at the port itself counts.
  for (unsigned i = 0; i < size; ++i)
    if (addr + i == port_ && output_) output_(uint8_t(value >> (8 * i)));
}

uint32_t DebugCon::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t(addr + i == port_ ? 0xE9 : 0xFF) << (8 * i);
  return v;
}

void DebugCon::save(StateWriter& out) const { out.u16(port_); }

void DebugCon::load(StateReader& in) {
  const uint16_t port = in.u16();
  in.expect(port == port_, "debugcon: snapshot from another port");
}

}  // namespace vs::devices
