// Block devices (blockdev.h): the disk the host gives, its device node, and
// the read path through the io controller (cgroup_io.h): a read waits —
// the process blocks in virtual time, as nanosleep does — until io.max
// of its cgroup and of every ancestor allows it, then is served and
// counted in io.stat.
#include <algorithm>

#include "cgroup_io.h"
#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr uint64_t kNsPerInstruction = 10;  // virtual time: one instruction is 10 ns
}

std::vector<BlockRequest> plan_read(uint64_t offset, uint32_t n) {
  // disk_read_at() (guest/kernel/disk.c): from the sector holding `offset`,
  // as many whole sectors as the rest needs, a page of them at most.
  std::vector<BlockRequest> out;
  for (uint32_t done = 0; done < n;) {
    BlockRequest r;
    r.first = offset / kSectorSize;
    r.skip = uint32_t(offset % kSectorSize);
    const uint32_t want = n - done;
    r.sectors = std::min<uint32_t>((r.skip + want + kSectorSize - 1) / kSectorSize, kSectorsPerRequest);
    r.take = std::min(r.sectors * kSectorSize - r.skip, want);
    out.push_back(r);
    done += r.take;
    offset += r.take;
  }
  return out;
}

bool Kernel::set_disk(std::vector<uint8_t> image, std::string& error) {
  if (image.empty() || image.size() % kSectorSize != 0 || image.size() > UINT32_MAX) {
    error = "a disk image is a whole number of 512-byte sectors, below 4 GiB (this one is " +
            std::to_string(image.size()) + " bytes)";
    return false;
  }
  auto bytes = std::make_shared<const std::vector<uint8_t>>(std::move(image));
  for (BlockDevice& d : block_devices_)
    if (d.major == kDiskMajor && d.minor == kDiskMinor) {
      d.bytes = std::move(bytes);  // a new medium in the same drive
      return true;
    }
  // The node: a block special file, root's, mode 0660 (udev's default for
  // disks: owner root, group disk; here group 0).
  PathRef at;
  if (init_ns_.mnt->mounts.resolve("/dev/disk", at) == 0) {
    error = "/dev/disk already exists";
    return false;
  }
  if (!init_ns_.mnt->mounts.add_file("/dev/disk", std::make_shared<const std::vector<uint8_t>>(), error)) return false;
  if (const int e = init_ns_.mnt->mounts.resolve("/dev/disk", at)) {
    error = "/dev/disk: cannot be made (" + std::to_string(-e) + ")";
    return false;
  }
  at.inode->type = Inode::Type::BlockDevice;
  at.inode->rdev_major = kDiskMajor;
  at.inode->rdev_minor = kDiskMinor;
  at.inode->mode = 0660;
  BlockDevice d;
  d.bytes = std::move(bytes);
  block_devices_.push_back(std::move(d));
  return true;
}

const BlockDevice* Kernel::block_device(uint32_t major, uint32_t minor) const {
  for (const BlockDevice& d : block_devices_)
    if (d.major == major && d.minor == minor) return &d;
  return nullptr;
}

int Kernel::block_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out) {
  const Inode& node = *at.inode;
  const bool write = (flags & kO_ACCMODE) != 0;
  if (const int e = may_access(p, node.uid, node.gid, node.mode, write ? 6 : 4, false)) return e;
  // blkdev_open(): a node whose device has no driver is ENXIO; a read-only
  // disk refuses an open for writing (bdev_permission(): EACCES).
  if (!block_device(node.rdev_major, node.rdev_minor)) return -kENXIO;
  if (write) return -kEACCES;
  out = std::make_shared<OpenFile>(OpenFile::Kind::BlockDevice);
  out->inode = at.inode;
  return 0;
}

SysResult Kernel::block_read(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n) {
  const BlockDevice* d = block_device(f.inode->rdev_major, f.inode->rdev_minor);
  if (!d) return SysResult::done(-kENXIO);
  if (f.offset >= d->size()) return SysResult::done(0);  // the end of the device
  const uint32_t want = uint32_t(std::min<uint64_t>(n, d->size() - f.offset));
  const std::vector<BlockRequest> requests = plan_read(f.offset, want);
  const IoDevice dev{d->major, d->minor};
  uint64_t bytes = 0;
  std::vector<uint32_t> sizes;
  for (const BlockRequest& r : requests) {
    sizes.push_back(r.sectors * kSectorSize);
    bytes += r.sectors * kSectorSize;
  }
  if (!p.sleeping) {
    // A new read: io.max decides when its requests may go (cgroup_io.h).
    // Over the budget it waits — blocked until that virtual time, the
    // scheduler's nanosleep deadline (Process::wake_at), so an idle CPU
    // skips ahead to it — and never fails (cgroup-v2.rst "IO Interface Files").
    const uint64_t now_ns = now() * kNsPerInstruction;
    Cgroup* limiter = nullptr;
    const uint64_t go = io_throttle(*p.cgroup, dev, false, sizes, now_ns, &limiter);
    if (go > now_ns) {
      const uint64_t delay = go - now_ns;
      if (log_.wants(trace::EventKind::CgroupThrottle))
        log_.emit(trace::EventKind::CgroupThrottle, time(), kCgIo, limiter->id, delay, p.pid());
      p.wake_at = (go + kNsPerInstruction - 1) / kNsPerInstruction;
      p.sleeping = true;
      return SysResult::block();
    }
  } else if (now() < p.wake_at) {
    return SysResult::block();
  }
  p.sleeping = false;
  // Served: the device did the requests, whether or not the copy works.
  io_account(*p.cgroup, dev, false, bytes, requests.size());
  if (log_.wants(trace::EventKind::CgroupCharge)) {
    Cgroup& owner = io_owner(*p.cgroup);
    const IoStat& s = owner.io.stat[dev];
    log_.emit(trace::EventKind::CgroupCharge, time(), kCgIo, owner.id, bytes, s.rbytes + s.wbytes);
  }
  const uint8_t* data = d->bytes->data() + f.offset;
  uint32_t copied = 0;
  for (const BlockRequest& r : requests) {
    if (p.mm->copy_out(ubuf + copied, data + copied, r.take) < 0) {
      f.offset += copied;
      return SysResult::done(copied ? int32_t(copied) : -kEFAULT);
    }
    copied += r.take;
  }
  f.offset += copied;
  return SysResult::done(int32_t(copied));
}

}  // namespace vs::container_sim
