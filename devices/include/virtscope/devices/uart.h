// The 16550A UART (National Semiconductor PC16550D datasheet): one serial
// port, eight registers at `base`..`base`+7, one IRQ line gated by MCR.OUT2 as
// on the PC (COM1: 0x3F8/IRQ4, COM2: 0x2F8/IRQ3).
//
// Timing model (virtual time, DESIGN.md §6):
//  - Transmit: every byte written to THR is handed to the output callback at
//    once, so the host never loses output and the guest never waits on the
//    host. What the guest *sees* (LSR.THRE, LSR.TEMT, the THRE interrupt)
//    follows the datasheet's THR/FIFO -> shift register pipeline: a byte moves
//    from THR (or the TX FIFO) into the shift register as soon as that is
//    idle, and the shift register needs one character time,
//    frame_bits * divisor / 115200 seconds (10 bits at 8N1), timed by the
//    scheduler timer "<name>-tx". A byte written while THR/FIFO is full is
//    still emitted (real hardware would drop it) and counted in
//    UartStatus::tx_overflows.
//  - Receive: receive() puts bytes straight into the RX FIFO (the character
//    has already crossed the wire); a full FIFO sets LSR.OE. The FIFO
//    character-timeout interrupt fires 4 character times after the last FIFO
//    activity (datasheet "FIFO Interrupt Mode Operation"), timer
//    "<name>-rx-timeout".
//
// Not modelled: parity/framing errors and break (never produced, LSR bits 2-4
// and 7 stay 0 unless loaded), DMA mode (FCR bit 3 stored only), the modem
// inputs outside loopback (a connected terminal: CTS, DSR and DCD asserted,
// never changing).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>

#include "virtscope/devices/device.h"
#include "virtscope/devices/scheduler.h"

namespace vs::devices {

// What the UI shows of one port: registers as peek() would read them plus
// the hidden pipeline state.
struct UartStatus {
  uint16_t base = 0;
  unsigned irq = 0;
  uint8_t ier = 0, iir = 0, fcr = 0, lcr = 0, mcr = 0, lsr = 0, msr = 0, scr = 0;
  uint16_t divisor = 0;
  uint32_t baud = 0;               // 115200 / divisor
  unsigned rx_count = 0;           // bytes waiting in RBR / RX FIFO
  unsigned tx_count = 0;           // bytes waiting in THR / TX FIFO
  bool tx_shifting = false;        // the transmit shift register holds a byte
  bool irq_line = false;           // level driven to the interrupt controller
  uint64_t bytes_sent = 0;         // handed to the output callback
  uint64_t bytes_received = 0;     // accepted into the RX FIFO
  uint64_t rx_overruns = 0;        // bytes lost to a full RX FIFO
  uint64_t tx_overflows = 0;       // bytes written to a full THR/TX FIFO
  uint64_t lsr_reads = 0;          // guest reads of the line status register (polling)
};

class Uart final : public Device {
 public:
  using Output = std::function<void(uint8_t)>;
  static constexpr unsigned kFifoSize = 16;
  static constexpr uint32_t kClockBaud = 115200;  // 1.8432 MHz / 16

  // Register offsets from the base port.
  enum Reg : uint8_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };

  // Registers two scheduler timers, "<name>-tx" and "<name>-rx-timeout".
  // `output` may be empty (the port is connected to nothing).
  Uart(std::string_view name, uint16_t base, unsigned irq, IrqSink& irqs, Scheduler& scheduler, Output output);

  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // Host input: a character arrived on the serial input pin. Dropped while
  // in loopback (the pin is disconnected, datasheet MCR bit 4).
  void receive(uint8_t byte);
  void receive(std::string_view bytes);

  uint16_t base() const { return base_; }
  unsigned irq() const { return irq_; }
  UartStatus status() const;
  // On IBM PCs the UART's interrupt output reaches the PIC only while MCR
  // OUT2 is set (the default here). QEMU's 16550 ignores OUT2, and guests
  // written for QEMU (xv6) never set it: a machine that boots them as QEMU
  // does turns the gate off.
  void set_out2_gates_irq(bool on) { out2_gates_irq_ = on; }
  // Virtual instructions one character occupies on the wire at the current
  // divisor and line format.
  uint64_t char_time() const;

 private:
  struct Fifo {  // a ring of up to kFifoSize bytes
    std::array<uint8_t, kFifoSize> bytes{};
    uint8_t head = 0, count = 0;
    uint8_t front() const { return bytes[head]; }
    void push(uint8_t b) { bytes[(head + count++) % kFifoSize] = b; }
    uint8_t pop();
    void clear() { head = count = 0; }
  };

  uint8_t read_register(unsigned reg);
  uint8_t peek_register(unsigned reg) const;
  void write_register(unsigned reg, uint8_t value);
  void write_thr(uint8_t value);
  void write_ier(uint8_t value);
  void write_fcr(uint8_t value);
  void write_mcr(uint8_t value);
  uint8_t read_rbr();

  bool fifo_enabled() const { return fcr_ & 0x01; }
  bool loopback() const { return mcr_ & 0x10; }
  unsigned fifo_capacity() const { return fifo_enabled() ? kFifoSize : 1; }
  unsigned rx_trigger() const;
  uint8_t lsr() const;
  uint8_t modem_inputs() const;  // MSR bits 7:4 as the pins are now
  uint8_t msr() const { return uint8_t(modem_inputs() | msr_deltas_); }
  uint8_t iir() const;           // the highest-priority pending source
  void accept_rx(uint8_t byte);  // into RBR / RX FIFO, or overrun
  void start_shift(uint64_t at);  // THR/FIFO -> shift register at virtual time `at`
  void on_tx_done();             // the shift register finished a character
  void on_rx_timeout();
  void touch_rx();               // FIFO activity restarts the timeout
  void update_irq();

  // Wiring (not state).
  uint16_t base_;
  unsigned irq_;
  IrqSink& irqs_;
  Scheduler& scheduler_;
  Output output_;
  Scheduler::Id tx_timer_, rx_timer_;

  // Registers (datasheet Table 2).
  uint8_t ier_ = 0;           // interrupt enable: 0 ERBFI, 1 ETBEI, 2 ELSI, 3 EDSSI
  uint8_t fcr_ = 0;           // FIFO control as written: 0 enable, 3 DMA mode, 7:6 RX trigger
  uint8_t lcr_ = 0;           // line control: 1:0 word length, 2 stop bits, 3-5 parity, 6 break, 7 DLAB
  bool out2_gates_irq_ = true;  // see set_out2_gates_irq
  uint64_t lsr_reads_ = 0;
  uint8_t mcr_ = 0;           // modem control: 0 DTR, 1 RTS, 2 OUT1, 3 OUT2 (PC: IRQ enable), 4 LOOP
  uint8_t lsr_errors_ = 0;    // LSR bits 1-4 (OE, PE, FE, BI): latched until LSR is read
  uint8_t msr_deltas_ = 0;    // MSR bits 3:0 (DCTS, DDSR, TERI, DDCD): cleared by reading MSR
  uint8_t scr_ = 0;           // scratch
  uint16_t divisor_ = 12;     // DLM:DLL baud divisor
  uint8_t rbr_ = 0;           // last byte read from RBR (read again when empty)
  Fifo rx_;                   // RBR / RX FIFO
  uint8_t tx_count_ = 0;      // bytes in THR / TX FIFO (already emitted)
  bool tx_shifting_ = false;  // the shift register is busy with a character
  uint64_t tx_end_ = 0;       // when the character in the shift register is out
  bool thre_pending_ = false; // THRE interrupt latched (cleared by IIR read or THR write)
  bool timeout_pending_ = false;  // FIFO character timeout (cleared by reading RBR)
  bool irq_level_ = false;    // what we last drove on the line

  // Counters for the UI (saved so a restored machine shows the same).
  uint64_t bytes_sent_ = 0, bytes_received_ = 0, rx_overruns_ = 0, tx_overflows_ = 0;
};

}  // namespace vs::devices
