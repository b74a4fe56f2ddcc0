// VGA text mode. Register layouts: IBM VGA Technical Reference and FreeVGA
// ("CRT Controller Registers", "Attribute Controller Registers", "General
// Registers"); mode 3 power-on values are the standard BIOS mode table
// values for 80x25 colour text.
#include "virtscope/devices/vga.h"

#include <algorithm>
#include <string>

namespace vs::devices {

namespace {

constexpr std::array<uint8_t, 0x19> kMode3Crtc{0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00,
                                              0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E,
                                              0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
constexpr std::array<uint8_t, 0x15> kMode3Attr{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
                                              0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};
constexpr std::array<uint8_t, 5> kMode3Seq{0x03, 0x00, 0x03, 0x00, 0x02};
constexpr std::array<uint8_t, 9> kMode3Gc{0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF};
constexpr uint8_t kMode3Misc = 0x67;

constexpr uint8_t kCrCursorStart = 0x0A, kCrCursorEnd = 0x0B, kCrCursorHigh = 0x0E, kCrCursorLow = 0x0F;
constexpr uint8_t kCrVerticalRetraceEnd = 0x11;  // bit 7 write-protects CR00-CR07
constexpr uint8_t kArModeControl = 0x10;         // bit 3: blink enable

// Input status 1 timing (70 Hz, 449 lines: the mode 3 vertical total).
constexpr uint64_t kFrameTicks = Scheduler::kInstructionsPerSecond / 70;
constexpr uint64_t kLines = 449;
constexpr uint64_t kLineTicks = kFrameTicks / kLines;
constexpr uint64_t kVisibleLines = 400, kRetraceFirst = 412, kRetraceLast = 413;

// CP437 glyphs as UTF-8 (the IBM PC character set; Unicode's mapping).
constexpr const char* kCp437Low[32] = {" ", "☺", "☻", "♥", "♦", "♣", "♠", "•", "◘", "○", "◙", "♂", "♀", "♪", "♫", "☼",
                                       "►", "◄", "↕", "‼", "¶", "§", "▬", "↨", "↑", "↓", "→", "←", "∟", "↔", "▲", "▼"};
constexpr const char* kCp437High[129] = {
    "⌂", "Ç", "ü", "é", "â", "ä", "à", "å", "ç", "ê", "ë", "è", "ï", "î", "ì", "Ä", "Å",  // 7F-8F
    "É", "æ", "Æ", "ô", "ö", "ò", "û", "ù", "ÿ", "Ö", "Ü", "¢", "£", "¥", "₧", "ƒ",       // 90
    "á", "í", "ó", "ú", "ñ", "Ñ", "ª", "º", "¿", "⌐", "¬", "½", "¼", "¡", "«", "»",       // A0
    "░", "▒", "▓", "│", "┤", "╡", "╢", "╖", "╕", "╣", "║", "╗", "╝", "╜", "╛", "┐",       // B0
    "└", "┴", "┬", "├", "─", "┼", "╞", "╟", "╚", "╔", "╩", "╦", "╠", "═", "╬", "╧",       // C0
    "╨", "╤", "╥", "╙", "╘", "╒", "╓", "╫", "╪", "┘", "┌", "█", "▄", "▌", "▐", "▀",       // D0
    "α", "ß", "Γ", "π", "Σ", "σ", "µ", "τ", "Φ", "Θ", "Ω", "δ", "∞", "φ", "ε", "∩",       // E0
    "≡", "±", "≥", "≤", "⌠", "⌡", "÷", "≈", "°", "∙", "·", "√", "ⁿ", "²", "■", " ",       // F0 (FF: NBSP)
};

// CGA colour order (blue=1, green=2, red=4) to ANSI order (red=1, green=2,
// blue=4).
constexpr unsigned kCgaToAnsi[8] = {0, 4, 2, 6, 1, 5, 3, 7};

}  // namespace

std::string_view VgaText::cp437_to_utf8(uint8_t c) {
  static const std::array<char, 256> kAscii = [] {
    std::array<char, 256> a{};
    for (unsigned i = 0; i < 256; ++i) a[i] = char(i);
    return a;
  }();
  if (c < 0x20) return kCp437Low[c];
  if (c >= 0x7F) return kCp437High[c - 0x7F];
  return std::string_view(&kAscii[c], 1);
}

VgaText::VgaText(const Scheduler& scheduler)
    : Device("vga"), scheduler_(scheduler), memory_(kWindowSize, 0) {
  reset();
}

// ------------------------------------------------------------ bus access ----

uint32_t VgaText::read(uint32_t addr, unsigned size) {
  if (addr >= kWindowBase) return peek(addr, size);  // memory reads have no side effect
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t(read_port(uint16_t(addr + i))) << (8 * i);
  return v;
}

uint32_t VgaText::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint8_t b = 0xFF;
    if (addr >= kWindowBase) {
      const uint32_t offset = addr + i - kWindowBase;
      if (offset < kWindowSize) b = memory_[offset];
    } else {
      b = peek_port(uint16_t(addr + i));
    }
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

void VgaText::write(uint32_t addr, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    const uint8_t b = uint8_t(value >> (8 * i));
    if (addr >= kWindowBase) {
      const uint32_t offset = addr + i - kWindowBase;
      if (offset >= kWindowSize) continue;
      memory_[offset] = b;
      if (offset >= kTextBase - kWindowBase) ++version_;
    } else {
      write_port(uint16_t(addr + i), b);
    }
  }
}

// The CRTC and input status 1 answer at 3Dx with colour I/O (misc bit 0 set)
// and at 3Bx without; the other address reads as nothing.
bool VgaText::is_crtc_port(uint16_t port, unsigned offset) const {
  return port == (colour_ports() ? 0x3D0 : 0x3B0) + offset;
}

uint8_t VgaText::peek_port(uint16_t port) const {
  if (is_crtc_port(port, 4)) return crtc_index_;
  if (is_crtc_port(port, 5)) return crtc_index_ < kCrtcCount ? crtc_[crtc_index_] : 0xFF;
  if (is_crtc_port(port, 0xA)) return input_status_1();
  switch (port) {
    case 0x3C0: return attr_index_;
    case 0x3C1: return (attr_index_ & 0x1F) < kAttrCount ? attr_[attr_index_ & 0x1F] : 0xFF;
    case 0x3C2: return 0x00;  // input status 0: no retrace interrupt, switch sense 0
    case 0x3C4: return seq_index_;
    case 0x3C5: return seq_index_ < kSeqCount ? seq_[seq_index_] : 0xFF;
    case 0x3CC: return misc_;
    case 0x3CE: return gc_index_;
    case 0x3CF: return gc_index_ < kGcCount ? gc_[gc_index_] : 0xFF;
    default: return 0xFF;  // DAC, feature control, the inactive CRTC address
  }
}

uint8_t VgaText::read_port(uint16_t port) {
  const uint8_t v = peek_port(port);
  // Reading input status 1 resets the attribute flip-flop to "index next".
  if (is_crtc_port(port, 0xA)) attr_data_next_ = false;
  return v;
}

void VgaText::write_port(uint16_t port, uint8_t value) {
  if (is_crtc_port(port, 4)) {
    crtc_index_ = value & 0x3F;
    return;
  }
  if (is_crtc_port(port, 5)) {
    write_crtc(value);
    return;
  }
  switch (port) {
    case 0x3C0: write_attribute(value); break;
    case 0x3C2: misc_ = value; ++version_; break;
    case 0x3C4: seq_index_ = value & 0x07; break;
    case 0x3C5: if (seq_index_ < kSeqCount) seq_[seq_index_] = value; break;
    case 0x3CE: gc_index_ = value & 0x0F; break;
    case 0x3CF: if (gc_index_ < kGcCount) gc_[gc_index_] = value; break;
    default: break;  // feature control, DAC: not modelled
  }
}

void VgaText::write_crtc(uint8_t value) {
  if (crtc_index_ >= kCrtcCount) return;
  // CR11 bit 7 protects CR00-CR07, except CR07 bit 4 (line compare bit 8).
  if ((crtc_[kCrVerticalRetraceEnd] & 0x80) && crtc_index_ <= 7) {
    if (crtc_index_ == 7) crtc_[7] = uint8_t((crtc_[7] & ~0x10) | (value & 0x10));
    return;
  }
  crtc_[crtc_index_] = value;
  ++version_;
}

// 0x3C0 alternates between index and data writes; the flip-flop is reset by
// reading input status 1.
void VgaText::write_attribute(uint8_t value) {
  if (!attr_data_next_) {
    attr_index_ = value & 0x3F;
  } else if ((attr_index_ & 0x1F) < kAttrCount) {
    attr_[attr_index_ & 0x1F] = value;
    ++version_;
  }
  attr_data_next_ = !attr_data_next_;
}

uint8_t VgaText::input_status_1() const {
  const uint64_t in_frame = scheduler_.now() % kFrameTicks;
  const uint64_t line = in_frame / kLineTicks;
  const uint64_t in_line = in_frame % kLineTicks;
  const bool vretrace = line >= kRetraceFirst && line <= kRetraceLast;
  const bool blank = line >= kVisibleLines || in_line >= kLineTicks * 4 / 5;
  return uint8_t((blank ? 0x01 : 0) | (vretrace ? 0x08 : 0));
}

// ------------------------------------------------------------- rendering ----

uint8_t VgaText::text_byte(uint32_t cell_index, unsigned which) const {
  return memory_[(kTextBase - kWindowBase) + (cell_index % kTextCells) * 2 + which];
}

uint16_t VgaText::cell(unsigned row, unsigned col) const {
  const uint32_t index = start_address() + row * kColumns + col;
  return uint16_t(text_byte(index, 0) | text_byte(index, 1) << 8);
}

std::vector<std::string> VgaText::text_rows() const {
  std::vector<std::string> rows(kRows);
  for (unsigned r = 0; r < kRows; ++r)
    for (unsigned c = 0; c < kColumns; ++c) rows[r] += cp437_to_utf8(uint8_t(cell(r, c)));
  return rows;
}

VgaCursor VgaText::cursor() const {
  VgaCursor cur;
  cur.start = crtc_[kCrCursorStart] & 0x1F;
  cur.end = crtc_[kCrCursorEnd] & 0x1F;
  const uint16_t location = uint16_t(crtc_[kCrCursorHigh] << 8 | crtc_[kCrCursorLow]);
  const uint32_t offset = (uint32_t(location) - start_address()) % kTextCells;  // cells wrap
  cur.row = offset / kColumns;
  cur.col = offset % kColumns;
  // CR0A bit 5 disables the cursor; a start line below the end line shows
  // none (FreeVGA, "Cursor Start Register").
  cur.visible = offset < kRows * kColumns && !(crtc_[kCrCursorStart] & 0x20) && cur.start <= cur.end;
  if (offset >= kRows * kColumns) cur.row = cur.col = 0;
  return cur;
}

std::string VgaText::render_ansi() const {
  const bool blink_enabled = attr_[kArModeControl] & 0x08;
  std::string out = "\x1b[?25l\x1b[H";  // hide the cursor while drawing, home
  for (unsigned r = 0; r < kRows; ++r) {
    int last_attr = -1;
    for (unsigned c = 0; c < kColumns; ++c) {
      const uint16_t v = cell(r, c);
      const uint8_t attr = uint8_t(v >> 8);
      if (attr != last_attr) {
        // Attribute: bits 3:0 foreground (bit 3 bright), bits 6:4
        // background, bit 7 blink or bright background (AR10 bit 3).
        const unsigned fg = attr & 0x0F;
        const unsigned bg = blink_enabled ? (attr >> 4) & 0x07 : attr >> 4;
        out += "\x1b[0;";
        out += std::to_string((fg & 8 ? 90 : 30) + kCgaToAnsi[fg & 7]);
        out += ';';
        out += std::to_string((bg & 8 ? 100 : 40) + kCgaToAnsi[bg & 7]);
        if (blink_enabled && (attr & 0x80)) out += ";5";
        out += 'm';
        last_attr = attr;
      }
      out += cp437_to_utf8(uint8_t(v));
    }
    out += "\x1b[0m\x1b[K";  // default colours to the end of the line
    if (r + 1 < kRows) out += "\r\n";
  }
  out += "\x1b[J";  // and below the screen
  const VgaCursor cur = cursor();
  if (cur.visible) {
    out += "\x1b[" + std::to_string(cur.row + 1) + ";" + std::to_string(cur.col + 1) + "H";
    out += "\x1b[?25h";
  }
  return out;
}

// ------------------------------------------------------ reset, snapshots ----

void VgaText::reset() {
  std::fill(memory_.begin(), memory_.end(), 0);
  // A BIOS clears the text screen to light grey on black spaces.
  for (unsigned i = 0; i < kTextCells; ++i) {
    memory_[(kTextBase - kWindowBase) + 2 * i] = ' ';
    memory_[(kTextBase - kWindowBase) + 2 * i + 1] = 0x07;
  }
  misc_ = kMode3Misc;
  crtc_index_ = 0;
  crtc_ = kMode3Crtc;
  attr_index_ = 0x20;  // palette address source set: the screen is on
  attr_data_next_ = false;
  attr_ = kMode3Attr;
  seq_index_ = 0;
  seq_ = kMode3Seq;
  gc_index_ = 0;
  gc_ = kMode3Gc;
  ++version_;
}

void VgaText::save(StateWriter& out) const {
  out.u8(misc_);
  out.u8(crtc_index_);
  out.bytes(crtc_);
  out.u8(attr_index_);
  out.boolean(attr_data_next_);
  out.bytes(attr_);
  out.u8(seq_index_);
  out.bytes(seq_);
  out.u8(gc_index_);
  out.bytes(gc_);
  out.bytes(memory_);
}

void VgaText::load(StateReader& in) {
  const uint8_t misc = in.u8(), crtc_index = in.u8();
  std::array<uint8_t, kCrtcCount> crtc{};
  in.bytes(crtc);
  const uint8_t attr_index = in.u8();
  const bool attr_data_next = in.boolean();
  std::array<uint8_t, kAttrCount> attr{};
  in.bytes(attr);
  const uint8_t seq_index = in.u8();
  std::array<uint8_t, kSeqCount> seq{};
  in.bytes(seq);
  const uint8_t gc_index = in.u8();
  std::array<uint8_t, kGcCount> gc{};
  in.bytes(gc);
  in.expect(crtc_index <= 0x3F, "vga: CRTC index out of range");
  in.expect(attr_index <= 0x3F, "vga: attribute index out of range");
  in.expect(seq_index <= 0x07, "vga: sequencer index out of range");
  in.expect(gc_index <= 0x0F, "vga: graphics controller index out of range");
  if (!in.ok()) return;
  std::vector<uint8_t> memory(kWindowSize);
  in.bytes(memory);
  if (!in.ok()) return;

  misc_ = misc;
  crtc_index_ = crtc_index;
  crtc_ = crtc;
  attr_index_ = attr_index;
  attr_data_next_ = attr_data_next;
  attr_ = attr;
  seq_index_ = seq_index;
  seq_ = seq;
  gc_index_ = gc_index;
  gc_ = gc;
  memory_ = std::move(memory);
  ++version_;
}

}  // namespace vs::devices
