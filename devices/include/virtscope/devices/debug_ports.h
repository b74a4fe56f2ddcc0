// QEMU-compatible debug ports, so guests and test programs written for QEMU
// run unchanged (QEMU documentation: "isa-debug-exit", "debugcon").
//
// - DebugExit (isa-debug-exit): a write of value v to any port of
//   [iobase, iobase + iosize) asks the machine to stop with exit status
//   (v << 1) | 1 — always odd, so a guest cannot fake a clean 0. The status is
//   computed on the written value as the bus delivers it (the access size's
//   bits), modulo 2^32; a host process exit code is its low 8 bits (the
//   machine's business). Reads return 0.
// - DebugCon (debugcon, the Bochs/QEMU "port e9 hack"): every byte written to
//   the port goes to an output callback; reading the port returns 0xE9, which
//   is how guests detect it.
#pragma once

#include <cstdint>
#include <functional>

#include "virtscope/devices/device.h"

namespace vs::trace {
class EventLog;
}

namespace vs::devices {

class Scheduler;

struct DebugExitConfig {
  uint16_t iobase = 0xF4;  // QEMU's default iobase
  uint16_t iosize = 4;     // QEMU's default iosize (ports 0xF4-0xF7)
};

class DebugExit final : public Device {
 public:
  using Config = DebugExitConfig;
  // `on_exit` receives the status; with a log and a scheduler a GuestExit
  // event (status, port) is emitted first.
  explicit DebugExit(std::function<void(int status)> on_exit, trace::EventLog* log = nullptr,
                     const Scheduler* scheduler = nullptr, Config config = {});

  // The range to map on the port bus (iosize 0 is taken as 1).
  uint16_t first_port() const { return config_.iobase; }
  uint16_t last_port() const;

  uint32_t read(uint32_t addr, unsigned size) override { return 0; }
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override { return 0; }
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  static int status_for(uint32_t value) { return int((value << 1) | 1); }
  // Whether the guest has asked to exit (and with what), for the machine
  // and the UI.
  bool exit_requested() const { return requested_; }
  int exit_status() const { return status_; }

 private:
  std::function<void(int)> on_exit_;
  trace::EventLog* log_;
  const Scheduler* scheduler_;
  Config config_;
  bool requested_ = false;  // a write has happened since reset
  int status_ = 0;          // the last status requested
};

class DebugCon final : public Device {
 public:
  static constexpr uint16_t kDefaultPort = 0xE9;
  explicit DebugCon(std::function<void(uint8_t)> output, uint16_t port = kDefaultPort);

  uint16_t port() const { return port_; }

  // Reading the port returns 0xE9 (the detection value, whatever the port).
  uint32_t read(uint32_t addr, unsigned size) override { return peek(addr, size); }
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override {}
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

 private:
  std::function<void(uint8_t)> output_;
  uint16_t port_;
};

}  // namespace vs::devices
