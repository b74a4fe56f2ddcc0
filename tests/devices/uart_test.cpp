// 16550A UART through its registers, with a fake interrupt line and a
// virtual clock the test advances.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "virtscope/devices/uart.h"

namespace vs::devices {
namespace {

constexpr uint16_t kBase = 0x3F8;
constexpr unsigned kIrq = 4;
constexpr uint32_t RBR = kBase + 0, THR = kBase + 0, DLL = kBase + 0, IER = kBase + 1, DLM = kBase + 1,
                   IIR = kBase + 2, FCR = kBase + 2, LCR = kBase + 3, MCR = kBase + 4, LSR = kBase + 5,
                   MSR = kBase + 6, SCR = kBase + 7;

struct FakeIrqs final : IrqSink {
  bool level[16] = {};
  int rises = 0;
  void set_irq(unsigned irq, bool l) override {
    if (l && !level[irq]) ++rises;
    level[irq] = l;
  }
};

struct Rig {
  uint64_t now = 0;
  FakeIrqs irqs;
  Scheduler scheduler{[this] { return now; }};
  std::string sent;
  Uart uart{"com1", kBase, kIrq, irqs, scheduler, [this](uint8_t b) { sent += char(b); }};

  uint8_t in(uint32_t port) { return uint8_t(uart.read(port, 1)); }
  void out(uint32_t port, uint8_t v) { uart.write(port, 1, v); }
  void advance(uint64_t ticks) {
    now += ticks;
    scheduler.run_due();
  }
  bool line() const { return irqs.level[kIrq]; }
};

TEST(Uart, DivisorLatch_SetsBaudAndCharacterTime) {
  Rig r;
  r.out(LCR, 0x80);  // DLAB
  r.out(DLL, 3);
  r.out(DLM, 0);
  EXPECT_EQ(r.in(DLL), 3);
  EXPECT_EQ(r.in(DLM), 0);
  r.out(LCR, 0x03);  // 8N1, DLAB off
  EXPECT_EQ(r.uart.status().divisor, 3);
  EXPECT_EQ(r.uart.status().baud, 38400u);
  // 10 bits at 38400 baud, 100 M instructions per second.
  EXPECT_EQ(r.uart.char_time(), 10u * 3 * Scheduler::kInstructionsPerSecond / 115200);
  r.out(LCR, 0x07);  // 8 data bits, 2 stop bits: 11 bits
  EXPECT_EQ(r.uart.char_time(), 11u * 3 * Scheduler::kInstructionsPerSecond / 115200);
  EXPECT_EQ(r.scheduler.name(0), "com1-tx");
}

TEST(Uart, Transmit_EmitsAtOnceAndPacesThreAndTemt) {
  Rig r;
  r.out(LCR, 0x03);
  r.out(THR, 'H');
  EXPECT_EQ(r.sent, "H");
  // 'H' went straight into the shift register: THR empty, transmitter busy.
  EXPECT_EQ(r.in(LSR) & 0x60, 0x20);
  r.out(THR, 'i');
  EXPECT_EQ(r.sent, "Hi");
  EXPECT_EQ(r.in(LSR) & 0x60, 0x00);  // 'i' waits in THR
  const uint64_t t = r.uart.char_time();
  r.advance(t - 1);
  EXPECT_EQ(r.in(LSR) & 0x60, 0x00);
  r.advance(1);
  EXPECT_EQ(r.in(LSR) & 0x60, 0x20);  // 'i' shifting
  r.advance(t);
  EXPECT_EQ(r.in(LSR) & 0x60, 0x60);  // idle
  EXPECT_EQ(r.uart.status().bytes_sent, 2u);
}

TEST(Uart, TxFifo_HoldsSixteenBehindTheShifterAndCountsOverflow) {
  Rig r;
  r.out(FCR, 0x07);
  std::string text = "0123456789abcdefgh";  // 18 bytes: 1 shifting + 16 queued + 1 too many
  for (char c : text) r.out(THR, uint8_t(c));
  EXPECT_EQ(r.sent, text);  // the host still sees every byte
  EXPECT_EQ(r.uart.status().tx_count, 16u);
  EXPECT_EQ(r.uart.status().tx_overflows, 1u);
  r.advance(16 * r.uart.char_time());
  EXPECT_EQ(r.in(LSR) & 0x60, 0x20);  // last byte shifting
  r.out(FCR, 0x05);                   // clearing TX does not stop the shifter
  r.advance(r.uart.char_time());
  EXPECT_EQ(r.in(LSR) & 0x60, 0x60);
}

TEST(Uart, Reset_ReturnsToPowerOnAndDropsTheLine) {
  Rig r;
  r.out(MCR, 0x08);
  r.out(IER, 0x02);
  r.out(FCR, 0x01);
  r.uart.receive('a');
  ASSERT_TRUE(r.line());
  r.uart.reset();
  EXPECT_FALSE(r.line());
  EXPECT_EQ(r.in(IIR), 0x01);
  EXPECT_EQ(r.in(LSR), 0x60);
  EXPECT_EQ(r.uart.status().divisor, 12);
  EXPECT_FALSE(r.scheduler.pending(0));
}

TEST(Uart, ThreInterrupt_RaisedWhenEmptyClearedByIirReadOrThrWrite) {
  Rig r;
  r.out(MCR, 0x08);  // OUT2: IRQ reaches the bus
  EXPECT_FALSE(r.line());
  r.out(IER, 0x02);  // enabling ETBEI with THR empty raises THRE at once
  EXPECT_TRUE(r.line());
  EXPECT_EQ(r.in(IIR), 0x02);
  EXPECT_EQ(r.in(IIR), 0x01);  // the read acknowledged it
  EXPECT_FALSE(r.line());

  r.out(THR, 'A');  // moves into the shift register: THR empty again
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x02u);
  EXPECT_TRUE(r.line());
  r.out(THR, 'B');  // the write clears it; 'B' waits in THR
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x01u);
  EXPECT_FALSE(r.line());
  r.advance(r.uart.char_time());  // 'A' done, 'B' moves on: THRE again
  EXPECT_TRUE(r.line());
  EXPECT_EQ(r.in(IIR), 0x02);
}

TEST(Uart, IirPriority_LineStatusThenDataThenThreThenModem) {
  Rig r;
  r.out(IER, 0x0F);
  EXPECT_EQ(r.in(IIR) & 0x0F, 0x02);  // THRE (acknowledged by this read)
  r.out(IER, 0x00);
  r.out(IER, 0x0F);                   // re-raise THRE
  r.uart.receive('a');
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x04u);  // received data beats THRE
  r.uart.receive('b');                // overrun
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x06u);  // line status beats everything
  EXPECT_EQ(r.in(LSR) & 0x03, 0x03);  // DR + OE; reading clears OE
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x04u);
  EXPECT_EQ(r.in(RBR), 'b');          // without FIFO the new byte overwrote RBR
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x02u);
  r.out(MCR, 0x10);                   // loopback: CTS/DSR/DCD drop -> modem deltas
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x02u);  // THRE still first
  EXPECT_EQ(r.in(IIR), 0x02);
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x00u);  // modem status, lowest
  EXPECT_EQ(r.in(MSR) & 0x0F, 0x0B);  // DCTS, DDSR, DDCD
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x01u);
}

TEST(Uart, Receive_SetsDataReadyAndRaisesRxInterrupt) {
  Rig r;
  r.out(MCR, 0x08);
  r.out(IER, 0x01);
  EXPECT_EQ(r.in(LSR) & 0x01, 0);
  r.uart.receive('x');
  EXPECT_EQ(r.in(LSR) & 0x01, 0x01);
  EXPECT_TRUE(r.line());
  EXPECT_EQ(r.in(IIR), 0x04);
  EXPECT_EQ(r.in(RBR), 'x');
  EXPECT_EQ(r.in(LSR) & 0x01, 0);
  EXPECT_FALSE(r.line());
}

TEST(Uart, Fifo_TriggerLevelAndCharacterTimeout) {
  Rig r;
  r.out(LCR, 0x03);
  r.out(FCR, 0x87);  // enable, clear both, trigger at 8
  r.out(MCR, 0x08);
  r.out(IER, 0x01);
  EXPECT_EQ(r.in(IIR) & 0xC0, 0xC0);  // FIFOs enabled
  r.uart.receive("1234567");
  EXPECT_EQ(r.uart.peek(IIR, 1), 0xC1u);
  EXPECT_FALSE(r.line());
  r.uart.receive('8');
  EXPECT_EQ(r.uart.peek(IIR, 1), 0xC4u);
  EXPECT_TRUE(r.line());
  EXPECT_EQ(r.in(RBR), '1');  // 7 left: below the trigger
  EXPECT_EQ(r.uart.peek(IIR, 1), 0xC1u);
  r.advance(4 * r.uart.char_time() - 1);
  EXPECT_EQ(r.uart.peek(IIR, 1), 0xC1u);
  r.advance(1);  // four character times without FIFO activity
  EXPECT_EQ(r.uart.peek(IIR, 1), 0xCCu);
  EXPECT_TRUE(r.line());
  EXPECT_EQ(r.in(RBR), '2');  // a read clears the timeout
  EXPECT_EQ(r.uart.peek(IIR, 1), 0xC1u);
  r.out(FCR, 0x83);  // clear RX
  EXPECT_EQ(r.in(LSR) & 0x01, 0);
}

TEST(Uart, Overrun_FullFifoSetsOeAndDropsTheNewByte) {
  Rig r;
  r.out(FCR, 0x01);
  r.uart.receive("ABCDEFGHIJKLMNOPQ");  // 17 bytes into 16
  EXPECT_EQ(r.uart.status().rx_overruns, 1u);
  EXPECT_EQ(r.in(LSR) & 0x02, 0x02);
  EXPECT_EQ(r.in(LSR) & 0x02, 0x00);  // cleared by the read
  std::string got;
  while (r.in(LSR) & 0x01) got += char(r.in(RBR));
  EXPECT_EQ(got, "ABCDEFGHIJKLMNOP");
}

TEST(Uart, Loopback_TransmitReturnsToReceiverAndModemLinesFollowMcr) {
  Rig r;
  r.out(IER, 0x01);
  r.out(MCR, 0x1F);  // loop, OUT2, OUT1, RTS, DTR
  EXPECT_EQ(r.in(MSR) & 0xF0, 0xF0);
  r.out(THR, 'Z');
  EXPECT_EQ(r.sent, "");  // nothing leaves the port
  EXPECT_EQ(r.in(LSR) & 0x01, 0x01);
  EXPECT_EQ(r.in(IIR), 0x04);
  EXPECT_FALSE(r.line());  // OUT2's pin is forced inactive in loopback
  EXPECT_EQ(r.in(RBR), 'Z');
  r.uart.receive('q');  // the input pin is disconnected
  EXPECT_EQ(r.in(LSR) & 0x01, 0);
  r.out(MCR, 0x1B);  // OUT1 (-> RI) drops: trailing edge
  EXPECT_EQ(r.in(MSR) & 0x04, 0x04);
}

TEST(Uart, Out2_GatesTheIrqLine) {
  Rig r;
  r.out(IER, 0x02);
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x02u);
  EXPECT_FALSE(r.line());
  r.out(MCR, 0x08);
  EXPECT_TRUE(r.line());
  r.out(MCR, 0x00);
  EXPECT_FALSE(r.line());
}

TEST(Uart, PeekAndWideAccess_HaveNoSideEffects) {
  Rig r;
  r.out(IER, 0x02);
  r.uart.receive('k');
  r.out(SCR, 0x5A);
  EXPECT_EQ(r.uart.peek(RBR, 1), uint32_t('k'));
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x02u);
  EXPECT_EQ(r.uart.peek(IIR, 1), 0x02u);  // not acknowledged
  EXPECT_EQ(r.in(RBR), 'k');              // still there
  // A 16-bit read is two byte reads: MCR then LSR (THRE, TEMT).
  EXPECT_EQ(r.uart.peek(MCR, 2), uint32_t(0x60 << 8));
  EXPECT_EQ(r.uart.peek(SCR, 2), 0xFF5Au);  // the byte past base+7 floats
}

TEST(Uart, Snapshot_RoundTripRestoresRegistersAndFifo) {
  Rig a;
  a.out(LCR, 0x80);
  a.out(DLL, 1);
  a.out(LCR, 0x1B);
  a.out(FCR, 0x41);
  a.out(MCR, 0x0B);
  a.out(IER, 0x05);
  a.out(SCR, 0x77);
  a.uart.receive("hello");
  a.in(RBR);  // 'h'
  StateWriter w;
  a.uart.save(w);

  Rig b;
  StateReader rd(w.data());
  b.uart.load(rd);
  ASSERT_TRUE(rd.ok()) << rd.error();
  EXPECT_EQ(rd.remaining(), 0u);
  EXPECT_EQ(b.in(LCR), 0x1B);
  EXPECT_EQ(b.in(SCR), 0x77);
  EXPECT_EQ(b.uart.status().divisor, 1);
  EXPECT_EQ(b.uart.status().rx_count, 4u);
  EXPECT_TRUE(b.line());  // IRQ re-driven: 4 bytes reach the trigger of 4
  std::string got;
  while (b.in(LSR) & 0x01) got += char(b.in(RBR));
  EXPECT_EQ(got, "ello");
  StateWriter again;
  a.uart.save(again);
  EXPECT_EQ(again.data(), w.data());  // save has no side effects
}

TEST(Uart, Snapshot_MalformedDataIsRejectedAndChangesNothing) {
  Rig a;
  StateWriter good;
  a.uart.save(good);

  Rig b;
  b.out(SCR, 0x42);
  // Truncated.
  std::vector<uint8_t> cut(good.data().begin(), good.data().end() - 3);
  StateReader r1(cut);
  b.uart.load(r1);
  EXPECT_FALSE(r1.ok());
  EXPECT_EQ(b.in(SCR), 0x42);

  // RX count 2 with the FIFOs off (capacity 1). Offset: 7 registers, the
  // divisor (2), RBR (1).
  std::vector<uint8_t> bad = good.data();
  bad[10] = 2;
  StateReader r2(bad);
  b.uart.load(r2);
  EXPECT_FALSE(r2.ok());

  // Trigger bits without the FIFO enable bit.
  bad = good.data();
  bad[1] = 0xC0;
  StateReader r3(bad);
  b.uart.load(r3);
  EXPECT_FALSE(r3.ok());
  EXPECT_EQ(b.in(SCR), 0x42);
}

}  // namespace
}  // namespace vs::devices
