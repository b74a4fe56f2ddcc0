// Block devices of the kernel model (docs/container-sim/cgroup-io.md): a
// disk is bytes the host provides (ContainerHost::set_disk), seen by
// processes through a block special file, /dev/disk, as the teaching
// kernel's /dev/disk is its ATA disk.
//
// The device is 8:0, "sda": Linux's sd driver owns block major 8
// (Documentation/admin-guide/devices.txt, "8 block SCSI disk devices"), and
// an ATA disk such as the teaching kernel's is an sd disk under libata; the
// first one is sda, 8:0. It is read-only, as the teaching kernel's is.
//
// A read(2) is served as the teaching kernel's disk_read_at() serves it
// (guest/kernel/disk.c): requests of whole 512-byte sectors, at most a page
// (8 sectors) each. One such request is one IO for the io controller: it
// counts once in io.stat's rios, with its sectors (not the bytes the
// caller asked for) in rbytes — as Linux counts bios and their sectors
// (blk_cgroup_bio_start). There is no page cache: every read goes to the
// device (Linux's buffered reads would find repeated blocks in the cache,
// and its readahead issues bigger requests; this is O_DIRECT's view).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vs::container_sim {

constexpr uint32_t kSectorSize = 512;
constexpr uint32_t kSectorsPerRequest = 8;  // one 4 KiB page, the teaching kernel's request size
constexpr uint32_t kDiskMajor = 8, kDiskMinor = 0;

struct BlockDevice {
  uint32_t major = kDiskMajor, minor = kDiskMinor;
  std::string name = "sda";
  std::shared_ptr<const std::vector<uint8_t>> bytes;  // whole sectors
  uint64_t size() const { return bytes ? bytes->size() : 0; }
};

// One request to the device: whole sectors from `first`, of which the
// caller gets `take` bytes starting `skip` bytes in.
struct BlockRequest {
  uint64_t first = 0;
  uint32_t sectors = 0, skip = 0, take = 0;
};

// The requests that serve a read of `n` bytes at byte `offset` (the caller
// has clamped n to the device's end), as disk_read_at() splits it.
std::vector<BlockRequest> plan_read(uint64_t offset, uint32_t n);

}  // namespace vs::container_sim
