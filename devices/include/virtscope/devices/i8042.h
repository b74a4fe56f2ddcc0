// The 8042 keyboard controller with its PS/2 keyboard (IBM PC AT Technical
// Reference, "Keyboard Controller"; OSDev wiki "8042 PS/2 Controller" and
// "PS/2 Keyboard"), and the PS/2 "fast A20" port 0x92. Both open and close
// the A20 gate, so they share one A20Gate.
//
// Model:
//  - Port 0x60 is the data port, 0x64 status (read) / command (write). A write
//    is processed at once, so IBF always reads 0.
//  - The controller's one-byte output buffer is fed from two queues: replies
//    to controller commands first, then bytes from the keyboard (acks,
//    scan codes, replies first) while the keyboard interface is enabled (command byte bit 4
//    clear). Reading 0x60 empties the buffer and loads the next byte; IRQ1
//    (command byte bit 0) drops and rises again so an edge-triggered PIC sees
//    every byte.
//  - The keyboard speaks scan code set 2. With translation on (command byte
//    bit 6, the PC default) the guest sees set 1; type_text() produces either.
//  - reset() gives the state a PC BIOS leaves behind: command byte 0x45
//    (IRQ1 on, SYS, translate), keyboard enabled and scanning. The A20 gate is
//    not changed by reset() (the board owns its power-on value).
//
// Not modelled: the auxiliary (mouse) port is absent — 0xA7/0xA8 only flip
// command byte bit 5, bytes for it (0xD3, 0xD4) are swallowed, IRQ12 never
// rises; parity/timeout errors; typematic repeat; keyboard timing (replies and
// scan codes are ready at once); scan code sets 1 and 3 on the wire (0xF0 is
// acknowledged, set 2 stays); keyboard LEDs are stored only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <span>
#include <string_view>

#include "virtscope/devices/device.h"

namespace vs::devices {

// The A20 line's gate, shared by the 8042 output port (bit 1) and port 0x92
// (bit 1): either path changes it, both read it back, and the board hears
// every change (to set the CPU's A20 mask).
class A20Gate {
 public:
  explicit A20Gate(std::function<void(bool enabled)> on_a20, bool enabled = true)
      : on_a20_(std::move(on_a20)), enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  // Calls on_a20 when the state changes.
  void set(bool enabled);
  // For snapshots: sets the state and always tells the board.
  void restore(bool enabled);

 private:
  std::function<void(bool)> on_a20_;
  bool enabled_;
};

class I8042 final : public Device {
 public:
  static constexpr uint16_t kDataPort = 0x60;
  static constexpr uint16_t kStatusPort = 0x64;  // read: status, write: command
  static constexpr unsigned kIrq = 1;
  // Host keystrokes beyond this many bytes waiting are dropped.
  static constexpr size_t kKeyboardQueueLimit = 4096;
  static constexpr size_t kControllerQueueLimit = 8;
  static constexpr size_t kReplyQueueLimit = 16;

  // `on_reset` is called when the guest pulses the CPU reset line (command
  // 0xFE, or output port bit 0 written as 0).
  I8042(IrqSink& irqs, A20Gate& a20, std::function<void()> on_reset);

  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // Host keyboard input: ASCII text becomes key presses (make + break, shift
  // around uppercase letters and shifted symbols, Ctrl for 0x01-0x1A other
  // than Tab/LF/CR, Backspace for 0x08 and 0x7F, Enter for CR and LF).
  // Characters with no key are skipped; returns how many were typed.
  // Ignored while the keyboard has scanning disabled (0xF5).
  size_t type_text(std::string_view text);
  // One key press and release by its set-1 make code (0x01-0x58 from the
  // table of known keys); false if unknown.
  bool press_key(uint8_t set1_make);
  // Raw bytes from the keyboard, exactly as given (no translation).
  void send_raw(std::span<const uint8_t> bytes);

  // For the UI.
  uint8_t status() const;
  uint8_t command_byte() const { return ram_[0]; }
  bool output_full() const { return obf_; }
  size_t pending_bytes() const {
    return ctrl_queue_.size() + kbd_replies_.size() + kbd_queue_.size() + (obf_ ? 1 : 0);
  }
  uint8_t leds() const { return leds_; }
  bool scanning() const { return scanning_; }

 private:
  enum class Expect : uint8_t {  // what the next byte written to 0x60 is
    kKeyboard = 0,                // a keyboard command
    kRamWrite,                    // 0x60-0x7F: controller RAM[ram_index_]
    kOutputPort,                  // 0xD1
    kKeyboardBuffer,              // 0xD2: as if the keyboard sent it
    kAuxSwallow,                  // 0xD3/0xD4: aux absent
    kKbdLeds,                     // keyboard 0xED parameter
    kKbdTypematic,                // keyboard 0xF3 parameter
    kKbdScanSet,                  // keyboard 0xF0 parameter
  };
  static constexpr uint8_t kExpectLast = uint8_t(Expect::kKbdScanSet);

  void controller_command(uint8_t cmd);
  void data_write(uint8_t value);
  void keyboard_command(uint8_t cmd);
  void write_output_port(uint8_t value);
  uint8_t output_port() const;
  void reply(uint8_t byte);                   // controller -> output buffer queue
  void keyboard_reply(std::initializer_list<uint8_t> bytes);  // ahead of scan codes
  void keyboard_send(uint8_t byte);           // scan code, after those pending
  void key_stroke(uint8_t set1_make, bool pressed);
  void set_defaults();                        // keyboard 0xF6 defaults
  bool translating() const { return ram_[0] & 0x40; }
  bool keyboard_enabled() const { return !(ram_[0] & 0x10); }
  void fill_output();                         // load the next byte if empty
  void update_irq();

  IrqSink& irqs_;
  A20Gate& a20_;
  std::function<void()> on_reset_;

  // Controller state.
  uint8_t ram_[32] = {};          // internal RAM; [0] is the command byte
  uint8_t out_ = 0;               // output buffer (read at 0x60)
  bool obf_ = false;              // status bit 0: output buffer full
  bool last_was_command_ = false; // status bit 3 (A2): last write went to 0x64
  Expect expect_ = Expect::kKeyboard;
  uint8_t ram_index_ = 0;         // target of a pending 0x60-0x7F write
  std::deque<uint8_t> ctrl_queue_;  // controller replies waiting for the buffer
  std::deque<uint8_t> kbd_replies_; // keyboard replies to commands (ahead of scan codes)
  std::deque<uint8_t> kbd_queue_;   // keyboard scan codes waiting for the buffer

  // Keyboard state.
  bool scanning_ = true;          // 0xF4 enable / 0xF5 disable
  uint8_t leds_ = 0;              // 0xED: bit 0 Scroll, 1 Num, 2 Caps
  uint8_t typematic_ = 0x0B;      // 0xF3: rate/delay (10.9 cps, 500 ms)

  bool irq_level_ = false;
};

// Port 0x92, "System Control Port A" (IBM PS/2 Hardware Interface Technical
// Reference): bit 1 is the A20 gate, bit 0 a fast CPU reset on a 0 -> 1
// transition. Other bits are stored and read back.
class FastA20 final : public Device {
 public:
  static constexpr uint16_t kPort = 0x92;
  FastA20(A20Gate& a20, std::function<void()> on_reset);

  uint32_t read(uint32_t addr, unsigned size) override { return peek(addr, size); }
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override { bits_ = 0; }
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

 private:
  A20Gate& a20_;
  std::function<void()> on_reset_;
  uint8_t bits_ = 0;  // every bit but 1 (A20 lives in the gate)
};

}  // namespace vs::devices
