// VGA in 80x25 colour text mode (mode 3): the memory window 0xA0000-0xBFFFF
// and the register ports the text console needs (IBM VGA Technical Reference;
// FreeVGA "CRT Controller Registers", "Attribute Controller Registers",
// "General Registers"; OSDev wiki "Text Mode Cursor").
//
// Model:
//  - The whole 128 KiB window is plain memory: every byte written reads back.
//    Only 0xB8000-0xBFFFF (16384 character/attribute cells) is displayed;
//    planar graphics, the read/write modes and odd/even addressing are not
//    modelled, so stores elsewhere in the window are kept but never drawn.
//  - The screen is 80x25 cells starting at the CRTC start address
//    (CR0C:CR0D, in cells), wrapping within the 16384 cells; the cursor is
//    CR0E:CR0F (absolute cell), shaped by CR0A/CR0B.
//  - CRTC at 0x3D4/0x3D5 and input status 1 at 0x3DA when misc output bit 0
//    is 1 (colour, the default), at 0x3B4/0x3B5 and 0x3BA when it is 0.
//  - Input status 1 (0x3DA) follows virtual time: 70 Hz frames of 449
//    scan lines, lines 400-448 blanked, vertical retrace (bit 3) on lines
//    412-413, horizontal blanking (bit 0) the last fifth of every line.
//    Reading it resets the attribute controller's index/data flip-flop.
//  - Attribute controller (0x3C0/0x3C1), sequencer (0x3C4/5), graphics
//    controller (0x3CE/F) and misc output (0x3C2 write, 0x3CC read) are
//    register files; of their contents only attribute mode control bit 3
//    (blink vs bright background) affects the rendering.
//  - Colours: attribute nibbles map straight to the 16 CGA colours (the
//    palette and DAC are not consulted; DAC ports 0x3C6-0x3C9 are not
//    modelled and read 0xFF).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "virtscope/devices/device.h"
#include "virtscope/devices/scheduler.h"

namespace vs::devices {

struct VgaCursor {
  unsigned row = 0, col = 0;     // relative to the displayed screen
  bool visible = false;          // enabled, well-shaped and on screen
  uint8_t start = 0, end = 0;    // scan lines (CR0A/CR0B bits 4:0)
};

class VgaText final : public Device {
 public:
  static constexpr uint32_t kWindowBase = 0xA0000;
  static constexpr uint32_t kWindowSize = 0x20000;
  static constexpr uint32_t kTextBase = 0xB8000;
  static constexpr unsigned kTextCells = 0x4000;  // 32 KiB of char/attr pairs
  static constexpr unsigned kColumns = 80, kRows = 25;
  // Port ranges for the board to map to this device.
  struct PortRange {
    uint16_t first, last;
  };
  static constexpr std::array<PortRange, 5> kPortRanges{
      {{0x3B4, 0x3B5}, {0x3BA, 0x3BA}, {0x3C0, 0x3CF}, {0x3D4, 0x3D5}, {0x3DA, 0x3DA}}};

  // The scheduler provides virtual time for the retrace bits.
  explicit VgaText(const Scheduler& scheduler);

  // Addresses >= kWindowBase are memory, the rest are ports.
  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // The screen as text: kRows strings of kColumns characters, CP437 mapped to
  // UTF-8 (printable ASCII stays ASCII; NUL shows as a space).
  std::vector<std::string> text_rows() const;
  VgaCursor cursor() const;
  // The screen for an ANSI terminal: home, every cell with its colours (SGR),
  // erase to the end of each line and below the screen, then the cursor
  // placed and shown (or hidden).
  std::string render_ansi() const;

  // One cell: character in bits 7:0, attribute in bits 15:8.
  uint16_t cell(unsigned row, unsigned col) const;
  uint16_t start_address() const { return uint16_t(crtc_[0x0C] << 8 | crtc_[0x0D]); }
  uint8_t crtc(unsigned index) const { return index < kCrtcCount ? crtc_[index] : 0xFF; }
  uint8_t misc_output() const { return misc_; }
  // Bumped whenever something on screen may have changed (text memory,
  // CRTC, attribute registers): a display redraws when it moves.
  uint64_t version() const { return version_; }

  static std::string_view cp437_to_utf8(uint8_t c);

 private:
  static constexpr unsigned kCrtcCount = 0x19, kAttrCount = 0x15, kSeqCount = 5, kGcCount = 9;

  uint8_t read_port(uint16_t port);
  uint8_t peek_port(uint16_t port) const;
  void write_port(uint16_t port, uint8_t value);
  void write_crtc(uint8_t value);
  void write_attribute(uint8_t value);
  bool colour_ports() const { return misc_ & 0x01; }
  bool is_crtc_port(uint16_t port, unsigned offset) const;  // offset 4/5 = index/data, 0xA = status
  uint8_t input_status_1() const;
  uint8_t text_byte(uint32_t cell_index, unsigned which) const;

  const Scheduler& scheduler_;

  std::vector<uint8_t> memory_;           // the 128 KiB window
  uint8_t misc_ = 0x67;                   // misc output: 0 colour I/O at 3Dx, 1 RAM enable, 3:2 clock
  uint8_t crtc_index_ = 0;                // 0x3D4
  std::array<uint8_t, kCrtcCount> crtc_{};  // CR00-CR18
  uint8_t attr_index_ = 0;                // 0x3C0 index: bits 4:0 register, bit 5 palette address source
  bool attr_data_next_ = false;           // flip-flop: the next 0x3C0 write is data
  std::array<uint8_t, kAttrCount> attr_{};  // AR00-AR14 (AR10 bit 3: blink enable)
  uint8_t seq_index_ = 0;                 // 0x3C4
  std::array<uint8_t, kSeqCount> seq_{};  // SR00-SR04
  uint8_t gc_index_ = 0;                  // 0x3CE
  std::array<uint8_t, kGcCount> gc_{};    // GR00-GR08
  uint64_t version_ = 0;                  // not guest state
};

}  // namespace vs::devices
