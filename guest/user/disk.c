/* disk N [PATH]: block I/O. Reads the first N 512-byte sectors of the
 * machine's disk (/dev/disk, or PATH) in 4 KiB reads and prints their
 * FNV-1a checksum. Natively every sector is 256 `in` instructions of the
 * ATA driver; under a paravirtual kernel one request on a block ring. */
#include <fcntl.h>

#include "workload.h"

#define SECTOR 512u
#define CHUNK 4096u

int main(int argc, char **argv) {
  const char *path = argc == 3 ? argv[2] : "/dev/disk";
  uint32_t n = workload_count(argc == 3 ? 2 : argc, argv, "disk", 1u << 20);
  int fd = open(path, O_RDONLY);
  if (fd < 0) workload_fail("disk", "open");
  static uint8_t buf[CHUNK];
  uint32_t hash = 2166136261u; /* FNV-1a, 32 bits */
  for (uint32_t left = n * SECTOR; left > 0;) {
    uint32_t want = left < CHUNK ? left : CHUNK;
    int got = (int)read(fd, buf, want);
    if (got < 0) workload_fail("disk", "read");
    if (got == 0) workload_wrong("disk", "the disk ends before N sectors");
    for (int i = 0; i < got; i++) hash = (hash ^ buf[i]) * 16777619u;
    left -= (uint32_t)got;
  }
  close(fd);
  printf("disk: %u sectors, checksum 0x%08x\n", n, hash);
  return 0;
}
