// VGA text mode through its memory window and registers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "virtscope/devices/vga.h"

namespace vs::devices {
namespace {

struct Rig {
  uint64_t now = 0;
  Scheduler scheduler{[this] { return now; }};
  VgaText vga{scheduler};

  void put(unsigned row, unsigned col, std::string_view text, uint8_t attr = 0x07) {
    uint32_t a = VgaText::kTextBase + (row * 80 + col) * 2;
    for (char c : text) {
      vga.write(a, 2, uint32_t(uint8_t(c)) | uint32_t(attr) << 8);
      a += 2;
    }
  }
  void crtc(uint8_t index, uint8_t value) {
    vga.write(0x3D4, 1, index);
    vga.write(0x3D5, 1, value);
  }
};

TEST(VgaText, TextMemoryWrites_AppearInRows) {
  Rig r;
  r.put(0, 0, "Hello");
  r.put(24, 75, "end");
  const auto rows = r.vga.text_rows();
  ASSERT_EQ(rows.size(), 25u);
  EXPECT_EQ(rows[0].substr(0, 6), "Hello ");
  EXPECT_EQ(rows[24].substr(72), "   end  ");
  EXPECT_EQ(rows[1], std::string(80, ' '));  // cleared to spaces at reset
  EXPECT_EQ(r.vga.read(VgaText::kTextBase, 4), uint32_t('H' | 0x07 << 8 | 'e' << 16 | 0x07 << 24));
  // A 32-bit store reaches two cells.
  r.vga.write(VgaText::kTextBase + 160, 4, 'A' | 0x1F << 8 | 'B' << 16 | 0x1F << 24);
  EXPECT_EQ(r.vga.text_rows()[1].substr(0, 2), "AB");
  EXPECT_EQ(r.vga.cell(1, 1), 0x1F00 | 'B');
}

TEST(VgaText, Cp437_MapsToUtf8) {
  Rig r;
  r.vga.write(VgaText::kTextBase, 1, 0xDB);      // full block
  r.vga.write(VgaText::kTextBase + 2, 1, 0x00);  // NUL
  r.vga.write(VgaText::kTextBase + 4, 1, 0xC9);  // double box corner
  EXPECT_EQ(r.vga.text_rows()[0].substr(0, 3 + 1 + 3), "█ ╔");
  EXPECT_EQ(VgaText::cp437_to_utf8('~'), "~");
  EXPECT_EQ(VgaText::cp437_to_utf8(0x01), "☺");
  EXPECT_EQ(VgaText::cp437_to_utf8(0xFE), "■");
}

TEST(VgaText, CursorLocation_FromCrtcRegisters) {
  Rig r;
  r.crtc(0x0E, 0x00);
  r.crtc(0x0F, 81);
  VgaCursor c = r.vga.cursor();
  EXPECT_TRUE(c.visible);
  EXPECT_EQ(c.row, 1u);
  EXPECT_EQ(c.col, 1u);
  EXPECT_EQ(c.start, 0x0D);
  EXPECT_EQ(c.end, 0x0E);
  // The common `outw` idiom: index in the low byte, value in the high byte.
  r.vga.write(0x3D4, 2, 0x070F);
  r.vga.write(0x3D4, 2, 0x000E);
  EXPECT_EQ(r.vga.cursor().row, 0u);
  EXPECT_EQ(r.vga.cursor().col, 7u);
  EXPECT_EQ(r.vga.read(0x3D5, 1), 0x00u);  // index 0x0E still selected
  r.crtc(0x0A, 0x20);  // cursor disable
  EXPECT_FALSE(r.vga.cursor().visible);
  r.crtc(0x0A, 0x0F);  // start below end: no cursor either
  EXPECT_FALSE(r.vga.cursor().visible);
}

TEST(VgaText, StartAddress_ScrollsTheScreen) {
  Rig r;
  r.put(0, 0, "first");
  r.put(1, 0, "second");
  r.crtc(0x0C, 0x00);
  r.crtc(0x0D, 80);  // start one row down
  EXPECT_EQ(r.vga.start_address(), 80);
  EXPECT_EQ(r.vga.text_rows()[0].substr(0, 6), "second");
  r.crtc(0x0E, 0x00);
  r.crtc(0x0F, 85);
  EXPECT_EQ(r.vga.cursor().row, 0u);  // relative to the start address
  EXPECT_EQ(r.vga.cursor().col, 5u);
  r.crtc(0x0F, 10);  // above the visible screen
  EXPECT_FALSE(r.vga.cursor().visible);
  // Near the end of text memory the screen wraps to its beginning.
  r.crtc(0x0C, 0x3F);
  r.crtc(0x0D, 0xFF - 79);  // start = 0x3FFF - 79: row 1 is cell 0
  EXPECT_EQ(r.vga.text_rows()[1].substr(0, 5), "first");
}

TEST(VgaText, RenderAnsi_DrawsTextColoursAndCursor) {
  Rig r;
  r.put(0, 0, "Hello", 0x1F);  // bright white on blue
  r.put(0, 5, "!", 0x8C);      // blinking light red on black
  r.crtc(0x0E, 0x00);
  r.crtc(0x0F, 6);
  const std::string s = r.vga.render_ansi();
  EXPECT_EQ(s.rfind("\x1b[?25l\x1b[H", 0), 0u);
  EXPECT_NE(s.find("\x1b[0;97;44mHello"), std::string::npos);
  EXPECT_NE(s.find("\x1b[0;91;40;5m!"), std::string::npos);
  EXPECT_NE(s.find("\x1b[1;7H\x1b[?25h"), std::string::npos);
  // With blinking off (attribute mode control bit 3), bit 7 brightens the
  // background instead.
  r.vga.read(0x3DA, 1);
  r.vga.write(0x3C0, 1, 0x30);
  r.vga.write(0x3C0, 1, 0x04);
  EXPECT_NE(r.vga.render_ansi().find("\x1b[0;91;100m!"), std::string::npos);
}

TEST(VgaText, AttributeFlipFlop_ResetByInputStatusRead) {
  Rig r;
  r.vga.read(0x3DA, 1);
  r.vga.write(0x3C0, 1, 0x31);  // index 0x11 (overscan), palette source on
  r.vga.write(0x3C0, 1, 0x05);  // data
  r.vga.write(0x3C0, 1, 0x32);  // index again: the flip-flop toggled back
  EXPECT_EQ(r.vga.read(0x3C0, 1), 0x32u);
  r.vga.read(0x3DA, 1);         // reset: next write is an index
  r.vga.write(0x3C0, 1, 0x31);
  EXPECT_EQ(r.vga.read(0x3C1, 1), 0x05u);
  // peek of 0x3DA leaves the flip-flop alone: this write is data.
  r.vga.peek(0x3DA, 1);
  r.vga.write(0x3C0, 1, 0x09);
  EXPECT_EQ(r.vga.read(0x3C1, 1), 0x09u);
}

TEST(VgaText, InputStatus_RetraceFollowsVirtualTime) {
  Rig r;
  const uint64_t frame = Scheduler::kInstructionsPerSecond / 70, line = frame / 449;
  r.now = 0;
  EXPECT_EQ(r.vga.read(0x3DA, 1) & 0x09, 0x00u);  // drawing line 0
  r.now = line - 1;
  EXPECT_EQ(r.vga.read(0x3DA, 1) & 0x09, 0x01u);  // horizontal blank
  r.now = 412 * line;
  EXPECT_EQ(r.vga.read(0x3DA, 1) & 0x09, 0x09u);  // vertical retrace
  r.now = frame + 412 * line;
  EXPECT_EQ(r.vga.read(0x3DA, 1) & 0x08, 0x08u);  // every frame
  r.now = 420 * line;
  EXPECT_EQ(r.vga.read(0x3DA, 1) & 0x09, 0x01u);  // blanked, retrace over
}

TEST(VgaText, MiscOutputBit0_SelectsCrtcAt3DxOr3Bx) {
  Rig r;
  r.crtc(0x0F, 42);
  EXPECT_EQ(r.vga.read(0x3CC, 1), 0x67u);
  EXPECT_EQ(r.vga.read(0x3B5, 1), 0xFFu);  // monochrome address unused
  r.vga.write(0x3C2, 1, 0x66);
  EXPECT_EQ(r.vga.read(0x3D5, 1), 0xFFu);
  r.vga.write(0x3B4, 1, 0x0F);
  EXPECT_EQ(r.vga.read(0x3B5, 1), 42u);
}

TEST(VgaText, CrtcWriteProtect_KeepsTimingRegisters) {
  Rig r;
  r.crtc(0x11, 0x8E);  // protect on (the mode 3 value)
  r.crtc(0x01, 0x00);
  EXPECT_EQ(r.vga.crtc(0x01), 0x4F);
  r.crtc(0x11, 0x0E);
  r.crtc(0x01, 0x27);
  EXPECT_EQ(r.vga.crtc(0x01), 0x27);
}

TEST(VgaText, WindowOutsideText_IsPlainMemoryAndVersionTracksText) {
  Rig r;
  const uint64_t v0 = r.vga.version();
  r.vga.write(0xA0000, 4, 0xDEADBEEF);
  EXPECT_EQ(r.vga.read(0xA0000, 4), 0xDEADBEEFu);
  EXPECT_EQ(r.vga.version(), v0);  // not on screen
  r.put(3, 3, "x");
  EXPECT_GT(r.vga.version(), v0);
  EXPECT_EQ(r.vga.peek(0xBFFFF, 2), 0xFF07u);  // past the window floats
}

TEST(VgaText, Snapshot_RoundTripAndMalformedRejected) {
  Rig a;
  a.put(2, 4, "saved", 0x2E);
  a.crtc(0x0E, 0x01);
  a.crtc(0x0F, 0x00);
  a.vga.write(0x3C4, 1, 0x02);
  a.vga.write(0xA1234, 1, 0x99);
  StateWriter w;
  a.vga.save(w);

  Rig b;
  StateReader rd(w.data());
  b.vga.load(rd);
  ASSERT_TRUE(rd.ok()) << rd.error();
  EXPECT_EQ(rd.remaining(), 0u);
  EXPECT_EQ(b.vga.text_rows(), a.vga.text_rows());
  EXPECT_EQ(b.vga.render_ansi(), a.vga.render_ansi());
  EXPECT_EQ(b.vga.read(0x3C4, 1), 0x02u);
  EXPECT_EQ(b.vga.read(0xA1234, 1), 0x99u);

  // Layout: misc, CRTC index, CRTC (25), attribute index...
  std::vector<uint8_t> bad = w.data();
  bad[1] = 0x40;  // CRTC index beyond the 6-bit register
  Rig c;
  StateReader r1(bad);
  c.vga.load(r1);
  EXPECT_FALSE(r1.ok());
  EXPECT_EQ(c.vga.text_rows()[2], std::string(80, ' '));  // unchanged

  std::vector<uint8_t> cut(w.data().begin(), w.data().end() - 1);
  StateReader r2(cut);
  c.vga.load(r2);
  EXPECT_FALSE(r2.ok());
  EXPECT_EQ(c.vga.text_rows()[2], std::string(80, ' '));
}

}  // namespace
}  // namespace vs::devices
