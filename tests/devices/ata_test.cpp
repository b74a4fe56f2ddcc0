// ATA PIO channel (ATA/ATAPI-6) driven the way xv6's ide.c and bootmain.c
// drive it, plus the disk backends.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "virtscope/devices/ata.h"
#include "virtscope/devices/bus.h"

namespace vs::devices {
namespace {

using A = AtaController;

// Sector n is filled with bytes (n * 7 + i) & 0xFF: every sector differs.
std::vector<uint8_t> pattern_disk(uint64_t sectors) {
  std::vector<uint8_t> img(sectors * 512);
  for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t((i / 512) * 7 + i);
  return img;
}

struct IrqRecorder final : IrqSink {
  std::array<bool, 16> level{};
  int raises = 0;
  void set_irq(unsigned irq, bool l) override {
    if (irq >= 16) return;
    if (l && !level[irq]) ++raises;
    level[irq] = l;
  }
};

struct AtaTest : ::testing::Test {
  uint64_t now = 0;
  Scheduler scheduler{[this] { return now; }};
  IrqRecorder irqs;
  AtaController ata{"ide0", irqs, scheduler};
  MemoryDisk* master = nullptr;

  void SetUp() override {
    auto disk = std::make_unique<MemoryDisk>(pattern_disk(4096));
    master = disk.get();
    ata.attach(0, std::move(disk));
  }
  void out(uint16_t port, uint8_t v) { ata.write(port, 1, v); }
  uint8_t in(uint16_t port) { return uint8_t(ata.read(port, 1)); }
  bool irq() const { return irqs.level[14]; }
  // Let the pending command finish: the machine fires the "ide0" timer.
  void settle() {
    now = scheduler.next_deadline() == Scheduler::kNever ? now : scheduler.next_deadline();
    scheduler.run_due();
  }
  void lba28(uint8_t drive, uint32_t lba, uint8_t count) {
    out(0x1F2, count);
    out(0x1F3, uint8_t(lba));
    out(0x1F4, uint8_t(lba >> 8));
    out(0x1F5, uint8_t(lba >> 16));
    out(0x1F6, uint8_t(0xE0 | drive << 4 | ((lba >> 24) & 0x0F)));
  }
  std::vector<uint8_t> read_block(size_t bytes) {  // insw
    std::vector<uint8_t> b;
    for (size_t i = 0; i < bytes; i += 2) {
      const uint32_t w = ata.read(0x1F0, 2);
      b.push_back(uint8_t(w));
      b.push_back(uint8_t(w >> 8));
    }
    return b;
  }
  std::vector<uint8_t> sector_of(const std::vector<uint8_t>& img, uint64_t lba, unsigned n = 1) {
    return {img.begin() + lba * 512, img.begin() + (lba + n) * 512};
  }
};

TEST_F(AtaTest, PowerOn_DriveReadyWithSignature) {
  EXPECT_EQ(in(0x1F7), 0x50);
  EXPECT_EQ(in(0x1F1), 0x01);
  EXPECT_EQ(in(0x1F2), 1);
  EXPECT_EQ(in(0x1F3), 1);
  EXPECT_FALSE(irq());
}

TEST_F(AtaTest, Identify_ModelCapacityAndLbaAfterDelay) {
  out(0x1F6, 0xA0);
  out(0x1F7, 0xEC);
  EXPECT_EQ(in(0x1F7) & (A::kBsy | A::kDrq), A::kBsy);
  EXPECT_EQ(scheduler.name(0), "ide0");
  EXPECT_EQ(scheduler.deadline(0), A::kCommandDelay);
  EXPECT_FALSE(irq());
  settle();
  EXPECT_TRUE(irq());
  EXPECT_EQ(in(0x1F7), A::kDrdy | A::kDsc | A::kDrq);
  EXPECT_FALSE(irq());
  const std::vector<uint8_t> id = read_block(512);
  auto word = [&](unsigned w) { return uint16_t(id[2 * w] | id[2 * w + 1] << 8); };
  std::string model;
  for (unsigned w = 27; w < 47; ++w) {
    model += char(word(w) >> 8);
    model += char(word(w) & 0xFF);
  }
  EXPECT_EQ(model, "VIRTSCOPE HARDDISK                      ");
  EXPECT_EQ(word(60) | uint32_t(word(61)) << 16, 4096u);
  EXPECT_TRUE(word(49) & 0x0200);
  EXPECT_EQ(word(3), 16);
  EXPECT_EQ(word(6), 63);
  EXPECT_EQ(in(0x1F7), 0x50);  // DRQ gone after the last word
}

// bootmain.c readsect(): poll, then insl 128 dwords, sector by sector.
TEST_F(AtaTest, ReadLba28_TwoSectorsEachWithIrqThenReady) {
  const std::vector<uint8_t> img = pattern_disk(4096);
  lba28(0, 1000, 2);
  out(0x1F7, 0x20);
  settle();
  EXPECT_TRUE(irq());
  EXPECT_EQ(irqs.raises, 1);
  EXPECT_EQ(in(0x1F7) & 0xC9, A::kDrdy | A::kDrq);
  EXPECT_FALSE(irq());  // cleared by the status read
  EXPECT_EQ(read_block(512), sector_of(img, 1000));
  EXPECT_EQ(in(0x3F6) & A::kBsy, A::kBsy);  // next sector on its way
  settle();
  EXPECT_EQ(irqs.raises, 2);
  EXPECT_EQ(read_block(512), sector_of(img, 1001));
  EXPECT_EQ(in(0x1F7), 0x50);
  EXPECT_EQ(irqs.raises, 2);  // no interrupt at the end of a read
  EXPECT_EQ(in(0x1F3), uint8_t(1001));  // task file: last sector transferred
  EXPECT_EQ(in(0x1F2), 0);
}

TEST_F(AtaTest, DataPort32Bit_ReadsTwoWordsLowFirst) {
  const std::vector<uint8_t> img = pattern_disk(4096);
  lba28(0, 3, 1);
  out(0x1F7, 0x20);
  settle();
  std::vector<uint8_t> got;
  for (int i = 0; i < 128; ++i) {
    const uint32_t peeked = ata.peek(0x1F0, 4);
    const uint32_t d = ata.read(0x1F0, 4);
    EXPECT_EQ(peeked, d);
    for (int b = 0; b < 4; ++b) got.push_back(uint8_t(d >> (8 * b)));
  }
  EXPECT_EQ(got, sector_of(img, 3));
  EXPECT_EQ(in(0x1F7), 0x50);
}

// ide.c idestart for a dirty buffer: command, then outsl with no polling.
TEST_F(AtaTest, WriteLba28_DrqAtOnceThenIrqAfterStore) {
  lba28(0, 77, 1);
  out(0x3F6, 0);
  out(0x1F7, 0x30);
  EXPECT_EQ(in(0x1F7) & (A::kBsy | A::kDrq), A::kDrq);
  for (uint32_t i = 0; i < 128; ++i) ata.write(0x1F0, 4, 0xA5000000 | i);
  EXPECT_EQ(in(0x1F7) & A::kBsy, A::kBsy);
  EXPECT_EQ(master->image()[77 * 512], 77 * 7 % 256);  // not stored yet
  settle();
  EXPECT_TRUE(irq());
  EXPECT_EQ(in(0x1F7), 0x50);
  EXPECT_EQ(master->image()[77 * 512 + 0], 0x00);
  EXPECT_EQ(master->image()[77 * 512 + 3], 0xA5);
  EXPECT_EQ(master->image()[77 * 512 + 4 * 5], 5);
  EXPECT_EQ(master->image()[78 * 512], uint8_t(78 * 7));  // neighbour untouched
}

TEST_F(AtaTest, ChsRead_DefaultAndInitializedTranslation) {
  const std::vector<uint8_t> img = pattern_disk(4096);
  // C=1 H=2 S=3 with 16 heads x 63 sectors: LBA (1*16+2)*63+2 = 1136.
  out(0x1F2, 1);
  out(0x1F3, 3);
  out(0x1F4, 1);
  out(0x1F5, 0);
  out(0x1F6, 0xA2);
  out(0x1F7, 0x20);
  settle();
  EXPECT_EQ(read_block(512), sector_of(img, 1136));
  // INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors per track.
  out(0x1F2, 17);
  out(0x1F6, 0xA3);
  out(0x1F7, 0x91);
  settle();
  EXPECT_EQ(in(0x1F7), 0x50);
  out(0x1F2, 1);
  out(0x1F3, 3);
  out(0x1F4, 1);
  out(0x1F6, 0xA2);
  out(0x1F7, 0x20);
  settle();
  EXPECT_EQ(read_block(512), sector_of(img, (1 * 4 + 2) * 17 + 2));
  // Sector 0 does not exist in CHS: IDNF.
  out(0x1F2, 1);
  out(0x1F3, 0);
  out(0x1F6, 0xA0);
  out(0x1F7, 0x20);
  settle();
  EXPECT_EQ(in(0x1F7) & A::kErr, A::kErr);
  EXPECT_EQ(in(0x1F1), A::kIdnf);
}

TEST_F(AtaTest, MultipleMode_BlocksOfNSectorsOneIrqEach) {
  const std::vector<uint8_t> img = pattern_disk(4096);
  lba28(0, 10, 6);
  out(0x1F7, 0xC4);  // READ MULTIPLE before SET MULTIPLE MODE: aborted
  settle();
  EXPECT_EQ(in(0x1F7), 0x51);
  EXPECT_EQ(in(0x1F1), A::kAbrt);
  out(0x1F2, 3);  // not a power of two
  out(0x1F7, 0xC6);
  settle();
  EXPECT_EQ(in(0x1F1), A::kAbrt);
  out(0x1F2, 4);
  out(0x1F7, 0xC6);
  settle();
  EXPECT_EQ(in(0x1F7), 0x50);
  lba28(0, 10, 6);
  out(0x1F7, 0xC4);
  settle();
  EXPECT_EQ(read_block(4 * 512), sector_of(img, 10, 4));
  settle();
  EXPECT_EQ(read_block(2 * 512), sector_of(img, 14, 2));
  EXPECT_EQ(in(0x1F7), 0x50);
  // WRITE MULTIPLE: 5 sectors as a block of 4 and a block of 1.
  const int raises = irqs.raises;
  lba28(0, 200, 5);
  out(0x1F7, 0xC5);
  for (int i = 0; i < 4 * 256; ++i) ata.write(0x1F0, 2, 0x1111);
  settle();
  EXPECT_EQ(in(0x1F7) & A::kDrq, A::kDrq);
  for (int i = 0; i < 256; ++i) ata.write(0x1F0, 2, 0x2222);
  settle();
  EXPECT_EQ(in(0x1F7), 0x50);
  EXPECT_EQ(irqs.raises, raises + 2);
  EXPECT_EQ(master->image()[203 * 512], 0x11);
  EXPECT_EQ(master->image()[204 * 512], 0x22);
  EXPECT_EQ(master->image()[205 * 512], uint8_t(205 * 7));
}

TEST_F(AtaTest, Nien_SuppressesIrqAndAltStatusDoesNotClear) {
  out(0x3F6, A::kNien);
  lba28(0, 0, 1);
  out(0x1F7, 0x20);
  settle();
  EXPECT_FALSE(irq());
  EXPECT_TRUE(ata.drive(0).irq_pending);
  out(0x3F6, 0);  // interrupts enabled again: the pending one shows
  EXPECT_TRUE(irq());
  EXPECT_EQ(in(0x3F6) & A::kDrq, A::kDrq);
  EXPECT_TRUE(irq());
  ata.peek(0x1F7, 1);
  EXPECT_TRUE(irq());
  in(0x1F7);
  EXPECT_FALSE(irq());
}

// ide.c ideinit: select disk 1, poll status up to 1000 times for non-zero.
TEST_F(AtaTest, AbsentSlave_StatusZeroAndCommandsIgnored) {
  out(0x1F6, 0xE0 | 1 << 4);
  bool found = false;
  for (int i = 0; i < 1000 && !found; ++i) found = in(0x1F7) != 0;
  EXPECT_FALSE(found);
  EXPECT_EQ(in(0x3F6), 0);
  out(0x1F7, 0xEC);
  EXPECT_FALSE(scheduler.pending(0));
  EXPECT_EQ(in(0x1F7), 0);
  out(0x1F6, 0xE0);
  EXPECT_EQ(in(0x1F7), 0x50);

  ata.attach(1, std::make_unique<MemoryDisk>(std::vector<uint8_t>(512 * 100)));
  out(0x1F6, 0xE0 | 1 << 4);
  EXPECT_EQ(in(0x1F7), 0x50);
}

// The Machine's wiring: both port ranges on the port bus.
TEST_F(AtaTest, MappedOnPortBus_CommandAndControlBlocks) {
  PortBus bus;
  ASSERT_TRUE(bus.map(A::kPrimaryCommand, A::kPrimaryCommand + 7, ata));
  ASSERT_TRUE(bus.map(A::kPrimaryControl, A::kPrimaryControl, ata));
  bus.out(0x1F6, 1, 0xE0);
  bus.out(0x1F2, 1, 1);
  bus.out(0x1F3, 1, 2);
  bus.out(0x1F4, 1, 0);
  bus.out(0x1F5, 1, 0);
  bus.out(0x1F7, 1, 0x20);
  EXPECT_EQ(bus.in(0x3F6, 1), uint32_t(A::kBsy));
  settle();
  EXPECT_EQ(bus.in(0x1F7, 1), 0x58u);
  EXPECT_EQ(bus.in(0x1F0, 4), 0x11100F0Eu);  // sector 2 starts with byte 14
}

TEST_F(AtaTest, NoDrives_FloatingBusReadsFF) {
  ata.attach(0, nullptr);
  EXPECT_EQ(in(0x1F7), 0xFF);
  EXPECT_EQ(in(0x1F2), 0xFF);
  EXPECT_EQ(in(0x3F6), 0xFF);
}

TEST_F(AtaTest, OutOfRange_ErrIdnfWithIrq) {
  lba28(0, 4095, 2);  // the second sector is past the end
  out(0x1F7, 0x20);
  EXPECT_EQ(in(0x1F7) & A::kBsy, A::kBsy);
  settle();
  EXPECT_TRUE(irq());
  EXPECT_EQ(in(0x1F7), A::kDrdy | A::kDsc | A::kErr);
  EXPECT_EQ(in(0x1F1), A::kIdnf);
  lba28(0, 0x0FFFFFF, 1);
  out(0x1F7, 0x30);
  EXPECT_EQ(in(0x1F7) & A::kDrq, 0);  // no data phase for a bad address
  settle();
  EXPECT_EQ(in(0x1F1), A::kIdnf);
}

TEST_F(AtaTest, UnknownCommand_Aborts) {
  out(0x1F7, 0x24);  // READ SECTORS EXT: no LBA48
  settle();
  EXPECT_EQ(in(0x1F7), 0x51);
  EXPECT_EQ(in(0x1F1), A::kAbrt);
  out(0x1F7, 0xEF);  // SET FEATURES: accepted
  settle();
  EXPECT_EQ(in(0x1F7), 0x50);
}

TEST_F(AtaTest, SoftwareReset_BusyWhileHeldThenSignature) {
  lba28(0, 5, 1);
  out(0x1F7, 0x20);
  out(0x3F6, A::kSrst);
  EXPECT_EQ(in(0x1F7), A::kBsy);
  EXPECT_FALSE(scheduler.pending(0));
  out(0x3F6, 0);
  EXPECT_EQ(in(0x1F7), 0x50);
  EXPECT_EQ(in(0x1F1), 0x01);
  EXPECT_EQ(in(0x1F2), 1);
  EXPECT_EQ(in(0x1F4), 0);
  EXPECT_FALSE(irq());
}

TEST_F(AtaTest, RegisterWritesWhileBusy_Ignored) {
  lba28(0, 5, 1);
  out(0x1F7, 0x20);
  out(0x1F3, 99);
  EXPECT_EQ(in(0x1F3), 5);
}

TEST_F(AtaTest, Snapshot_MidTransferRoundTrip) {
  const std::vector<uint8_t> img = pattern_disk(4096);
  out(0x1F2, 4);
  out(0x1F7, 0xC6);
  settle();
  lba28(0, 40, 3);
  out(0x1F7, 0x20);
  settle();
  std::vector<uint8_t> first = read_block(256);  // half a sector
  StateWriter w;
  ata.save(w);

  uint64_t now2 = now;
  Scheduler sched2([&] { return now2; });
  IrqRecorder irqs2;
  AtaController copy("ide0", irqs2, sched2);
  copy.attach(0, std::make_unique<MemoryDisk>(pattern_disk(4096)));
  StateReader r(w.data());
  copy.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(irqs2.level[14]);  // the line is re-driven
  for (int i = 0; i < 128; ++i) {
    const uint32_t v = copy.read(0x1F0, 2);
    first.push_back(uint8_t(v));
    first.push_back(uint8_t(v >> 8));
  }
  EXPECT_EQ(first, sector_of(img, 40));
  EXPECT_TRUE(sched2.pending(0));  // BSY for the next sector
  now2 = sched2.next_deadline();
  sched2.run_due();
  EXPECT_EQ(copy.peek(0x1F7, 1), 0x58u);
}

TEST_F(AtaTest, MalformedSnapshot_RejectedAndDeviceUnchanged) {
  StateWriter w;
  ata.save(w);
  uint64_t now2 = 0;
  Scheduler sched2([&] { return now2; });
  IrqRecorder irqs2;
  AtaController other("ide0", irqs2, sched2);
  other.attach(0, std::make_unique<MemoryDisk>(pattern_disk(100)));  // different size
  other.write(0x1F3, 1, 0x42);
  StateReader r(w.data());
  other.load(r);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(other.peek(0x1F3, 1), 0x42u);

  std::vector<uint8_t> bad = w.data();
  bad[6] = 0x80;  // device control with an unknown bit
  StateReader r2(bad);
  ata.load(r2);
  EXPECT_FALSE(r2.ok());
  std::vector<uint8_t> cut(w.data().begin(), w.data().begin() + 30);
  StateReader r3(cut);
  ata.load(r3);
  EXPECT_FALSE(r3.ok());
  EXPECT_EQ(in(0x1F7), 0x50);
}

// Any guest port traffic leaves a state that snapshots accept.
TEST_F(AtaTest, RandomGuestWrites_StateAlwaysRoundTrips) {
  ata.attach(1, std::make_unique<MemoryDisk>(std::vector<uint8_t>(512 * 300)));
  const uint8_t commands[] = {0x20, 0x30, 0xC4, 0xC5, 0xC6, 0xEC, 0x91, 0x40, 0x90, 0xE7, 0xEF, 0x00, 0x10};
  uint32_t seed = 777;
  auto next = [&] { return seed = seed * 1103515245 + 12345; };
  for (int i = 0; i < 20000; ++i) {
    const uint32_t r = next(), v = next();
    const unsigned size = 1u << (r % 3);
    switch (r >> 28) {
      case 0: case 1: case 2: case 3: ata.write(0x1F0, size, v); break;
      case 4: case 5: ata.read(0x1F0, size); break;
      case 6: ata.write(0x1F7, 1, commands[v % sizeof commands]); break;
      case 7: ata.write(0x3F6, 1, v & 0x06 & (v >> 8)); break;  // SRST rarely
      case 8: ata.read(0x1F1 + (v % 7), size); break;
      case 9: case 10: ata.write(0x1F1 + (v % 6), 1, v >> 8); break;
      default: settle(); break;
    }
    if (i % 200) continue;
    StateWriter w;
    ata.save(w);
    uint64_t now2 = now;
    Scheduler sched2([&] { return now2; });
    IrqRecorder irqs2;
    AtaController copy("ide0", irqs2, sched2);
    copy.attach(0, std::make_unique<MemoryDisk>(pattern_disk(4096)));
    copy.attach(1, std::make_unique<MemoryDisk>(std::vector<uint8_t>(512 * 300)));
    StateReader rd(w.data());
    copy.load(rd);
    ASSERT_TRUE(rd.ok()) << i << ": " << rd.error();
    for (uint16_t port = 0x1F1; port <= 0x1F7; ++port) EXPECT_EQ(copy.peek(port, 1), ata.peek(port, 1));
  }
}

// ------------------------------------------------------------ backends ----

struct TempImage {
  std::string path;
  explicit TempImage(const std::vector<uint8_t>& bytes) {
    path = ::testing::TempDir() + "virtscope_ata_XXXXXX";
    const int fd = mkstemp(path.data());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    ::close(fd);
  }
  ~TempImage() { std::remove(path.c_str()); }
  std::vector<uint8_t> contents() const {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
  }
};

TEST(FileDisk, WritesReachTheFile_PartialLastSectorReadsZeros) {
  std::vector<uint8_t> bytes = pattern_disk(3);
  bytes.resize(3 * 512 + 100, 0x77);  // a ragged tail
  TempImage img(bytes);
  std::string err;
  auto disk = FileDisk::open(img.path, FileDisk::Writes::ToFile, &err);
  ASSERT_TRUE(disk) << err;
  EXPECT_EQ(disk->sectors(), 4u);
  std::vector<uint8_t> s(512);
  ASSERT_TRUE(disk->read_sectors(3, s));
  EXPECT_EQ(s[99], bytes[3 * 512 + 99]);
  EXPECT_EQ(s[100], 0);
  std::vector<uint8_t> ones(512, 0xEE);
  ASSERT_TRUE(disk->write_sectors(1, ones));
  EXPECT_EQ(img.contents()[512 + 17], 0xEE);
  EXPECT_FALSE(disk->read_sectors(4, s));
  EXPECT_NE(disk->error().find("beyond"), std::string::npos);
}

TEST(FileDisk, VolatileWritesStayInMemory) {
  const std::vector<uint8_t> bytes = pattern_disk(8);
  TempImage img(bytes);
  std::string err;
  auto disk = FileDisk::open(img.path, FileDisk::Writes::Volatile, &err);
  ASSERT_TRUE(disk) << err;
  std::vector<uint8_t> ones(1024, 0xEE), back(1536);
  ASSERT_TRUE(disk->write_sectors(2, ones));
  ASSERT_TRUE(disk->read_sectors(1, back));
  EXPECT_EQ(back[0], bytes[512]);
  EXPECT_EQ(back[512], 0xEE);
  EXPECT_EQ(back[1024 + 511], 0xEE);
  EXPECT_EQ(img.contents(), bytes);
  EXPECT_EQ(disk->overlay_sectors(), 2u);
}

TEST(FileDisk, MissingFile_ReportsPathAndReason) {
  std::string err;
  auto disk = FileDisk::open("/nonexistent/virtscope.img", FileDisk::Writes::ToFile, &err);
  EXPECT_FALSE(disk);
  EXPECT_NE(err.find("/nonexistent/virtscope.img"), std::string::npos);
  EXPECT_NE(err.find("No such file"), std::string::npos);
}

TEST(FileDisk, AttachedToController_GuestWriteLandsInImage) {
  TempImage img(std::vector<uint8_t>(512 * 16, 0));
  std::string err;
  auto disk = FileDisk::open(img.path, FileDisk::Writes::ToFile, &err);
  ASSERT_TRUE(disk) << err;
  uint64_t now = 0;
  Scheduler scheduler([&] { return now; });
  IrqRecorder irqs;
  AtaController ata("ide0", irqs, scheduler);
  ata.attach(1, std::move(disk));
  ata.write(0x1F2, 1, 1);
  ata.write(0x1F3, 1, 9);
  ata.write(0x1F4, 1, 0);
  ata.write(0x1F5, 1, 0);
  ata.write(0x1F6, 1, 0xF0);  // drive 1, LBA
  ata.write(0x1F7, 1, 0x30);
  for (int i = 0; i < 256; ++i) ata.write(0x1F0, 2, 0xBEEF);
  now = scheduler.next_deadline();
  scheduler.run_due();
  EXPECT_TRUE(irqs.level[14]);
  const std::vector<uint8_t> c = img.contents();
  EXPECT_EQ(c[9 * 512], 0xEF);
  EXPECT_EQ(c[9 * 512 + 1], 0xBE);
  EXPECT_EQ(c[8 * 512], 0);
}

}  // namespace
}  // namespace vs::devices
