// Host input into a guest's UART (`virtscope run` at a terminal, tests):
// one byte at a time, only into an empty receive buffer, and only once the
// guest listens: it enabled the receive interrupt or polled the line
// status since the last byte (input sent before the guest set the UART up
// would be lost in its initialisation). So the same input arrives at the
// same points in every run.
#pragma once

#include <cstdint>

#include "virtscope/devices/uart.h"

namespace vs::vmm {

struct SerialInputGate {
  bool ready(const devices::Uart& uart) const {
    const devices::UartStatus s = uart.status();
    return s.rx_count == 0 && ((s.ier & 0x01) || s.lsr_reads != lsr_reads_at_delivery);
  }
  void deliver(devices::Uart& uart, uint8_t byte) {
    uart.receive(byte);
    lsr_reads_at_delivery = uart.status().lsr_reads;
  }

  uint64_t lsr_reads_at_delivery = 0;  // the UART's LSR reads when the last byte went in (snapshots keep it)
};

}  // namespace vs::vmm
