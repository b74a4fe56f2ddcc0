// The Intel 82093AA I/O APIC (datasheet order 290566): §3.0 registers
// (IOREGSEL, IOWIN, IOAPICID, IOAPICVER, IOAPICARB, IOREDTBL[0:23]) and
// §3.2.4 the redirection table entry's trigger mode and remote IRR.
#include "virtscope/devices/apic.h"

namespace vs::devices {

namespace {
// Register indices through IOREGSEL (§3.0).
constexpr uint8_t kRegId = 0x00, kRegVersion = 0x01, kRegArbitration = 0x02, kRegTable = 0x10;
constexpr uint8_t kRegTableEnd = kRegTable + 2 * IoApic::kPins;  // 0x40
// Redirection entry low dword: vector, delivery mode, destination mode,
// polarity, trigger mode, mask are writable; delivery status (bit 12) and
// remote IRR (bit 14) are read-only.
constexpr uint64_t kEntryWritableLow = 0x1AFFF;
constexpr uint64_t kEntryDestination = 0xFF00000000000000ull;
constexpr uint64_t kDestModeLogical = 1u << 11;
constexpr unsigned kModeFixed = 0, kModeLowest = 1;

uint32_t bytes_of(uint32_t value, uint32_t byte, unsigned size) {
  const uint32_t v = value >> (8 * byte);
  return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}
}  // namespace

IoApic::IoApic(LocalApic& lapic, uint8_t id) : Device("ioapic"), lapic_(lapic), reset_id_(uint8_t(id & 0x0F)) {
  reset();
}

// All entries masked at reset (§3.2.4 "Interrupt Mask ... set to 1 on
// reset"). The input pins are wires held by devices: a reset leaves them.
void IoApic::reset() {
  id_ = reset_id_;
  regsel_ = 0;
  redir_.fill(kMasked);
}

// ------------------------------------------------------------ bus access ----

// IOREGSEL (bits 7:0) at +0x00, IOWIN at +0x10; nothing else decodes.
// Reading IOWIN has no side effect, so read() is peek().
uint32_t IoApic::peek(uint32_t addr, unsigned size) const {
  const uint32_t offset = addr & 0xFFF;
  if (offset < kRegSel + 4) return bytes_of(regsel_, offset - kRegSel, size);
  if (offset >= kWindow && offset < kWindow + 4) return bytes_of(register_value(regsel_), offset - kWindow, size);
  return 0;
}

void IoApic::write(uint32_t addr, unsigned size, uint32_t value) {
  const uint32_t offset = addr & 0xFFF;
  if (offset == kRegSel) {
    regsel_ = uint8_t(value);
  } else if (offset == kWindow && size == 4) {
    write_register(regsel_, value);  // IOWIN is dword-only (§3.0): narrower writes dropped
  }
}

uint32_t IoApic::register_value(uint8_t index) const {
  if (index == kRegId || index == kRegArbitration) return uint32_t(id_) << 24;  // arbitration ID = ID
  if (index == kRegVersion) return kVersion;
  if (index >= kRegTable && index < kRegTableEnd) {
    const uint64_t e = redir_[(index - kRegTable) / 2];
    return (index & 1) ? uint32_t(e >> 32) : uint32_t(e);
  }
  return 0;  // undefined registers read as 0
}

void IoApic::write_register(uint8_t index, uint32_t value) {
  if (index == kRegId) {
    id_ = uint8_t((value >> 24) & 0x0F);
    return;
  }
  if (index < kRegTable || index >= kRegTableEnd) return;  // version, arbitration: read-only
  const unsigned pin = (index - kRegTable) / 2;
  uint64_t& e = redir_[pin];
  if (index & 1) {
    e = (e & 0xFFFFFFFFull) | ((uint64_t(value) << 32) & kEntryDestination);
  } else {
    // Remote IRR survives a rewrite of a level entry (the OS reprograms the
    // vector between EOIs); it means nothing for an edge entry, so it clears.
    const uint64_t remote = (e & kRemoteIrr) && (value & kLevel) ? kRemoteIrr : 0;
    e = (e & kEntryDestination) | (value & kEntryWritableLow) | remote;
  }
  try_level(pin);  // an unmasked level entry with its line high delivers now
}

// ------------------------------------------------------------ delivery ----

// Edge-triggered: a rising edge on an unmasked entry sends one message
// (a masked entry loses the edge). Level-triggered: the line is sampled
// whenever it, the entry or remote IRR changes.
void IoApic::set_irq(unsigned pin, bool level) {
  if (pin >= kPins) return;
  const bool was = line(pin);
  lines_ = level ? lines_ | (1u << pin) : lines_ & ~(1u << pin);
  const uint64_t e = redir_[pin];
  if (e & kLevel)
    try_level(pin);
  else if (level && !was && !(e & kMasked))
    deliver(pin);
}

void IoApic::try_level(unsigned pin) {
  const uint64_t e = redir_[pin];
  if ((e & kLevel) && line(pin) && !(e & kMasked) && !(e & kRemoteIrr)) deliver(pin);
}

// Sends the entry's message. Fixed and lowest-priority go to the one local
// APIC when the destination names it; remote IRR is set for a level message
// the APIC took. Other delivery modes reach no pin in this model.
void IoApic::deliver(unsigned pin) {
  uint64_t& e = redir_[pin];
  const unsigned mode = unsigned(e >> 8) & 7;
  if (mode != kModeFixed && mode != kModeLowest) return;
  if (!lapic_.matches(uint8_t(e >> 56), e & kDestModeLogical)) return;
  const bool level = e & kLevel;
  if (lapic_.accept(uint8_t(e), level) && level) e |= kRemoteIrr;
}

void IoApic::eoi(uint8_t vector) {
  for (unsigned pin = 0; pin < kPins; ++pin) {
    uint64_t& e = redir_[pin];
    if (!(e & kRemoteIrr) || uint8_t(e) != vector) continue;
    e &= ~kRemoteIrr;
    try_level(pin);  // still asserted: interrupt again
  }
}

// ------------------------------------------------------------ snapshots ----

void IoApic::save(StateWriter& out) const {
  out.u8(id_);
  out.u8(regsel_);
  for (uint64_t e : redir_) out.u64(e);
  out.u32(lines_);
}

void IoApic::load(StateReader& in) {
  const uint8_t id = in.u8(), regsel = in.u8();
  std::array<uint64_t, kPins> redir;
  for (uint64_t& e : redir) {
    e = in.u64();
    in.expect((e & ~(kEntryDestination | kEntryWritableLow | kRemoteIrr)) == 0,
              "ioapic: redirection entry has reserved bits set");
    in.expect(!(e & kRemoteIrr) || (e & kLevel), "ioapic: remote IRR on an edge-triggered entry");
  }
  const uint32_t lines = in.u32();
  in.expect(id <= 0x0F, "ioapic: ID wider than 4 bits");
  in.expect(lines < (1u << kPins), "ioapic: input beyond pin 23");
  if (!in.ok()) return;
  id_ = id;
  regsel_ = regsel;
  redir_ = redir;
  lines_ = lines;
}

}  // namespace vs::devices
