// ATA PIO channel. Register behaviour follows ATA/ATAPI-6 (INCITS 361-2002)
// §7 (register descriptions), §8 (command descriptions), §9.5-§9.7 (PIO
// data-in, data-out and non-data protocols) and §9.2 (software reset). The
// disk backends are in block_backend.cpp.
#include <algorithm>
#include <cstring>

#include "virtscope/devices/ata.h"

namespace vs::devices {

namespace {
constexpr uint8_t kIdentify = 0xEC;
constexpr uint8_t kReady = AtaController::kDrdy | AtaController::kDsc;
constexpr uint8_t kDiagnosticPassed = 0x01;  // error register after reset/diagnostic: no error (§9.1)
constexpr uint32_t kSector = BlockBackend::kSectorSize;
}  // namespace

AtaController::AtaController(std::string_view name, IrqSink& irqs, Scheduler& scheduler, uint16_t command,
                             uint16_t control, unsigned irq)
    : Device(name), irqs_(irqs), scheduler_(scheduler), command_base_(command), control_port_(control), irq_(irq) {
  timer_ = scheduler_.add(std::string(name), [this] { on_timer(); });
  reset();
}

uint32_t AtaController::default_cylinders(uint64_t sectors) {
  return uint32_t(std::clamp<uint64_t>(sectors / (kDefaultHeads * kDefaultSectorsPerTrack), 1, 16383));
}

// ------------------------------------------------------------ state ----

namespace {
void reset_drive(AtaDrive& d) {
  const bool present = d.disk != nullptr;
  d.status = present ? kReady : 0;
  d.error = present ? kDiagnosticPassed : 0;
  d.command = 0;
  d.transfer = AtaDrive::Transfer::None;
  d.phase = AtaDrive::Phase::None;
  d.finish_error = 0;
  d.lba = 0;
  d.remaining = 0;
  d.block = 1;
  d.multiple = 0;
  d.heads = AtaController::kDefaultHeads;
  d.sectors_per_track = AtaController::kDefaultSectorsPerTrack;
  d.irq_pending = false;
  d.pos = d.len = 0;
}
}  // namespace

void AtaController::reset() {
  features_ = 0;
  control_ = 0;
  set_signature();
  for (AtaDrive& d : drives_) reset_drive(d);
  deadline_ = Scheduler::kNever;
  scheduler_.cancel(timer_);
  update_irq();
}

void AtaController::attach(unsigned drive, std::unique_ptr<BlockBackend> disk) {
  if (drive > 1) return;
  AtaDrive& d = drives_[drive];
  d.disk = std::move(disk);
  reset_drive(d);  // a command it had in progress is gone
  if (drives_[0].phase == AtaDrive::Phase::None && drives_[1].phase == AtaDrive::Phase::None) {
    deadline_ = Scheduler::kNever;
    scheduler_.cancel(timer_);
  }
  update_irq();
}

// The ATA signature of a non-packet device (§9.12): count 1, LBA 1/0/0,
// device 0 selected.
void AtaController::set_signature() {
  nsector_ = 1;
  sector_ = 1;
  lcyl_ = hcyl_ = 0;
  select_ = 0;
}

// ------------------------------------------------------------ bus access ----

uint32_t AtaController::read(uint32_t addr, unsigned size) {
  if (addr == command_base_) {
    const uint32_t lo = read_data(true);
    if (size == 4) return lo | uint32_t(read_data(true)) << 16;
    return size == 2 ? lo : lo & 0xFF;
  }
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t(read_register(uint16_t(addr + i), true)) << (8 * i);
  return v;
}

uint32_t AtaController::peek(uint32_t addr, unsigned size) const {
  if (addr == command_base_) {
    const AtaDrive& d = sel();
    auto word_at = [&](uint32_t pos) -> uint32_t {
      if (!d.disk || d.transfer != AtaDrive::Transfer::ToHost || pos + 1 >= d.len) return 0xFFFF;
      return d.buffer[pos] | uint32_t(d.buffer[pos + 1]) << 8;
    };
    if (size == 4) return word_at(d.pos) | word_at(d.pos + 2) << 16;
    return size == 2 ? word_at(d.pos) : word_at(d.pos) & 0xFF;
  }
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t(peek_register(uint16_t(addr + i))) << (8 * i);
  return v;
}

void AtaController::write(uint32_t addr, unsigned size, uint32_t value) {
  if (addr == command_base_) {
    write_data(uint16_t(size == 1 ? value & 0xFF : value));
    if (size == 4) write_data(uint16_t(value >> 16));
    return;
  }
  for (unsigned i = 0; i < size; ++i) write_register(uint16_t(addr + i), uint8_t(value >> (8 * i)));
}

uint8_t AtaController::peek_register(uint16_t port) const {
  const bool ours = port == control_port_ || (port > command_base_ && port <= command_base_ + 7);
  if (!ours || !any_present()) return 0xFF;  // nothing drives the bus
  const AtaDrive& d = sel();
  if (port == control_port_) return d.disk ? d.status : 0;  // alternate status
  switch (port - command_base_) {
    case 1: return d.disk ? d.error : 0;
    case 2: return nsector_;
    case 3: return sector_;
    case 4: return lcyl_;
    case 5: return hcyl_;
    case 6: return select_;
    default: return d.disk ? d.status : 0;  // 7: status; an absent device reads 0x00
  }
}

// Reading Status (not Alternate Status) acknowledges the interrupt (§7.15).
uint8_t AtaController::read_register(uint16_t port, bool side_effects) {
  const uint8_t v = peek_register(port);
  if (side_effects && port == command_base_ + 7 && sel().disk && sel().irq_pending) {
    sel().irq_pending = false;
    update_irq();
  }
  return v;
}

void AtaController::write_register(uint16_t port, uint8_t value) {
  if (port == control_port_) {
    write_control(value);
    return;
  }
  if (port <= command_base_ || port > command_base_ + 7 || !any_present()) return;
  if (sel().disk && (sel().status & kBsy)) return;  // ignored while BSY (§6.2)
  switch (port - command_base_) {
    case 1: features_ = value; break;
    case 2: nsector_ = value; break;
    case 3: sector_ = value; break;
    case 4: lcyl_ = value; break;
    case 5: hcyl_ = value; break;
    case 6:
      select_ = value;
      update_irq();  // INTRQ follows the selected device
      break;
    default: execute(value); break;
  }
}

// §7.8 Device Control: nIEN releases INTRQ; SRST held high resets both
// devices, its falling edge ends the reset (§9.2, timing not modelled).
void AtaController::write_control(uint8_t value) {
  const uint8_t old = control_;
  control_ = value & (kNien | kSrst);
  if ((control_ & kSrst) && !(old & kSrst)) {
    for (AtaDrive& d : drives_) {
      if (!d.disk) continue;
      d.status = kBsy;
      d.transfer = AtaDrive::Transfer::None;
      d.phase = AtaDrive::Phase::None;
      d.irq_pending = false;
      d.pos = d.len = 0;
    }
    deadline_ = Scheduler::kNever;
    scheduler_.cancel(timer_);
  } else if (!(control_ & kSrst) && (old & kSrst)) {
    for (AtaDrive& d : drives_) {
      if (!d.disk) continue;
      d.status = kReady;
      d.error = kDiagnosticPassed;
    }
    set_signature();
  }
  update_irq();
}

// ------------------------------------------------------------ data port ----

uint16_t AtaController::read_data(bool advance) {
  AtaDrive& d = sel();
  if (!d.disk || d.transfer != AtaDrive::Transfer::ToHost) return 0xFFFF;
  const uint16_t w = uint16_t(d.buffer[d.pos] | d.buffer[d.pos + 1] << 8);
  if (advance && (d.pos += 2) >= d.len) end_data_in_block(d);
  return w;
}

void AtaController::write_data(uint16_t word) {
  AtaDrive& d = sel();
  if (!d.disk || d.transfer != AtaDrive::Transfer::FromHost) return;
  d.buffer[d.pos] = uint8_t(word);
  d.buffer[d.pos + 1] = uint8_t(word >> 8);
  if ((d.pos += 2) < d.len) return;
  d.transfer = AtaDrive::Transfer::None;  // block complete: store it (§9.6 state DO2)
  start_phase(d, AtaDrive::Phase::WriteBlock);
}

// The host has read the whole DRQ block (§9.5): more to come after another
// BSY period, or the command is done (no interrupt at the end of a read).
void AtaController::end_data_in_block(AtaDrive& d) {
  d.transfer = AtaDrive::Transfer::None;
  if (d.command == kIdentify) {
    d.status = kReady;
    return;
  }
  const uint32_t n = d.len / kSector;
  set_address(d, d.lba + n - 1);
  d.lba += n;
  d.remaining -= n;
  nsector_ = uint8_t(d.remaining);
  if (d.remaining)
    start_phase(d, AtaDrive::Phase::ReadBlock);
  else
    d.status = kReady;
}

// ------------------------------------------------------------ interrupts ----

void AtaController::raise(AtaDrive& d) {
  d.irq_pending = true;
  update_irq();
}

// INTRQ is driven by the selected device unless nIEN (§5.2.9).
void AtaController::update_irq() {
  const AtaDrive& d = sel();
  const bool level = !(control_ & kNien) && d.disk && d.irq_pending;
  if (level == irq_level_) return;
  irq_level_ = level;
  irqs_.set_irq(irq_, level);
}

// ------------------------------------------------------------ snapshots ----

void AtaController::save(StateWriter& out) const {
  for (uint8_t r : {features_, nsector_, sector_, lcyl_, hcyl_, select_, control_}) out.u8(r);
  out.u64(deadline_);
  for (const AtaDrive& d : drives_) {
    out.boolean(d.disk != nullptr);
    out.u64(d.disk ? d.disk->sectors() : 0);
    for (uint8_t r : {d.status, d.error, d.command, uint8_t(d.transfer), uint8_t(d.phase), d.finish_error}) out.u8(r);
    out.u64(d.lba);
    out.u32(d.remaining);
    for (uint8_t r : {d.block, d.multiple, d.heads, d.sectors_per_track}) out.u8(r);
    out.boolean(d.irq_pending);
    out.u32(d.pos);
    out.u32(d.len);
    out.bytes(std::span(d.buffer.data(), std::min<size_t>(d.len, d.buffer.size())));
  }
}

namespace {
bool load_drive(StateReader& in, AtaDrive& d, const BlockBackend* disk) {
  using T = AtaDrive::Transfer;
  using P = AtaDrive::Phase;
  const bool present = in.boolean();
  const uint64_t sectors = in.u64();
  if (!in.expect(present == (disk != nullptr), "ata: snapshot drive presence differs from the attached disks"))
    return false;
  if (!in.expect(!disk || sectors == disk->sectors(), "ata: snapshot taken with a disk of a different size"))
    return false;
  d.status = in.u8();
  d.error = in.u8();
  d.command = in.u8();
  const uint8_t transfer = in.u8(), phase = in.u8();
  d.finish_error = in.u8();
  d.lba = in.u64();
  d.remaining = in.u32();
  d.block = in.u8();
  d.multiple = in.u8();
  d.heads = in.u8();
  d.sectors_per_track = in.u8();
  d.irq_pending = in.boolean();
  d.pos = in.u32();
  d.len = in.u32();
  if (!in.expect(transfer <= uint8_t(T::FromHost) && phase <= AtaDrive::kPhaseLast, "ata: unknown transfer state"))
    return false;
  d.transfer = T(transfer);
  d.phase = P(phase);
  const bool len_ok = d.len <= d.buffer.size() && d.len % kSector == 0 && d.pos <= d.len && d.pos % 2 == 0;
  if (!in.expect(len_ok, "ata: data buffer cursor out of range")) return false;
  in.bytes(std::span(d.buffer.data(), d.len));
  const bool pow2 = (d.multiple & (d.multiple - 1)) == 0;
  in.expect(d.multiple <= AtaDrive::kMaxMultiple && pow2, "ata: impossible multiple mode");
  in.expect(d.block >= 1 && d.block <= AtaDrive::kMaxMultiple, "ata: impossible block size");
  in.expect(d.heads >= 1 && d.heads <= 16 && d.sectors_per_track >= 1, "ata: impossible CHS translation");
  in.expect(d.remaining <= 256 && d.lba <= sectors && d.remaining <= sectors - d.lba, "ata: transfer beyond the disk");
  in.expect(d.transfer == T::None || (d.pos < d.len && (d.status & AtaController::kDrq)),
            "ata: transfer without data or DRQ");
  in.expect(d.phase == P::None || (d.status & AtaController::kBsy), "ata: pending completion without BSY");
  in.expect(present || (d.status == 0 && d.transfer == T::None && d.phase == P::None && !d.irq_pending),
            "ata: absent drive with state");
  return in.ok();
}
}  // namespace

void AtaController::load(StateReader& in) {
  uint8_t regs[7];
  for (uint8_t& r : regs) r = in.u8();
  const uint64_t deadline = in.u64();
  in.expect((regs[6] & ~(kNien | kSrst)) == 0, "ata: device control has unknown bits");
  std::array<AtaDrive, 2> loaded;
  for (unsigned i = 0; i < 2 && in.ok(); ++i) load_drive(in, loaded[i], drives_[i].disk.get());
  const bool pending = loaded[0].phase != AtaDrive::Phase::None || loaded[1].phase != AtaDrive::Phase::None;
  in.expect(pending == (deadline != Scheduler::kNever), "ata: timer deadline disagrees with the drives");
  if (!in.ok()) return;  // leave the device untouched on a bad snapshot

  features_ = regs[0];
  nsector_ = regs[1];
  sector_ = regs[2];
  lcyl_ = regs[3];
  hcyl_ = regs[4];
  select_ = regs[5];
  control_ = regs[6];
  deadline_ = deadline;
  for (unsigned i = 0; i < 2; ++i) {
    loaded[i].disk = std::move(drives_[i].disk);
    drives_[i] = std::move(loaded[i]);
  }
  if (pending)
    scheduler_.schedule(timer_, deadline_);
  else
    scheduler_.cancel(timer_);
  // Re-drive the line so the board agrees with the restored registers.
  irq_level_ = !(control_ & kNien) && sel().disk && sel().irq_pending;
  irqs_.set_irq(irq_, irq_level_);
}

}  // namespace vs::devices
