// ATA commands (ATA/ATAPI-6, INCITS 361-2002, §8) and their completion after
// the "ide0" timer: addressing (§6.1: CHS and LBA28), the PIO data-in and
// data-out block steps (§9.5, §9.6), non-data completion (§9.7) and IDENTIFY
// DEVICE data (§8.15, Table 23).
#include <algorithm>
#include <cstring>

#include "virtscope/devices/ata.h"

namespace vs::devices {

namespace {
enum Command : uint8_t {
  kReadSectors = 0x20, kReadSectorsNoRetry = 0x21, kWriteSectors = 0x30, kWriteSectorsNoRetry = 0x31,
  kReadVerify = 0x40, kReadVerifyNoRetry = 0x41, kDiagnostic = 0x90, kInitParams = 0x91,
  kReadMultiple = 0xC4, kWriteMultiple = 0xC5, kSetMultiple = 0xC6, kStandbyImmediate = 0xE0,
  kIdleImmediate = 0xE1, kStandby = 0xE2, kIdle = 0xE3, kCheckPowerMode = 0xE5, kSleep = 0xE6,
  kFlushCache = 0xE7, kIdentify = 0xEC, kSetFeatures = 0xEF,
};
constexpr uint8_t kReady = AtaController::kDrdy | AtaController::kDsc;
constexpr uint8_t kSelectLba = 0x40;
constexpr uint8_t kDiagnosticPassed = 0x01;
constexpr uint64_t kLba28Sectors = 1ull << 28;
constexpr uint32_t kSector = BlockBackend::kSectorSize;

void put_word(std::span<uint8_t> b, unsigned word, uint16_t v) {
  b[2 * word] = uint8_t(v);
  b[2 * word + 1] = uint8_t(v >> 8);
}
// IDENTIFY strings: two characters per word, the first in the high byte
// (§8.15.8 "ATA string convention"), padded with spaces.
void put_string(std::span<uint8_t> b, unsigned word, unsigned words, std::string_view s) {
  for (unsigned i = 0; i < 2 * words; ++i) b[2 * word + (i ^ 1)] = i < s.size() ? uint8_t(s[i]) : ' ';
}
}  // namespace

// ------------------------------------------------------------ dispatch ----

void AtaController::execute(uint8_t command) {
  AtaDrive& d = sel();
  if (!d.disk) {
    // An absent device ignores commands; device 0 still runs the diagnostic
    // for both (§8.11).
    if (command == kDiagnostic) {
      for (AtaDrive& drive : drives_)
        if (drive.disk) start_phase(drive, AtaDrive::Phase::Diagnostic);
    }
    return;
  }
  d.irq_pending = false;  // writing Command clears a pending interrupt (§5.2.9)
  update_irq();
  d.transfer = AtaDrive::Transfer::None;  // a transfer in progress is abandoned
  d.pos = d.len = 0;
  d.command = command;
  using P = AtaDrive::Phase;
  switch (command) {
    case kReadSectors: case kReadSectorsNoRetry: start_read(d, 1); break;
    case kWriteSectors: case kWriteSectorsNoRetry: start_write(d, 1); break;
    case kReadMultiple:  // §8.25: aborted while multiple mode is disabled
      if (d.multiple) start_read(d, d.multiple); else start_phase(d, P::Finish, kAbrt);
      break;
    case kWriteMultiple:
      if (d.multiple) start_write(d, d.multiple); else start_phase(d, P::Finish, kAbrt);
      break;
    case kSetMultiple: {  // §8.39: a power of two up to the maximum, or 0 to disable
      const uint8_t n = nsector_;
      const bool ok = n <= AtaDrive::kMaxMultiple && (n & (n - 1)) == 0;
      if (ok) d.multiple = n;
      start_phase(d, P::Finish, ok ? 0 : kAbrt);
      break;
    }
    case kIdentify: start_phase(d, P::Identify); break;
    case kInitParams: {  // §8.16: sectors per track from the count, heads from the head field
      const bool ok = nsector_ != 0;
      if (ok) {
        d.sectors_per_track = nsector_;
        d.heads = uint8_t((select_ & 0x0F) + 1);
      }
      start_phase(d, P::Finish, ok ? 0 : kAbrt);
      break;
    }
    case kReadVerify: case kReadVerifyNoRetry: {  // §8.29: like a read, without the data
      uint64_t lba;
      const uint32_t count = sector_count();
      const bool ok = decode_range(d, lba, count);
      if (ok) {
        set_address(d, lba + count - 1);
        nsector_ = 0;
      }
      start_phase(d, P::Finish, ok ? 0 : kIdnf);
      break;
    }
    case kDiagnostic:
      for (AtaDrive& drive : drives_)
        if (drive.disk) start_phase(drive, P::Diagnostic);
      break;
    case kCheckPowerMode:  // §8.6: 0xFF = active or idle, always
      nsector_ = 0xFF;
      start_phase(d, P::Finish);
      break;
    case kSetFeatures: case kFlushCache: case kStandbyImmediate: case kIdleImmediate: case kStandby:
    case kIdle: case kSleep:
      start_phase(d, P::Finish);
      break;
    default: {
      const bool recalibrate_or_seek = (command & 0xF0) == 0x10 || (command & 0xF0) == 0x70;
      start_phase(d, P::Finish, recalibrate_or_seek ? 0 : kAbrt);
      break;
    }
  }
}

// The task file's address (§6.1): LBA28 with device/head bit 6, otherwise
// cylinder/head/sector through the drive's current translation. False for a
// CHS address outside the translation (sector 0, head too high).
bool AtaController::decode_address(const AtaDrive& d, uint64_t& lba) const {
  if (select_ & kSelectLba) {
    lba = uint64_t(select_ & 0x0F) << 24 | uint64_t(hcyl_) << 16 | uint64_t(lcyl_) << 8 | sector_;
    return true;
  }
  const uint32_t cylinder = uint32_t(hcyl_) << 8 | lcyl_, head = select_ & 0x0F;
  if (sector_ == 0 || sector_ > d.sectors_per_track || head >= d.heads) return false;
  lba = (uint64_t(cylinder) * d.heads + head) * d.sectors_per_track + sector_ - 1;
  return true;
}

// The task file's address, and whether `count` sectors from it fit the disk.
bool AtaController::decode_range(const AtaDrive& d, uint64_t& lba, uint32_t count) const {
  return decode_address(d, lba) && count <= d.disk->sectors() && lba <= d.disk->sectors() - count;
}

void AtaController::set_address(const AtaDrive& d, uint64_t lba) {
  if (select_ & kSelectLba) {
    sector_ = uint8_t(lba);
    lcyl_ = uint8_t(lba >> 8);
    hcyl_ = uint8_t(lba >> 16);
    select_ = uint8_t((select_ & 0xF0) | ((lba >> 24) & 0x0F));
    return;
  }
  const uint64_t track = lba / d.sectors_per_track, cylinder = track / d.heads;
  sector_ = uint8_t(lba % d.sectors_per_track + 1);
  lcyl_ = uint8_t(cylinder);
  hcyl_ = uint8_t(cylinder >> 8);
  select_ = uint8_t((select_ & 0xF0) | (track % d.heads));
}

// Decodes and range-checks a transfer of `block` sectors per DRQ; an address
// beyond the disk ends the command with IDNF after the usual delay.
bool AtaController::begin_transfer(AtaDrive& d, uint8_t block) {
  uint64_t lba;
  const uint32_t count = sector_count();
  if (!decode_range(d, lba, count)) {
    start_phase(d, AtaDrive::Phase::Finish, kIdnf);
    return false;
  }
  d.lba = lba;
  d.remaining = count;
  d.block = block;
  return true;
}

void AtaController::start_read(AtaDrive& d, uint8_t block) {
  if (begin_transfer(d, block)) start_phase(d, AtaDrive::Phase::ReadBlock);
}

// PIO data-out (§9.6): DRQ for the first block at once, no interrupt.
void AtaController::start_write(AtaDrive& d, uint8_t block) {
  if (!begin_transfer(d, block)) return;
  const uint32_t count = d.remaining;
  d.transfer = AtaDrive::Transfer::FromHost;
  d.pos = 0;
  d.len = std::min<uint32_t>(block, count) * kSector;
  d.status = kReady | kDrq;
}

// BSY until the timer: no data moves meanwhile (a diagnostic also ends the
// other drive's transfer).
void AtaController::start_phase(AtaDrive& d, AtaDrive::Phase phase, uint8_t finish_error) {
  d.transfer = AtaDrive::Transfer::None;
  d.status = kBsy;
  d.phase = phase;
  d.finish_error = finish_error;
  deadline_ = scheduler_.now() + kCommandDelay;
  scheduler_.schedule(timer_, deadline_);
}

// ------------------------------------------------------------ completion ----

void AtaController::on_timer() {
  deadline_ = Scheduler::kNever;
  for (unsigned which = 0; which < 2; ++which)
    if (drives_[which].phase != AtaDrive::Phase::None) complete(which);
}

void AtaController::complete(unsigned which) {
  AtaDrive& d = drives_[which];
  const AtaDrive::Phase phase = d.phase;
  d.phase = AtaDrive::Phase::None;
  switch (phase) {
    case AtaDrive::Phase::None: break;
    case AtaDrive::Phase::ReadBlock: read_block(d); break;
    case AtaDrive::Phase::WriteBlock: write_block(d); break;
    case AtaDrive::Phase::Identify:
      fill_identify(which);
      d.transfer = AtaDrive::Transfer::ToHost;
      d.pos = 0;
      d.len = kSector;
      d.error = 0;
      d.status = kReady | kDrq;
      raise(d);
      break;
    case AtaDrive::Phase::Finish: finish(d, d.finish_error); break;
    case AtaDrive::Phase::Diagnostic:
      // §8.11: both devices post "passed"; device 0 interrupts (device 1
      // only when alone), and device 0 is selected with the signature.
      set_signature();
      d.transfer = AtaDrive::Transfer::None;
      d.error = kDiagnosticPassed;
      d.status = kReady;
      if (which == 0 || !drives_[0].disk) raise(d);
      break;
  }
}

void AtaController::finish(AtaDrive& d, uint8_t error) {
  d.transfer = AtaDrive::Transfer::None;
  d.error = error;
  d.status = uint8_t(kReady | (error ? kErr : 0));
  raise(d);
}

// PIO data-in, one block ready (§9.5 state DI1): DRQ and an interrupt.
void AtaController::read_block(AtaDrive& d) {
  const uint32_t n = std::min<uint32_t>(d.block, d.remaining);
  if (!d.disk->read_sectors(d.lba, std::span(d.buffer.data(), n * kSector))) {
    last_error_ = d.disk->error();
    set_address(d, d.lba);
    finish(d, kUnc);
    return;
  }
  d.transfer = AtaDrive::Transfer::ToHost;
  d.pos = 0;
  d.len = n * kSector;
  d.error = 0;
  d.status = kReady | kDrq;
  raise(d);
}

// PIO data-out, one block received: store it, then DRQ for the next block or
// done; an interrupt either way (§9.6 state DO2). A failed write is a device
// fault (DF, ERR, ABRT).
void AtaController::write_block(AtaDrive& d) {
  const uint32_t n = d.len / kSector;
  if (!d.disk->write_sectors(d.lba, std::span(d.buffer.data(), d.len))) {
    last_error_ = d.disk->error();
    set_address(d, d.lba);
    finish(d, kAbrt);
    d.status |= kDf;
    return;
  }
  set_address(d, d.lba + n - 1);
  d.lba += n;
  d.remaining -= n;
  nsector_ = uint8_t(d.remaining);
  d.error = 0;
  if (d.remaining) {
    d.transfer = AtaDrive::Transfer::FromHost;
    d.pos = 0;
    d.len = std::min<uint32_t>(d.block, d.remaining) * kSector;
    d.status = kReady | kDrq;
  } else {
    d.status = kReady;
  }
  raise(d);
}

// IDENTIFY DEVICE data (§8.15, Table 23) of a fixed, LBA-capable, PIO-only
// disk with the default translation and the current one.
void AtaController::fill_identify(unsigned which) {
  AtaDrive& d = drives_[which];
  std::span<uint8_t> b(d.buffer.data(), kSector);
  std::memset(b.data(), 0, b.size());
  const uint64_t sectors = d.disk->sectors();
  const uint32_t lba_capacity = uint32_t(std::min<uint64_t>(sectors, kLba28Sectors - 1));
  const uint32_t cur_cylinders = uint32_t(std::clamp<uint64_t>(sectors / (d.heads * d.sectors_per_track), 1, 65535));
  const uint32_t cur_capacity = cur_cylinders * d.heads * d.sectors_per_track;

  put_word(b, 0, 0x0040);                         // fixed device, not removable
  put_word(b, 1, uint16_t(default_cylinders(sectors)));
  put_word(b, 3, kDefaultHeads);
  // Words 4-5, unformatted bytes per track and per sector: retired since
  // ATA-2, but BIOSes of the rombios family still size their PIO transfers
  // by word 5, so they keep the values older drives (and QEMU) report.
  put_word(b, 4, uint16_t(kSector * kDefaultSectorsPerTrack));
  put_word(b, 5, kSector);
  put_word(b, 6, kDefaultSectorsPerTrack);
  put_string(b, 10, 10, std::string("VIRTSCOPE-DISK-") + char('0' + which));  // serial number
  put_string(b, 23, 4, "1.0");                    // firmware revision
  put_string(b, 27, 20, "VIRTSCOPE HARDDISK");    // model number
  put_word(b, 47, 0x8000 | AtaDrive::kMaxMultiple);  // READ/WRITE MULTIPLE: up to 16 sectors
  put_word(b, 49, 0x0200);                        // capabilities: LBA supported (no DMA)
  put_word(b, 50, 0x4000);                        // bit 14 shall be one
  put_word(b, 51, 0x0200);                        // PIO data transfer cycle timing mode 2 (obsolete)
  put_word(b, 53, 0x0003);                        // words 54-58 and 64-70 valid
  put_word(b, 54, uint16_t(cur_cylinders));       // current translation
  put_word(b, 55, d.heads);
  put_word(b, 56, d.sectors_per_track);
  put_word(b, 57, uint16_t(cur_capacity));
  put_word(b, 58, uint16_t(cur_capacity >> 16));
  put_word(b, 59, d.multiple ? uint16_t(0x0100 | d.multiple) : 0);  // current multiple setting
  put_word(b, 60, uint16_t(lba_capacity));        // total user-addressable sectors (LBA28)
  put_word(b, 61, uint16_t(lba_capacity >> 16));
  put_word(b, 64, 0x0003);                        // PIO modes 3 and 4
  for (unsigned w = 65; w <= 68; ++w) put_word(b, w, 120);  // minimum cycle times, ns
  put_word(b, 80, 0x007E);                        // major version: ATA-1 to ATA/ATAPI-6
  put_word(b, 82, 0x0000);
  put_word(b, 83, 0x5000);                        // bit 14 one; FLUSH CACHE supported
  put_word(b, 84, 0x4000);
  put_word(b, 86, 0x1000);                        // FLUSH CACHE enabled
  put_word(b, 87, 0x4000);
}

}  // namespace vs::devices
