// 8042 keyboard controller, PS/2 keyboard and port 0x92. Command numbers and
// bit meanings: IBM PC AT Technical Reference ("Keyboard Controller",
// "Keyboard"), OSDev wiki "8042 PS/2 Controller", "PS/2 Keyboard"; port 0x92:
// IBM PS/2 Hardware Interface Technical Reference ("System Control Port A").
#include "virtscope/devices/i8042.h"

namespace vs::devices {

namespace {

// Status register (port 0x64 read).
constexpr uint8_t kStatusObf = 0x01;       // output buffer full
constexpr uint8_t kStatusSys = 0x04;       // system flag (command byte bit 2)
constexpr uint8_t kStatusCommand = 0x08;   // A2: last write was to 0x64
constexpr uint8_t kStatusUnlocked = 0x10;  // keyboard inhibit switch off

// Command byte (controller RAM[0]).
constexpr uint8_t kCmdIrq1 = 0x01;
constexpr uint8_t kCmdKbdDisabled = 0x10;
constexpr uint8_t kCmdAuxDisabled = 0x20;
constexpr uint8_t kDefaultCommandByte = 0x45;  // IRQ1, SYS, translate: as a BIOS leaves it

// Keyboard replies.
constexpr uint8_t kAck = 0xFA, kResend = 0xFE, kSelfTestPassed = 0xAA, kEcho = 0xEE;
constexpr uint8_t kDefaultTypematic = 0x0B;  // 10.9 characters/s, 500 ms delay

// The keys we can type, indexed by set-1 make code (IBM PC AT TR keyboard
// layout, US). `normal`/`shifted` are the ASCII characters on the key cap;
// `set2` is the make code the keyboard sends on the wire (scan code set 2).
struct Key {
  char normal, shifted;
  uint8_t set2;
};
constexpr Key kKeys[] = {
    /*00*/ {0, 0, 0x00},       {0x1B, 0, 0x76},     {'1', '!', 0x16},   {'2', '@', 0x1E},
    /*04*/ {'3', '#', 0x26},   {'4', '$', 0x25},    {'5', '%', 0x2E},   {'6', '^', 0x36},
    /*08*/ {'7', '&', 0x3D},   {'8', '*', 0x3E},    {'9', '(', 0x46},   {'0', ')', 0x45},
    /*0C*/ {'-', '_', 0x4E},   {'=', '+', 0x55},    {'\b', 0, 0x66},    {'\t', 0, 0x0D},
    /*10*/ {'q', 'Q', 0x15},   {'w', 'W', 0x1D},    {'e', 'E', 0x24},   {'r', 'R', 0x2D},
    /*14*/ {'t', 'T', 0x2C},   {'y', 'Y', 0x35},    {'u', 'U', 0x3C},   {'i', 'I', 0x43},
    /*18*/ {'o', 'O', 0x44},   {'p', 'P', 0x4D},    {'[', '{', 0x54},   {']', '}', 0x5B},
    /*1C*/ {'\n', 0, 0x5A},    {0, 0, 0x14},        {'a', 'A', 0x1C},   {'s', 'S', 0x1B},  // 1D LCtrl
    /*20*/ {'d', 'D', 0x23},   {'f', 'F', 0x2B},    {'g', 'G', 0x34},   {'h', 'H', 0x33},
    /*24*/ {'j', 'J', 0x3B},   {'k', 'K', 0x42},    {'l', 'L', 0x4B},   {';', ':', 0x4C},
    /*28*/ {'\'', '"', 0x52},  {'`', '~', 0x0E},    {0, 0, 0x12},       {'\\', '|', 0x5D},  // 2A LShift
    /*2C*/ {'z', 'Z', 0x1A},   {'x', 'X', 0x22},    {'c', 'C', 0x21},   {'v', 'V', 0x2A},
    /*30*/ {'b', 'B', 0x32},   {'n', 'N', 0x31},    {'m', 'M', 0x3A},   {',', '<', 0x41},
    /*34*/ {'.', '>', 0x49},   {'/', '?', 0x4A},    {0, 0, 0x59},       {0, 0, 0x7C},  // 36 RShift, 37 KP*
    /*38*/ {0, 0, 0x11},       {' ', 0, 0x29},      {0, 0, 0x58},       {0, 0, 0x05},  // LAlt, Space, Caps, F1
    /*3C*/ {0, 0, 0x06},       {0, 0, 0x04},        {0, 0, 0x0C},       {0, 0, 0x03},  // F2-F5
    /*40*/ {0, 0, 0x0B},       {0, 0, 0x83},        {0, 0, 0x0A},       {0, 0, 0x01},  // F6-F9
    /*44*/ {0, 0, 0x09},       {0, 0, 0x77},        {0, 0, 0x7E},       {0, 0, 0x6C},  // F10, Num, Scroll, KP7
    /*48*/ {0, 0, 0x75},       {0, 0, 0x7D},        {0, 0, 0x7B},       {0, 0, 0x6B},  // KP8 KP9 KP- KP4
    /*4C*/ {0, 0, 0x73},       {0, 0, 0x74},        {0, 0, 0x79},       {0, 0, 0x69},  // KP5 KP6 KP+ KP1
    /*50*/ {0, 0, 0x72},       {0, 0, 0x7A},        {0, 0, 0x70},       {0, 0, 0x71},  // KP2 KP3 KP0 KP.
    /*54*/ {0, 0, 0x00},       {0, 0, 0x00},        {0, 0, 0x00},       {0, 0, 0x78},  // -, -, -, F11
    /*58*/ {0, 0, 0x07},                                                               // F12
};
constexpr uint8_t kKeyCount = sizeof(kKeys) / sizeof(kKeys[0]);
constexpr uint8_t kLeftCtrl = 0x1D, kLeftShift = 0x2A, kEnter = 0x1C, kBackspace = 0x0E;

// The set-1 key and shift state that types `c`; 0 when no key does.
uint8_t key_for(char c, bool& shift) {
  for (uint8_t code = 1; code < kKeyCount; ++code) {
    if (kKeys[code].normal == c) { shift = false; return code; }
    if (kKeys[code].shifted == c) { shift = true; return code; }
  }
  return 0;
}

}  // namespace

// ------------------------------------------------------------- A20 gate ----

void A20Gate::set(bool enabled) {
  if (enabled == enabled_) return;
  enabled_ = enabled;
  if (on_a20_) on_a20_(enabled);
}

void A20Gate::restore(bool enabled) {
  enabled_ = enabled;
  if (on_a20_) on_a20_(enabled);
}

// ---------------------------------------------------------------- 8042 ----

I8042::I8042(IrqSink& irqs, A20Gate& a20, std::function<void()> on_reset)
    : Device("i8042"), irqs_(irqs), a20_(a20), on_reset_(std::move(on_reset)) {
  reset();
}

// Ports 0x60 and 0x64 are not adjacent: a wider access touches other
// devices' ports, which float high here.
uint32_t I8042::read(uint32_t addr, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint8_t b = 0xFF;
    if (addr + i == kDataPort) {
      b = out_;
      if (obf_) {
        obf_ = false;
        update_irq();   // the line drops ...
        fill_output();  // ... and rises again if another byte is waiting
      }
    } else if (addr + i == kStatusPort) {
      b = status();
    }
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

uint32_t I8042::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint8_t b = 0xFF;
    if (addr + i == kDataPort) b = out_;
    else if (addr + i == kStatusPort) b = status();
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

void I8042::write(uint32_t addr, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    const uint8_t b = uint8_t(value >> (8 * i));
    if (addr + i == kStatusPort) {
      last_was_command_ = true;
      controller_command(b);
    } else if (addr + i == kDataPort) {
      last_was_command_ = false;
      data_write(b);
    }
  }
}

uint8_t I8042::status() const {
  return uint8_t((obf_ ? kStatusObf : 0) | (ram_[0] & kStatusSys) | (last_was_command_ ? kStatusCommand : 0) |
                 kStatusUnlocked);
}

// Output port (0xD0/0xD1): bit 0 CPU reset (active low), bit 1 A20 gate,
// bit 4 IRQ1 (output buffer full), bits 6/7 keyboard clock/data (idle high).
uint8_t I8042::output_port() const {
  return uint8_t(0x01 | (a20_.enabled() ? 0x02 : 0) | (obf_ ? 0x10 : 0) | 0xC0);
}

void I8042::write_output_port(uint8_t value) {
  a20_.set(value & 0x02);
  if (!(value & 0x01) && on_reset_) on_reset_();
}

void I8042::controller_command(uint8_t cmd) {
  expect_ = Expect::kKeyboard;  // a command abandons a pending data byte
  if (cmd >= 0x20 && cmd <= 0x3F) {
    reply(ram_[cmd & 0x1F]);  // read RAM; 0x20 is the command byte
  } else if (cmd >= 0x60 && cmd <= 0x7F) {
    ram_index_ = cmd & 0x1F;  // write RAM; 0x60 is the command byte
    expect_ = Expect::kRamWrite;
  } else if (cmd >= 0xF0) {
    // Pulse output port bits 3:0 low where the command's bits are 0; only
    // bit 0 (CPU reset) does anything on a PC. 0xFE is the classic reboot.
    if (!(cmd & 0x01) && on_reset_) on_reset_();
  } else {
    switch (cmd) {
      case 0xA7: ram_[0] |= kCmdAuxDisabled; break;
      case 0xA8: ram_[0] &= uint8_t(~kCmdAuxDisabled); break;
      case 0xA9: reply(0x00); break;  // aux interface test: lines idle, passes
      case 0xAA: reply(0x55); break;  // controller self test passed
      case 0xAB: reply(0x00); break;  // keyboard interface test passed
      case 0xAD: ram_[0] |= kCmdKbdDisabled; break;
      case 0xAE: ram_[0] &= uint8_t(~kCmdKbdDisabled); break;
      case 0xC0: reply(0x80); break;  // input port: keyboard not inhibited
      case 0xD0: reply(output_port()); break;
      case 0xD1: expect_ = Expect::kOutputPort; break;
      case 0xD2: expect_ = Expect::kKeyboardBuffer; break;
      case 0xD3:
      case 0xD4: expect_ = Expect::kAuxSwallow; break;
      case 0xDD: a20_.set(false); break;
      case 0xDF: a20_.set(true); break;
      default: break;  // unknown commands are ignored
    }
  }
  fill_output();  // the keyboard may have been enabled
  update_irq();   // IRQ1 enable may have changed
}

void I8042::data_write(uint8_t value) {
  const Expect what = expect_;
  expect_ = Expect::kKeyboard;
  switch (what) {
    case Expect::kRamWrite: ram_[ram_index_] = value; break;
    case Expect::kOutputPort: write_output_port(value); break;
    case Expect::kKeyboardBuffer: reply(value); break;
    case Expect::kAuxSwallow: break;  // no auxiliary device
    case Expect::kKbdLeds:
      leds_ = value & 0x07;
      keyboard_reply({kAck});
      break;
    case Expect::kKbdTypematic:
      typematic_ = value & 0x7F;
      keyboard_reply({kAck});
      break;
    case Expect::kKbdScanSet:
      // 0 asks for the current set (2; 0x41 once translated); a set number
      // is acknowledged but the keyboard stays in set 2.
      if (value == 0) keyboard_reply({kAck, uint8_t(translating() ? 0x41 : 0x02)});
      else keyboard_reply({kAck});
      break;
    case Expect::kKeyboard:
      // Sending to the keyboard enables its interface (IBM AT TR, command
      // 0xAD).
      ram_[0] &= uint8_t(~kCmdKbdDisabled);
      keyboard_command(value);
      break;
  }
  fill_output();
  update_irq();
}

// Keyboard commands (IBM AT TR "Commands from the System"). Replies queue
// ahead of scan codes still waiting in the keyboard.
void I8042::keyboard_command(uint8_t cmd) {
  switch (cmd) {
    case 0xED: keyboard_reply({kAck}); expect_ = Expect::kKbdLeds; break;
    case 0xEE: keyboard_reply({kEcho}); break;
    case 0xF0: keyboard_reply({kAck}); expect_ = Expect::kKbdScanSet; break;
    // Identify: 0xAB 0x83; translation turns 0x83 into 0x41.
    case 0xF2: keyboard_reply({kAck, 0xAB, uint8_t(translating() ? 0x41 : 0x83)}); break;
    case 0xF3: keyboard_reply({kAck}); expect_ = Expect::kKbdTypematic; break;
    case 0xF4:
      kbd_queue_.clear();
      scanning_ = true;
      keyboard_reply({kAck});
      break;
    case 0xF5:  // disable: defaults, stop scanning
      set_defaults();
      scanning_ = false;
      keyboard_reply({kAck});
      break;
    case 0xF6:
      set_defaults();
      keyboard_reply({kAck});
      break;
    case 0xFF:  // reset: ack, then the basic assurance test result
      set_defaults();
      leds_ = 0;
      scanning_ = true;
      keyboard_reply({kAck, kSelfTestPassed});
      break;
    default: keyboard_reply({kResend}); break;  // not a command we know
  }
}

void I8042::set_defaults() {
  kbd_queue_.clear();
  typematic_ = kDefaultTypematic;
}

void I8042::reply(uint8_t byte) {
  if (ctrl_queue_.size() < kControllerQueueLimit) ctrl_queue_.push_back(byte);
  fill_output();
}

void I8042::keyboard_reply(std::initializer_list<uint8_t> bytes) {
  for (uint8_t b : bytes)
    if (kbd_replies_.size() < kReplyQueueLimit) kbd_replies_.push_back(b);
  fill_output();
}

void I8042::keyboard_send(uint8_t byte) {
  if (kbd_queue_.size() < kKeyboardQueueLimit) kbd_queue_.push_back(byte);
  fill_output();
}

// Controller replies first; keyboard bytes (its replies, then scan codes)
// only while its interface is on.
void I8042::fill_output() {
  auto take = [this](std::deque<uint8_t>& q) {
    out_ = q.front();
    q.pop_front();
    obf_ = true;
  };
  if (!obf_) {
    if (!ctrl_queue_.empty()) take(ctrl_queue_);
    else if (keyboard_enabled() && !kbd_replies_.empty()) take(kbd_replies_);
    else if (keyboard_enabled() && !kbd_queue_.empty()) take(kbd_queue_);
  }
  update_irq();
}

void I8042::update_irq() {
  const bool level = obf_ && (ram_[0] & kCmdIrq1);
  if (level == irq_level_) return;
  irq_level_ = level;
  irqs_.set_irq(kIrq, level);
}

// ---------------------------------------------------------- host typing ----

// Set 1 (translated): make code, break = make | 0x80. Set 2: make code,
// break = 0xF0 then make.
void I8042::key_stroke(uint8_t set1_make, bool pressed) {
  if (translating()) {
    keyboard_send(uint8_t(pressed ? set1_make : set1_make | 0x80));
  } else {
    if (!pressed) keyboard_send(0xF0);
    keyboard_send(kKeys[set1_make].set2);
  }
}

bool I8042::press_key(uint8_t set1_make) {
  if (set1_make == 0 || set1_make >= kKeyCount || kKeys[set1_make].set2 == 0) return false;
  if (!scanning_) return true;  // the key is real, the keyboard ignores it
  key_stroke(set1_make, true);
  key_stroke(set1_make, false);
  return true;
}

size_t I8042::type_text(std::string_view text) {
  if (!scanning_) return 0;
  size_t typed = 0;
  for (char c : text) {
    bool shift = false, ctrl = false;
    uint8_t code = 0;
    if (c == 0) continue;  // NUL: no key (and row 0 of the table is empty)
    if (c == '\r' || c == '\n') {
      code = kEnter;
    } else if (c == 0x7F) {
      code = kBackspace;  // terminals send DEL for the Backspace key
    } else if (c >= 0x01 && c <= 0x1A && c != '\b' && c != '\t') {
      code = key_for(char('a' + c - 1), shift);  // Ctrl+letter
      ctrl = true;
    } else {
      code = key_for(c, shift);
    }
    if (!code) continue;
    if (ctrl) key_stroke(kLeftCtrl, true);
    if (shift) key_stroke(kLeftShift, true);
    key_stroke(code, true);
    key_stroke(code, false);
    if (shift) key_stroke(kLeftShift, false);
    if (ctrl) key_stroke(kLeftCtrl, false);
    ++typed;
  }
  return typed;
}

void I8042::send_raw(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) keyboard_send(b);
}

// ------------------------------------------------------ reset, snapshots ----

void I8042::reset() {
  for (uint8_t& b : ram_) b = 0;
  ram_[0] = kDefaultCommandByte;
  out_ = 0;
  obf_ = false;
  last_was_command_ = false;
  expect_ = Expect::kKeyboard;
  ram_index_ = 0;
  ctrl_queue_.clear();
  kbd_replies_.clear();
  kbd_queue_.clear();
  scanning_ = true;
  leds_ = 0;
  typematic_ = kDefaultTypematic;
  update_irq();
}

namespace {
void save_queue(StateWriter& out, const std::deque<uint8_t>& q) {
  out.u32(uint32_t(q.size()));
  for (uint8_t b : q) out.u8(b);
}
bool load_queue(StateReader& in, std::deque<uint8_t>& q, size_t limit, const char* what) {
  const uint32_t n = in.u32();
  if (!in.expect(n <= limit, what)) return false;
  q.clear();
  for (uint32_t i = 0; i < n && in.ok(); ++i) q.push_back(in.u8());
  return in.ok();
}
}  // namespace

void I8042::save(StateWriter& out) const {
  out.bytes(ram_);
  out.u8(out_);
  out.boolean(obf_);
  out.boolean(last_was_command_);
  out.u8(uint8_t(expect_));
  out.u8(ram_index_);
  save_queue(out, ctrl_queue_);
  save_queue(out, kbd_replies_);
  save_queue(out, kbd_queue_);
  out.boolean(scanning_);
  out.u8(leds_);
  out.u8(typematic_);
  out.boolean(a20_.enabled());
}

void I8042::load(StateReader& in) {
  uint8_t ram[32];
  in.bytes(ram);
  const uint8_t out = in.u8();
  const bool obf = in.boolean(), last_was_command = in.boolean();
  const uint8_t expect = in.u8(), ram_index = in.u8();
  in.expect(expect <= kExpectLast, "i8042: unknown pending-byte state");
  in.expect(ram_index < 32, "i8042: RAM index out of range");
  std::deque<uint8_t> ctrl, replies, kbd;
  if (!load_queue(in, ctrl, kControllerQueueLimit, "i8042: controller queue too long")) return;
  if (!load_queue(in, replies, kReplyQueueLimit, "i8042: keyboard reply queue too long")) return;
  if (!load_queue(in, kbd, kKeyboardQueueLimit, "i8042: keyboard queue too long")) return;
  const bool scanning = in.boolean();
  const uint8_t leds = in.u8(), typematic = in.u8();
  const bool a20 = in.boolean();
  in.expect(leds <= 0x07, "i8042: impossible LED state");
  in.expect(typematic <= 0x7F, "i8042: impossible typematic byte");
  if (!in.ok()) return;

  for (unsigned i = 0; i < 32; ++i) ram_[i] = ram[i];
  out_ = out;
  obf_ = obf;
  last_was_command_ = last_was_command;
  expect_ = Expect(expect);
  ram_index_ = ram_index;
  ctrl_queue_ = std::move(ctrl);
  kbd_replies_ = std::move(replies);
  kbd_queue_ = std::move(kbd);
  scanning_ = scanning;
  leds_ = leds;
  typematic_ = typematic;
  a20_.restore(a20);
  irq_level_ = obf_ && (ram_[0] & kCmdIrq1);
  irqs_.set_irq(kIrq, irq_level_);  // re-drive the line for the board
}

// -------------------------------------------------------------- port 92 ----

FastA20::FastA20(A20Gate& a20, std::function<void()> on_reset)
    : Device("port92"), a20_(a20), on_reset_(std::move(on_reset)) {}

uint32_t FastA20::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint8_t b = addr + i == kPort ? uint8_t(bits_ | (a20_.enabled() ? 0x02 : 0)) : 0xFF;
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

void FastA20::write(uint32_t addr, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    if (addr + i != kPort) continue;
    const uint8_t b = uint8_t(value >> (8 * i));
    const bool was_reset = bits_ & 0x01;
    bits_ = b & uint8_t(~0x02);
    a20_.set(b & 0x02);
    if (!was_reset && (b & 0x01) && on_reset_) on_reset_();  // 0 -> 1 pulses reset
  }
}

void FastA20::save(StateWriter& out) const {
  out.u8(bits_);
  out.boolean(a20_.enabled());
}

void FastA20::load(StateReader& in) {
  const uint8_t bits = in.u8();
  const bool a20 = in.boolean();
  in.expect(!(bits & 0x02), "port92: A20 bit stored outside the gate");
  if (!in.ok()) return;
  bits_ = bits;
  a20_.restore(a20);
}

}  // namespace vs::devices
