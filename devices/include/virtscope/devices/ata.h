// One ATA channel with up to two hard disks, driven by PIO (ATA/ATAPI-6,
// ANSI INCITS 361-2002: §6 register/protocol behaviour, §8 commands, §9
// protocols PIO data-in/data-out/non-data; OSDev wiki "ATA PIO Mode").
// The primary channel: command block 0x1F0-0x1F7, control block 0x3F6
// (read: alternate status; write: device control), IRQ 14.
//
// Model:
//  - One task file (features, sector count, LBA low/mid/high, device/head)
//    shared by both drives: real drives both latch every write to it, so one
//    copy is equivalent. Status, error, the data buffer and the transfer
//    state are per drive.
//  - Every command completes after kCommandDelay virtual instructions through
//    the scheduler timer named after the device ("ide0"): BSY until then, then
//    DRQ (data to transfer) or DRDY, and INTRQ unless nIEN. Writes are the
//    exception the PIO data-out protocol makes: DRQ for the first block is
//    set at once (xv6 writes the data right after the command without
//    polling), each written block then takes kCommandDelay, ending in an
//    interrupt. Disk I/O happens only at those completions.
//  - Reading Status clears the selected drive's pending interrupt; reading
//    Alternate Status does not; writing Command clears it too.
//  - Absent drives (ATA-6: device 0 answers Status reads for an absent
//    device 1 with 0x00; OSDev "ATA PIO Mode", detection: status 0 means no
//    drive, 0xFF a floating bus): when the selected drive is absent and the
//    other present, Status and Alternate Status read 0x00, Error reads 0, the
//    task file reads back as written, and commands other than EXECUTE DEVICE
//    DIAGNOSTIC are ignored; xv6's "inb(0x1f7) != 0" probe then reports no
//    disk 1. With no drive at all every register reads 0xFF and writes do
//    nothing. (Absent device 0 with device 1 present is treated the same
//    way, although real buses differ there.)
//  - Addresses: LBA28 (device/head bit 6) or CHS through the current
//    translation, 16 heads x 63 sectors per track by default, changed by
//    INITIALIZE DEVICE PARAMETERS. A range beyond the disk ends the command
//    with ERR and IDNF. After each transferred block the task file holds the
//    address of the last sector transferred and the sectors still to go.
//  - Data port: 16-bit accesses move one word; 32-bit accesses two words
//    (low word first); 8-bit accesses move one word and return its low byte.
//    Data-port accesses without DRQ read 0xFFFF and are ignored on write.
//  - Writes to command block registers while the selected drive is BSY are
//    ignored (the host must not make them, ATA-6 §6.2); a command written
//    while DRQ is set abandons the transfer in progress.
//  - Software reset (SRST in device control): while set both drives are BSY;
//    clearing it finishes the reset at once: DRDY, error 0x01, the ATA
//    signature (count 1, LBA 1/0/0) and device 0 selected. Multiple mode and
//    the CHS translation survive it (ATA-6 §9.2).
//
// Commands: READ SECTORS (0x20/0x21), READ MULTIPLE (0xC4), WRITE SECTORS
// (0x30/0x31), WRITE MULTIPLE (0xC5), SET MULTIPLE MODE (0xC6, powers of two
// up to 16), IDENTIFY DEVICE (0xEC), INITIALIZE DEVICE PARAMETERS (0x91),
// SET FEATURES (0xEF, every feature accepted and ignored), FLUSH CACHE (0xE7),
// READ VERIFY SECTORS (0x40/0x41), EXECUTE DEVICE DIAGNOSTIC (0x90),
// RECALIBRATE (0x1x), SEEK (0x7x), CHECK POWER MODE (0xE5, always active), the
// idle/standby/sleep commands (0xE0-0xE3, 0xE6: accepted, no power states).
// Everything else aborts (ERR, ABRT).
//
// Not modelled: LBA48 commands, DMA (and the PCI bus master), ATAPI, the
// drive address register 0x3F7, power states, write caching (FLUSH CACHE has
// nothing to flush: every write reached the backend when its block ended),
// seek and rotation timing (every block costs kCommandDelay).
//
// Snapshots hold the registers, the per-drive transfer state and the data
// buffer, never disk contents: the disk is the image file (or, for volatile
// backends, whatever the Machine decides to keep). load() rejects a snapshot
// taken with a different disk size or drive presence.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "virtscope/devices/device.h"
#include "virtscope/devices/scheduler.h"

namespace vs::devices {

// The storage behind one drive: whole 512-byte sectors.
class BlockBackend {
 public:
  static constexpr uint32_t kSectorSize = 512;
  virtual ~BlockBackend() = default;
  virtual uint64_t sectors() const = 0;
  // `out`/`in` hold a whole number of sectors starting at `lba`. On failure
  // they return false and error() says why in one line.
  virtual bool read_sectors(uint64_t lba, std::span<uint8_t> out) = 0;
  virtual bool write_sectors(uint64_t lba, std::span<const uint8_t> in) = 0;
  // Whether writes reach durable storage (a file) or stay in host memory.
  virtual bool volatile_writes() const = 0;
  const std::string& error() const { return error_; }

 protected:
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }
  bool in_range(uint64_t lba, size_t bytes);  // fails with a reason if not

 private:
  std::string error_;
};

// A disk image in host memory (tests, generated disks). The image is padded
// with zeros to whole sectors.
class MemoryDisk final : public BlockBackend {
 public:
  explicit MemoryDisk(std::vector<uint8_t> image);
  uint64_t sectors() const override { return image_.size() / kSectorSize; }
  bool read_sectors(uint64_t lba, std::span<uint8_t> out) override;
  bool write_sectors(uint64_t lba, std::span<const uint8_t> in) override;
  bool volatile_writes() const override { return true; }
  const std::vector<uint8_t>& image() const { return image_; }

 private:
  std::vector<uint8_t> image_;
};

// A raw image file (QEMU "raw" format) read and written with pread/pwrite.
// A file whose size is not a multiple of 512 reads as if padded with zeros;
// writing its last sector extends it. Writes::Volatile opens the file
// read-only and keeps written sectors in memory (QEMU's -snapshot).
class FileDisk final : public BlockBackend {
 public:
  enum class Writes : uint8_t { ToFile, Volatile };
  // nullptr and a one-line *error when the file cannot be used.
  static std::unique_ptr<FileDisk> open(const std::string& path, Writes writes, std::string* error);
  ~FileDisk() override;
  FileDisk(const FileDisk&) = delete;
  FileDisk& operator=(const FileDisk&) = delete;

  uint64_t sectors() const override { return sectors_; }
  bool read_sectors(uint64_t lba, std::span<uint8_t> out) override;
  bool write_sectors(uint64_t lba, std::span<const uint8_t> in) override;
  bool volatile_writes() const override { return writes_ == Writes::Volatile; }
  const std::string& path() const { return path_; }
  size_t overlay_sectors() const { return overlay_.size(); }

 private:
  FileDisk(int fd, std::string path, Writes writes, uint64_t sectors)
      : fd_(fd), path_(std::move(path)), writes_(writes), sectors_(sectors) {}
  bool read_file(uint64_t lba, std::span<uint8_t> out);

  int fd_;
  std::string path_;
  Writes writes_;
  uint64_t sectors_;
  std::map<uint64_t, std::array<uint8_t, kSectorSize>> overlay_;  // volatile writes by LBA
};

// One drive's registers and transfer state. Plain, for the UI.
struct AtaDrive {
  enum class Transfer : uint8_t { None, ToHost, FromHost };  // PIO data-in / data-out with DRQ
  // What the controller does when the "ide0" timer fires.
  enum class Phase : uint8_t { None, ReadBlock, WriteBlock, Identify, Finish, Diagnostic };
  static constexpr uint8_t kPhaseLast = uint8_t(Phase::Diagnostic);
  static constexpr unsigned kMaxMultiple = 16;  // sectors per READ/WRITE MULTIPLE block

  std::unique_ptr<BlockBackend> disk;  // null: no drive
  uint8_t status = 0;                  // BSY DRDY DF DSC DRQ CORR IDX ERR
  uint8_t error = 0;                   // ICRC UNC MC IDNF MCR ABRT TK0NF AMNF
  uint8_t command = 0;                 // the command in progress / last run
  Transfer transfer = Transfer::None;
  Phase phase = Phase::None;
  uint8_t finish_error = 0;            // Phase::Finish: error register to post (0 = success)
  uint64_t lba = 0;                    // next sector to transfer
  uint32_t remaining = 0;              // sectors left in the command
  uint8_t block = 1;                   // sectors per DRQ block of this command
  uint8_t multiple = 0;                // SET MULTIPLE MODE block size; 0 = disabled
  uint8_t heads = 16, sectors_per_track = 63;  // current CHS translation
  bool irq_pending = false;            // INTRQ wanted (until Status is read)
  uint32_t pos = 0, len = 0;           // data buffer cursor and size of the DRQ block, bytes
  std::array<uint8_t, kMaxMultiple * 512> buffer{};
};

class AtaController final : public Device {
 public:
  static constexpr uint16_t kPrimaryCommand = 0x1F0, kPrimaryControl = 0x3F6;
  static constexpr unsigned kPrimaryIrq = 14;
  // Virtual instructions per command or data block (10 µs at 100 MIPS).
  static constexpr uint64_t kCommandDelay = 1000;
  static constexpr uint8_t kDefaultHeads = 16, kDefaultSectorsPerTrack = 63;

  // Status and error bits (ATA-6 §7.15, §7.9).
  static constexpr uint8_t kBsy = 0x80, kDrdy = 0x40, kDf = 0x20, kDsc = 0x10, kDrq = 0x08, kErr = 0x01;
  static constexpr uint8_t kUnc = 0x40, kIdnf = 0x10, kAbrt = 0x04;
  // Device control bits (ATA-6 §7.8).
  static constexpr uint8_t kNien = 0x02, kSrst = 0x04;

  // The timer is named `name` ("ide0"). Ports: command..command+7 and
  // `control` (the Machine maps both ranges to this device).
  AtaController(std::string_view name, IrqSink& irqs, Scheduler& scheduler, uint16_t command = kPrimaryCommand,
                uint16_t control = kPrimaryControl, unsigned irq = kPrimaryIrq);

  // Drive 0 (master) or 1 (slave); null removes it. Resets that drive.
  void attach(unsigned drive, std::unique_ptr<BlockBackend> disk);
  BlockBackend* disk(unsigned drive) const { return drive < 2 ? drives_[drive].disk.get() : nullptr; }

  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // For the UI and the Machine.
  const AtaDrive& drive(unsigned which) const { return drives_[which & 1]; }
  unsigned selected() const { return (select_ >> 4) & 1; }
  uint8_t device_control() const { return control_; }
  bool irq_line() const { return irq_level_; }
  // The last backend I/O failure ("" if none): the guest saw ERR, the host
  // wants the reason.
  const std::string& last_error() const { return last_error_; }
  // Default CHS geometry for a disk of `sectors` (cylinders capped at 16383).
  static uint32_t default_cylinders(uint64_t sectors);

 private:
  AtaDrive& sel() { return drives_[selected()]; }
  const AtaDrive& sel() const { return drives_[selected()]; }
  bool any_present() const { return drives_[0].disk || drives_[1].disk; }
  uint8_t read_register(uint16_t port, bool side_effects);
  uint8_t peek_register(uint16_t port) const;
  void write_register(uint16_t port, uint8_t value);
  uint16_t read_data(bool advance);
  void write_data(uint16_t word);
  void write_control(uint8_t value);

  // Commands (ata.cpp) and their completions.
  void execute(uint8_t command);
  bool decode_address(const AtaDrive& d, uint64_t& lba) const;  // task file -> LBA; false if CHS invalid
  bool decode_range(const AtaDrive& d, uint64_t& lba, uint32_t count) const;  // ... and within the disk
  uint32_t sector_count() const { return nsector_ ? nsector_ : 256; }
  bool begin_transfer(AtaDrive& d, uint8_t block);
  void start_read(AtaDrive& d, uint8_t block);
  void start_write(AtaDrive& d, uint8_t block);
  void start_phase(AtaDrive& d, AtaDrive::Phase phase, uint8_t finish_error = 0);
  void on_timer();
  void complete(unsigned which);
  void read_block(AtaDrive& d);
  void write_block(AtaDrive& d);
  void end_data_in_block(AtaDrive& d);
  void finish(AtaDrive& d, uint8_t error);
  void fill_identify(unsigned which);
  void set_address(const AtaDrive& d, uint64_t lba);  // task file <- last sector transferred
  void set_signature();
  void raise(AtaDrive& d);
  void update_irq();

  IrqSink& irqs_;
  Scheduler& scheduler_;
  Scheduler::Id timer_;
  uint16_t command_base_, control_port_;
  unsigned irq_;

  // Task file (ATA-6 §7): written by the host, shared by both drives.
  uint8_t features_ = 0;
  uint8_t nsector_ = 0;   // sector count
  uint8_t sector_ = 0;    // LBA 7:0 / CHS sector number
  uint8_t lcyl_ = 0;      // LBA 15:8 / cylinder low
  uint8_t hcyl_ = 0;      // LBA 23:16 / cylinder high
  uint8_t select_ = 0;    // device/head: bit 6 LBA, bit 4 DEV, bits 3:0 head / LBA 27:24
  uint8_t control_ = 0;   // device control: nIEN, SRST
  uint64_t deadline_ = Scheduler::kNever;  // when the "ide0" timer fires
  std::array<AtaDrive, 2> drives_;
  bool irq_level_ = false;
  std::string last_error_;
};

}  // namespace vs::devices
