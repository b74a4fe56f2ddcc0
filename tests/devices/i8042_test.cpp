// 8042 keyboard controller, PS/2 keyboard and port 0x92 through their ports.
#include <gtest/gtest.h>

#include <vector>

#include "virtscope/devices/i8042.h"

namespace vs::devices {
namespace {

struct FakeIrqs final : IrqSink {
  bool level[16] = {};
  int rises[16] = {};
  void set_irq(unsigned irq, bool l) override {
    if (l && !level[irq]) ++rises[irq];
    level[irq] = l;
  }
};

struct Rig {
  FakeIrqs irqs;
  std::vector<bool> a20_changes;
  int resets = 0;
  A20Gate gate{[this](bool on) { a20_changes.push_back(on); }, false};
  I8042 kbc{irqs, gate, [this] { ++resets; }};
  FastA20 port92{gate, [this] { ++resets; }};

  uint8_t status() { return uint8_t(kbc.read(0x64, 1)); }
  uint8_t data() { return uint8_t(kbc.read(0x60, 1)); }
  void command(uint8_t c) { kbc.write(0x64, 1, c); }
  void send(uint8_t d) { kbc.write(0x60, 1, d); }
  // Everything waiting in the output buffer, oldest first.
  std::vector<uint8_t> drain() {
    std::vector<uint8_t> got;
    while (status() & 0x01) got.push_back(data());
    return got;
  }
};

using Bytes = std::vector<uint8_t>;

TEST(I8042, SelfTestAndInterfaceTest_ReplyThroughOutputBuffer) {
  Rig r;
  EXPECT_EQ(r.status() & 0x01, 0);
  r.command(0xAA);
  EXPECT_EQ(r.status() & 0x09, 0x09);  // OBF, and A2: last write was a command
  EXPECT_EQ(r.data(), 0x55);
  EXPECT_EQ(r.status() & 0x01, 0);
  r.command(0xAB);
  EXPECT_EQ(r.data(), 0x00);
  EXPECT_EQ(r.status() & 0x02, 0);  // input buffer never stays full
}

TEST(I8042, CommandByte_ReadWriteAndSystemFlag) {
  Rig r;
  r.command(0x20);
  EXPECT_EQ(r.data(), 0x45);  // IRQ1, SYS, translate
  EXPECT_EQ(r.status() & 0x04, 0x04);
  r.command(0x60);
  r.send(0x40);  // SYS clear, IRQ1 off
  EXPECT_EQ(r.status() & 0x0C, 0x00);  // A2 now clear too (data write)
  r.command(0x20);
  EXPECT_EQ(r.data(), 0x40);
  r.command(0xAD);  // keyboard disable sets bit 4
  r.command(0xA7);  // aux disable sets bit 5
  r.command(0x20);
  EXPECT_EQ(r.data(), 0x70);
  r.command(0xAE);
  r.command(0xA8);
  r.command(0x20);
  EXPECT_EQ(r.data(), 0x40);
}

TEST(I8042, A20_OutputPortAndPort92ShareOneGate) {
  Rig r;
  EXPECT_EQ(r.port92.read(0x92, 1) & 0x02, 0u);
  r.command(0xD1);
  r.send(0x03);  // A20 on, reset line high
  EXPECT_TRUE(r.gate.enabled());
  EXPECT_EQ(r.port92.read(0x92, 1) & 0x02, 0x02u);  // seen through 0x92
  r.port92.write(0x92, 1, 0x00);                    // closed through 0x92
  EXPECT_FALSE(r.gate.enabled());
  r.command(0xD0);
  EXPECT_EQ(r.data() & 0x03, 0x01);  // seen through the output port
  r.command(0xDF);
  EXPECT_TRUE(r.gate.enabled());
  r.command(0xDF);  // no change, no callback
  r.command(0xDD);
  EXPECT_EQ(r.a20_changes, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(r.resets, 0);
}

TEST(I8042, ResetRequests_FromPulseOutputPortAndPort92) {
  Rig r;
  r.command(0xFF);  // pulses nothing
  EXPECT_EQ(r.resets, 0);
  r.command(0xFE);  // pulse bit 0: reset
  EXPECT_EQ(r.resets, 1);
  r.command(0xD1);
  r.send(0x02);  // bit 0 low holds the CPU in reset
  EXPECT_EQ(r.resets, 2);
  r.port92.write(0x92, 1, 0x03);  // 0 -> 1 on bit 0, A20 kept on
  EXPECT_EQ(r.resets, 3);
  r.port92.write(0x92, 1, 0x03);  // no new transition
  EXPECT_EQ(r.resets, 3);
  EXPECT_EQ(r.port92.read(0x92, 1), 0x03u);  // bit 0 as written, A20 on
  r.port92.reset();
  EXPECT_EQ(r.port92.read(0x92, 1), 0x02u);  // the gate keeps its state
}

TEST(I8042, KeyboardCommands_AreAcknowledged) {
  Rig r;
  r.send(0xFF);
  EXPECT_EQ(r.drain(), (Bytes{0xFA, 0xAA}));
  r.send(0xF2);
  EXPECT_EQ(r.drain(), (Bytes{0xFA, 0xAB, 0x41}));  // 0x83 translated
  r.send(0xED);
  r.send(0x05);
  EXPECT_EQ(r.drain(), (Bytes{0xFA, 0xFA}));
  EXPECT_EQ(r.kbc.leds(), 0x05);
  r.send(0xF3);
  r.send(0x20);
  r.send(0xEE);
  EXPECT_EQ(r.drain(), (Bytes{0xFA, 0xFA, 0xEE}));
  r.send(0xF5);
  EXPECT_FALSE(r.kbc.scanning());
  EXPECT_EQ(r.kbc.type_text("a"), 0u);  // not scanning: keys ignored
  r.send(0xF4);
  EXPECT_TRUE(r.kbc.scanning());
  r.send(0x01);  // not a command
  EXPECT_EQ(r.drain(), (Bytes{0xFA, 0xFA, 0xFE}));
}

TEST(I8042, TypedText_BecomesSet1ScanCodesWithIrq1PerByte) {
  Rig r;
  EXPECT_EQ(r.kbc.type_text("aB!\n"), 4u);
  EXPECT_TRUE(r.irqs.level[1]);
  const Bytes expected{0x1E, 0x9E,                     // a
                       0x2A, 0x30, 0xB0, 0xAA,         // shift + b
                       0x2A, 0x02, 0x82, 0xAA,         // shift + 1
                       0x1C, 0x9C};                    // Enter
  EXPECT_EQ(r.drain(), expected);
  EXPECT_FALSE(r.irqs.level[1]);
  // The line dropped and rose again for every byte (edge-triggered PIC).
  EXPECT_EQ(r.irqs.rises[1], int(expected.size()));
}

TEST(I8042, TypedControlCharacters_UseCtrlEscapeAndBackspace) {
  Rig r;
  r.kbc.type_text("\x03\x1b\x7f\t");
  EXPECT_EQ(r.drain(), (Bytes{0x1D, 0x2E, 0xAE, 0x9D, 0x01, 0x81, 0x0E, 0x8E, 0x0F, 0x8F}));
  EXPECT_TRUE(r.kbc.press_key(0x3B));  // F1
  EXPECT_FALSE(r.kbc.press_key(0x55));
  EXPECT_EQ(r.drain(), (Bytes{0x3B, 0xBB}));
}

TEST(I8042, TranslationOff_KeyboardSendsSet2) {
  Rig r;
  r.command(0x60);
  r.send(0x05);  // IRQ1, SYS, no translation
  r.kbc.type_text("a");
  EXPECT_EQ(r.drain(), (Bytes{0x1C, 0xF0, 0x1C}));
  r.send(0xF2);
  EXPECT_EQ(r.drain(), (Bytes{0xFA, 0xAB, 0x83}));
}

TEST(I8042, KeyboardInterfaceDisabled_HoldsScanCodesButNotReplies) {
  Rig r;
  r.command(0xAD);
  r.kbc.type_text("a");
  EXPECT_EQ(r.status() & 0x01, 0);
  r.command(0x20);  // controller replies still come through
  EXPECT_EQ(r.drain(), (Bytes{0x45 | 0x10}));  // the command byte, bit 4 set
  r.command(0xAE);
  EXPECT_EQ(r.drain(), (Bytes{0x1E, 0x9E}));
}

TEST(I8042, Irq1_OnlyWhenCommandByteEnablesIt) {
  Rig r;
  r.command(0x60);
  r.send(0x44);
  r.kbc.type_text("z");
  EXPECT_EQ(r.status() & 0x01, 0x01);
  EXPECT_FALSE(r.irqs.level[1]);
  r.command(0x60);
  r.send(0x45);
  EXPECT_TRUE(r.irqs.level[1]);
}

TEST(I8042, ControllerReplies_GoAheadOfPendingScanCodes) {
  Rig r;
  r.kbc.type_text("a");  // 0x1E in the buffer, 0x9E waiting
  r.command(0x20);
  EXPECT_EQ(r.drain(), (Bytes{0x1E, 0x45, 0x9E}));
}

TEST(I8042, PeekHasNoSideEffect) {
  Rig r;
  r.command(0xAA);
  EXPECT_EQ(r.kbc.peek(0x60, 1), 0x55u);
  EXPECT_EQ(r.kbc.peek(0x64, 1) & 0x01, 0x01u);
  EXPECT_EQ(r.status() & 0x01, 0x01);
  EXPECT_EQ(r.kbc.peek(0x61, 1), 0xFFu);  // not ours
}

TEST(I8042, Snapshot_RoundTripRestoresQueuesAndGate) {
  Rig a;
  a.command(0xD1);
  a.send(0x03);
  a.send(0xED);  // keyboard awaits its LED byte
  a.kbc.type_text("hi");
  StateWriter w;
  a.kbc.save(w);

  Rig b;
  StateReader rd(w.data());
  b.kbc.load(rd);
  ASSERT_TRUE(rd.ok()) << rd.error();
  EXPECT_EQ(rd.remaining(), 0u);
  EXPECT_TRUE(b.gate.enabled());
  EXPECT_EQ(b.a20_changes, (std::vector<bool>{true}));  // the board was told
  EXPECT_TRUE(b.irqs.level[1]);
  EXPECT_EQ(b.drain(), (Bytes{0xFA, 0x23, 0xA3, 0x17, 0x97}));
  b.send(0x02);  // the pending LED byte
  EXPECT_EQ(b.kbc.leds(), 0x02);
}

TEST(I8042, Snapshot_MalformedDataIsRejected) {
  Rig a;
  StateWriter good;
  a.kbc.save(good);
  // Layout: RAM (32), out, obf, A2, expect, RAM index, controller queue...
  std::vector<uint8_t> bad = good.data();
  bad[35] = 0x40;  // unknown expect state
  Rig b;
  StateReader r1(bad);
  b.kbc.load(r1);
  EXPECT_FALSE(r1.ok());

  bad = good.data();
  bad[37] = 0xFF;  // controller queue length 255
  StateReader r2(bad);
  b.kbc.load(r2);
  EXPECT_FALSE(r2.ok());

  std::vector<uint8_t> cut(good.data().begin(), good.data().begin() + 20);
  StateReader r3(cut);
  b.kbc.load(r3);
  EXPECT_FALSE(r3.ok());

  StateWriter p;
  p.u8(0x02);  // A20 bit stored outside the gate
  p.boolean(false);
  StateReader r4(p.data());
  b.port92.load(r4);
  EXPECT_FALSE(r4.ok());
}

}  // namespace
}  // namespace vs::devices
