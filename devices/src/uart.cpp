// 16550A UART. Register and interrupt behaviour follow the PC16550D datasheet
// (National Semiconductor, 1995): Table 2 (registers), Table 4 (interrupt
// control: priorities and reset conditions), "FIFO Interrupt Mode Operation"
// (trigger levels, character timeout) and "Loopback" (MCR bit 4).
#include "virtscope/devices/uart.h"

namespace vs::devices {

namespace {
// IIR interrupt identification (bits 3:0), datasheet Table 4, highest first.
constexpr uint8_t kIirNone = 0x01;
constexpr uint8_t kIirLineStatus = 0x06;
constexpr uint8_t kIirRxData = 0x04;
constexpr uint8_t kIirRxTimeout = 0x0C;
constexpr uint8_t kIirThre = 0x02;
constexpr uint8_t kIirModem = 0x00;

constexpr uint8_t kIerRx = 0x01, kIerThre = 0x02, kIerLine = 0x04, kIerModem = 0x08;
constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrErrors = 0x1E, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kMcrOut2 = 0x08, kMcrMask = 0x1F;
constexpr uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02, kFcrClearTx = 0x04, kFcrStored = 0xC9;
// Outside loopback the port is cabled to a terminal that is always ready:
// CTS, DSR and DCD asserted, RI idle.
constexpr uint8_t kCabledModemInputs = 0xB0;
// The RX timeout is "4 character times" (datasheet, FIFO Interrupt Mode).
constexpr uint64_t kTimeoutChars = 4;
}  // namespace

uint8_t Uart::Fifo::pop() {
  const uint8_t b = bytes[head];
  head = uint8_t((head + 1) % kFifoSize);
  --count;
  return b;
}

Uart::Uart(std::string_view name, uint16_t base, unsigned irq, IrqSink& irqs, Scheduler& scheduler, Output output)
    : Device(name), base_(base), irq_(irq), irqs_(irqs), scheduler_(scheduler), output_(std::move(output)) {
  tx_timer_ = scheduler_.add(std::string(name) + "-tx", [this] { on_tx_done(); });
  rx_timer_ = scheduler_.add(std::string(name) + "-rx-timeout", [this] { on_rx_timeout(); });
  reset();
}

// ------------------------------------------------------------ bus access ----

// The UART sits on the 8-bit ISA bus: a wider access is split into byte
// accesses at consecutive ports; bytes beyond our eight ports float high.
uint32_t Uart::read(uint32_t addr, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t reg = addr + i - base_;
    v |= uint32_t(reg < 8 ? read_register(reg) : 0xFF) << (8 * i);
  }
  return v;
}

void Uart::write(uint32_t addr, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t reg = addr + i - base_;
    if (reg < 8) write_register(reg, uint8_t(value >> (8 * i)));
  }
}

uint32_t Uart::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t reg = addr + i - base_;
    v |= uint32_t(reg < 8 ? peek_register(reg) : 0xFF) << (8 * i);
  }
  return v;
}

uint8_t Uart::peek_register(unsigned reg) const {
  const bool dlab = lcr_ & kLcrDlab;
  switch (reg) {
    case kRbrThr: return dlab ? uint8_t(divisor_) : (rx_.count ? rx_.front() : rbr_);
    case kIer: return dlab ? uint8_t(divisor_ >> 8) : ier_;
    case kIirFcr: return iir();
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr: return lsr();
    case kMsr: return msr();
    default: return scr_;
  }
}

// Reads with side effects: RBR pops the FIFO, IIR acknowledges a THRE
// interrupt, LSR clears the error bits, MSR clears the delta bits (Table 4
// "Interrupt Reset Control").
uint8_t Uart::read_register(unsigned reg) {
  const bool dlab = lcr_ & kLcrDlab;
  switch (reg) {
    case kRbrThr:
      return dlab ? uint8_t(divisor_) : read_rbr();
    case kIirFcr: {
      const uint8_t id = iir();
      if ((id & 0x0F) == kIirThre) {
        thre_pending_ = false;
        update_irq();
      }
      return id;
    }
    case kLsr: {
      const uint8_t v = lsr();
      ++lsr_reads_;
      lsr_errors_ = 0;
      update_irq();
      return v;
    }
    case kMsr: {
      const uint8_t v = msr();
      msr_deltas_ = 0;
      update_irq();
      return v;
    }
    default:
      return peek_register(reg);
  }
}

void Uart::write_register(unsigned reg, uint8_t value) {
  const bool dlab = lcr_ & kLcrDlab;
  switch (reg) {
    case kRbrThr:
      if (dlab) divisor_ = uint16_t((divisor_ & 0xFF00) | value);
      else write_thr(value);
      break;
    case kIer:
      if (dlab) divisor_ = uint16_t((divisor_ & 0x00FF) | (value << 8));
      else write_ier(value);
      break;
    case kIirFcr: write_fcr(value); break;
    case kLcr: lcr_ = value; break;
    case kMcr: write_mcr(value); break;
    case kScr: scr_ = value; break;
    default: break;  // LSR and MSR: factory test only, writes ignored
  }
}

// ------------------------------------------------------------- transmit ----

void Uart::write_thr(uint8_t value) {
  thre_pending_ = false;  // writing THR resets the THRE interrupt (Table 4)
  if (tx_count_ >= fifo_capacity()) ++tx_overflows_;
  else ++tx_count_;
  if (loopback()) {
    accept_rx(value);  // TSR output wired to RSR input; SOUT held marking
  } else {
    ++bytes_sent_;
    if (output_) output_(value);
  }
  if (!tx_shifting_) start_shift(scheduler_.now());
  update_irq();
}

// THR (or the TX FIFO's oldest byte) moves into the idle shift register at
// once; THR empty again raises THRE and latches its interrupt.
void Uart::start_shift(uint64_t at) {
  if (tx_count_ == 0 || tx_shifting_) return;
  --tx_count_;
  tx_shifting_ = true;
  tx_end_ = at + char_time();
  scheduler_.schedule(tx_timer_, tx_end_);
  if (tx_count_ == 0) thre_pending_ = true;
}

// Back-to-back characters follow each other on the wire: the next one
// starts when this one ended, however late the scheduler ran us.
void Uart::on_tx_done() {
  tx_shifting_ = false;
  start_shift(tx_end_);
  update_irq();
}

uint64_t Uart::char_time() const {
  // Start bit + 5..8 data bits + optional parity + 1 or 2 stop bits (1.5
  // for 5-bit words, counted as 2).
  const uint64_t bits = 1 + (5 + (lcr_ & 3)) + ((lcr_ & 0x08) ? 1 : 0) + ((lcr_ & 0x04) ? 2 : 1);
  // A divisor of 0 is undefined in the datasheet; pace it as 1.
  const uint64_t divisor = divisor_ ? divisor_ : 1;
  const uint64_t ticks = bits * divisor * Scheduler::kInstructionsPerSecond / kClockBaud;
  return ticks ? ticks : 1;
}

// -------------------------------------------------------------- receive ----

void Uart::receive(uint8_t byte) {
  if (!loopback()) accept_rx(byte);
}

void Uart::receive(std::string_view bytes) {
  for (char c : bytes) receive(uint8_t(c));
}

void Uart::accept_rx(uint8_t byte) {
  if (rx_.count >= fifo_capacity()) {
    // Overrun (LSR bit 1). Without FIFOs the new character overwrites RBR;
    // with FIFOs it is lost in the shift register.
    lsr_errors_ |= kLsrOe;
    ++rx_overruns_;
    if (!fifo_enabled()) {
      rx_.clear();
      rx_.push(byte);
    }
  } else {
    rx_.push(byte);
    ++bytes_received_;
  }
  touch_rx();
  update_irq();
}

uint8_t Uart::read_rbr() {
  if (rx_.count) rbr_ = rx_.pop();
  timeout_pending_ = false;  // reading a character clears the timeout indication
  touch_rx();
  update_irq();
  return rbr_;
}

// The character-timeout timer restarts on every FIFO activity unless a
// timeout is already indicated (then only a read resets it).
void Uart::touch_rx() {
  if (!fifo_enabled() || rx_.count == 0) {
    scheduler_.cancel(rx_timer_);
    return;
  }
  if (!timeout_pending_) scheduler_.schedule(rx_timer_, scheduler_.now() + kTimeoutChars * char_time());
}

void Uart::on_rx_timeout() {
  if (fifo_enabled() && rx_.count) timeout_pending_ = true;
  update_irq();
}

unsigned Uart::rx_trigger() const {
  static constexpr unsigned kTrigger[4] = {1, 4, 8, 14};  // FCR bits 7:6
  return fifo_enabled() ? kTrigger[fcr_ >> 6] : 1;
}

// ------------------------------------------------------ control registers ----

void Uart::write_ier(uint8_t value) {
  const uint8_t old = ier_;
  ier_ = value & 0x0F;
  // Enabling ETBEI while THR is empty raises THRE at once (16550 behaviour
  // drivers probe for).
  if (!(old & kIerThre) && (ier_ & kIerThre) && tx_count_ == 0) thre_pending_ = true;
  update_irq();
}

void Uart::write_fcr(uint8_t value) {
  const bool was_enabled = fifo_enabled();
  const bool had_tx = tx_count_ != 0;
  if (!(value & kFcrEnable)) {
    // Bit 0 must be set for the other bits to be written; clearing it
    // disables (and thereby resets) both FIFOs.
    fcr_ = 0;
    if (was_enabled) {
      rx_.clear();
      tx_count_ = 0;
    }
  } else {
    fcr_ = value & kFcrStored;
    if (!was_enabled || (value & kFcrClearRx)) rx_.clear();
    if (!was_enabled || (value & kFcrClearTx)) tx_count_ = 0;
  }
  if (rx_.count == 0) timeout_pending_ = false;
  if (had_tx && tx_count_ == 0) thre_pending_ = true;  // THR just became empty
  touch_rx();
  update_irq();
}

void Uart::write_mcr(uint8_t value) {
  const uint8_t before = modem_inputs();
  mcr_ = value & kMcrMask;
  const uint8_t after = modem_inputs();
  const uint8_t changed = before ^ after;
  if (changed & 0x10) msr_deltas_ |= 0x01;                   // DCTS
  if (changed & 0x20) msr_deltas_ |= 0x02;                   // DDSR
  if ((before & 0x40) && !(after & 0x40)) msr_deltas_ |= 0x04;  // TERI: RI trailing edge
  if (changed & 0x80) msr_deltas_ |= 0x08;                   // DDCD
  update_irq();
}

// In loopback the modem outputs drive the inputs: RTS->CTS, DTR->DSR,
// OUT1->RI, OUT2->DCD (datasheet MCR bit 4).
uint8_t Uart::modem_inputs() const {
  if (!loopback()) return kCabledModemInputs;
  return uint8_t(((mcr_ & 0x02) ? 0x10 : 0) | ((mcr_ & 0x01) ? 0x20 : 0) | ((mcr_ & 0x04) ? 0x40 : 0) |
                 ((mcr_ & 0x08) ? 0x80 : 0));
}

uint8_t Uart::lsr() const {
  uint8_t v = lsr_errors_;
  if (rx_.count) v |= kLsrDr;
  if (tx_count_ == 0) v |= kLsrThre;
  if (tx_count_ == 0 && !tx_shifting_) v |= kLsrTemt;
  return v;
}

// Priority order of Table 4: line status, received data / timeout, THR
// empty, modem status. Bits 7:6 read 11 when the FIFOs are enabled.
uint8_t Uart::iir() const {
  uint8_t id = kIirNone;
  if ((ier_ & kIerLine) && (lsr_errors_ & kLsrErrors)) id = kIirLineStatus;
  else if ((ier_ & kIerRx) && rx_.count >= rx_trigger()) id = kIirRxData;
  else if ((ier_ & kIerRx) && timeout_pending_) id = kIirRxTimeout;
  else if ((ier_ & kIerThre) && thre_pending_) id = kIirThre;
  else if ((ier_ & kIerModem) && (msr_deltas_ & 0x0F)) id = kIirModem;
  return uint8_t(id | (fifo_enabled() ? 0xC0 : 0));
}

// On the PC the UART's INTRPT pin reaches the bus through a buffer enabled
// by OUT2; in loopback OUT2's pin is forced inactive, so no IRQ leaves.
void Uart::update_irq() {
  const bool level = !(iir() & kIirNone) && (!out2_gates_irq_ || (mcr_ & kMcrOut2)) && !loopback();
  if (level == irq_level_) return;
  irq_level_ = level;
  irqs_.set_irq(irq_, level);
}

// ------------------------------------------------------ reset, snapshots ----

void Uart::reset() {
  ier_ = fcr_ = lcr_ = mcr_ = lsr_errors_ = msr_deltas_ = scr_ = 0;
  divisor_ = 12;  // 9600 baud, what a PC BIOS programs
  rbr_ = 0;
  rx_.clear();
  tx_count_ = 0;
  tx_shifting_ = thre_pending_ = timeout_pending_ = false;
  tx_end_ = 0;
  bytes_sent_ = bytes_received_ = rx_overruns_ = tx_overflows_ = lsr_reads_ = 0;
  scheduler_.cancel(tx_timer_);
  scheduler_.cancel(rx_timer_);
  update_irq();
}

void Uart::save(StateWriter& out) const {
  out.u8(ier_);
  out.u8(fcr_);
  out.u8(lcr_);
  out.u8(mcr_);
  out.u8(lsr_errors_);
  out.u8(msr_deltas_);
  out.u8(scr_);
  out.u16(divisor_);
  out.u8(rbr_);
  out.u8(rx_.count);
  for (unsigned i = 0; i < rx_.count; ++i) out.u8(rx_.bytes[(rx_.head + i) % kFifoSize]);
  out.u8(tx_count_);
  out.boolean(tx_shifting_);
  out.u64(tx_end_);
  out.boolean(thre_pending_);
  out.boolean(timeout_pending_);
  out.u64(bytes_sent_);
  out.u64(bytes_received_);
  out.u64(rx_overruns_);
  out.u64(tx_overflows_);
  out.u64(lsr_reads_);
}

void Uart::load(StateReader& in) {
  const uint8_t ier = in.u8(), fcr = in.u8(), lcr = in.u8(), mcr = in.u8();
  const uint8_t lsr_errors = in.u8(), msr_deltas = in.u8(), scr = in.u8();
  const uint16_t divisor = in.u16();
  const uint8_t rbr = in.u8();
  in.expect(ier <= 0x0F, "uart: IER has reserved bits set");
  in.expect((fcr & ~kFcrStored) == 0 && ((fcr & kFcrEnable) || fcr == 0), "uart: impossible FCR");
  in.expect(mcr <= kMcrMask, "uart: MCR has reserved bits set");
  in.expect((lsr_errors & ~kLsrErrors) == 0, "uart: impossible LSR error bits");
  in.expect(msr_deltas <= 0x0F, "uart: impossible MSR delta bits");
  const unsigned capacity = (fcr & kFcrEnable) ? kFifoSize : 1;
  Fifo rx;
  const uint8_t rx_count = in.u8();
  if (!in.expect(rx_count <= capacity, "uart: RX FIFO longer than the FIFO")) return;
  for (unsigned i = 0; i < rx_count; ++i) rx.push(in.u8());
  const uint8_t tx_count = in.u8();
  in.expect(tx_count <= capacity, "uart: TX FIFO longer than the FIFO");
  const bool tx_shifting = in.boolean();
  const uint64_t tx_end = in.u64();
  const bool thre_pending = in.boolean(), timeout_pending = in.boolean();
  in.expect(!timeout_pending || ((fcr & kFcrEnable) && rx_count), "uart: timeout without FIFO data");
  const uint64_t sent = in.u64(), received = in.u64(), overruns = in.u64(), overflows = in.u64();
  const uint64_t lsr_reads = in.u64();
  if (!in.ok()) return;  // leave the device untouched on a bad snapshot

  ier_ = ier;
  fcr_ = fcr;
  lcr_ = lcr;
  mcr_ = mcr;
  lsr_errors_ = lsr_errors;
  msr_deltas_ = msr_deltas;
  scr_ = scr;
  divisor_ = divisor;
  rbr_ = rbr;
  rx_ = rx;
  tx_count_ = tx_count;
  tx_shifting_ = tx_shifting;
  tx_end_ = tx_end;
  thre_pending_ = thre_pending;
  timeout_pending_ = timeout_pending;
  bytes_sent_ = sent;
  bytes_received_ = received;
  rx_overruns_ = overruns;
  tx_overflows_ = overflows;
  lsr_reads_ = lsr_reads;
  // Re-drive the line so the board agrees with the restored registers.
  irq_level_ = !(iir() & kIirNone) && (!out2_gates_irq_ || (mcr_ & kMcrOut2)) && !loopback();
  irqs_.set_irq(irq_, irq_level_);
}

UartStatus Uart::status() const {
  UartStatus s;
  s.base = base_;
  s.irq = irq_;
  s.ier = ier_;
  s.iir = iir();
  s.fcr = fcr_;
  s.lcr = lcr_;
  s.mcr = mcr_;
  s.lsr = lsr();
  s.msr = msr();
  s.scr = scr_;
  s.divisor = divisor_;
  s.baud = kClockBaud / (divisor_ ? divisor_ : 1);
  s.rx_count = rx_.count;
  s.tx_count = tx_count_;
  s.tx_shifting = tx_shifting_;
  s.irq_line = irq_level_;
  s.bytes_sent = bytes_sent_;
  s.bytes_received = bytes_received_;
  s.rx_overruns = rx_overruns_;
  s.tx_overflows = tx_overflows_;
  s.lsr_reads = lsr_reads_;
  return s;
}

}  // namespace vs::devices
