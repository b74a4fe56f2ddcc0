// /dev/disk: the machine's first disk read as a stream of bytes (like
// Linux's /dev/sda opened read-only), through pv.disk_read. Natively that
// is the ATA driver below: PIO on the primary channel's master drive, the
// one QEMU's -hda attaches, polling the status register (ATA-6 §9.5, the
// "PIO data-in" protocol) so that it needs no interrupt. Under a
// hypervisor it is a request on a block ring (pvops_pv.c).
#include "kernel.h"
#include "pvops.h"

#define ATA_DATA 0x1F0
#define ATA_COUNT 0x1F2
#define ATA_LBA0 0x1F3
#define ATA_LBA1 0x1F4
#define ATA_LBA2 0x1F5
#define ATA_DEVICE 0x1F6  // bit 6 LBA, bits 3:0 LBA 27:24
#define ATA_STATUS 0x1F7  // reads status, writes the command
#define ATA_READ_SECTORS 0x20
#define ST_BSY 0x80
#define ST_DRQ 0x08
#define ST_ERR 0x01

// Waits for the drive to leave BSY; the status it then shows.
static int ata_status(void) {
  for (;;) {
    uint8_t st = pv.inb(ATA_STATUS);
    if (st == 0xFF || st == 0x00) return -ENODEV;  // a floating bus, or no drive 0
    if (!(st & ST_BSY)) return st;
  }
}

int ata_read(uint32_t sector, uint32_t count, void* buffer) {
  if (count == 0 || count > 256 || sector >= (1u << 28)) return -EIO;
  int st = ata_status();
  if (st < 0) return st;
  pv.outb(ATA_DEVICE, (uint8_t)(0xE0 | ((sector >> 24) & 0x0F)));
  pv.outb(ATA_COUNT, (uint8_t)count);  // 0 would mean 256
  pv.outb(ATA_LBA0, (uint8_t)sector);
  pv.outb(ATA_LBA1, (uint8_t)(sector >> 8));
  pv.outb(ATA_LBA2, (uint8_t)(sector >> 16));
  pv.outb(ATA_STATUS, ATA_READ_SECTORS);
  uint16_t* words = buffer;
  for (uint32_t s = 0; s < count; s++) {
    st = ata_status();
    if (st < 0) return st;
    if ((st & ST_ERR) || !(st & ST_DRQ)) return -EIO;
    for (int i = 0; i < 256; i++) *words++ = pv.inw(ATA_DATA);
  }
  return 0;
}

// A page at a time through a kernel buffer: whole sectors from the disk,
// the wanted bytes to the user. Returns the bytes read, or the error.
int disk_read_at(uint32_t* offset, uint32_t ubuf, uint32_t n) {
  static uint8_t buffer[PAGE_SIZE];
  uint32_t done = 0;
  while (done < n) {
    uint32_t first = *offset / SECTOR_SIZE, skip = *offset % SECTOR_SIZE;
    uint32_t want = n - done;
    uint32_t sectors = (skip + want + SECTOR_SIZE - 1) / SECTOR_SIZE;
    if (sectors > PAGE_SIZE / SECTOR_SIZE) sectors = PAGE_SIZE / SECTOR_SIZE;
    int r = pv.disk_read(first, sectors, buffer);
    if (r < 0) return done ? (int)done : r;
    uint32_t k = sectors * SECTOR_SIZE - skip;
    if (k > want) k = want;
    if (copy_to_user(ubuf + done, buffer + skip, k) < 0) return done ? (int)done : -EFAULT;
    done += k;
    *offset += k;
  }
  return (int)done;
}
