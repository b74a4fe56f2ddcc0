#include "frame_table.h"

#include <cerrno>

namespace vs::vmm {

namespace {
constexpr uint32_t kP = 1, kRw = 2, kPs = 0x80;
}

FrameTable::FrameTable(uint8_t* ram, uint32_t base, uint32_t bytes, uint32_t hypervisor_pde)
    : ram_(ram), base_(base), bytes_(bytes), hypervisor_pde_(hypervisor_pde), frames_(bytes / 0x1000) {}

FrameTable::Frame* FrameTable::frame(uint32_t machine) {
  if (machine < base_ || machine - base_ >= bytes_) return nullptr;
  return &frames_[(machine - base_) >> 12];
}

bool FrameTable::is(uint32_t machine, Type type) const {
  if (machine < base_ || machine - base_ >= bytes_) return false;
  return frames_[(machine - base_) >> 12].type == type;
}

int FrameTable::fail(int err, std::string why) {
  error_ = std::move(why);
  return -err;
}

// An entry of a table of type `table` (at machine frame `self`): a page
// table entry may map any frame of the domain, but a table frame only
// read-only; a directory entry must point to a pinned page table (no 4 MiB
// pages) and may not use the hypervisor's slot.
int FrameTable::check_entry(Type table, uint32_t self, unsigned index, uint32_t value) {
  if (table == Type::L2 && index == kHypervisorSlot) return fail(EPERM, "directory entry 1023 is the hypervisor's");
  if (!(value & kP)) return 0;
  const uint32_t target = value & ~0xFFFu;
  const Frame* t = frame(target);
  if (!t) return fail(EPERM, "the entry maps a frame outside the domain");
  if (table == Type::L1) {
    const bool table_frame = t->type != Type::Writable || target == self;
    if ((value & kRw) && table_frame) return fail(EPERM, "a writable mapping of a page-table frame");
    return 0;
  }
  if (value & kPs) return fail(EINVAL, "4 MiB pages are not supported");
  if (t->type != Type::L1) return fail(EINVAL, "a directory entry must point to a pinned page table");
  return 0;
}

void FrameTable::reference(Type table, uint32_t value, int delta) {
  if (!(value & kP)) return;
  Frame* t = frame(value & ~0xFFFu);
  if (!t) return;
  if (table == Type::L1 && (value & kRw)) t->writable_maps += delta;
  if (table == Type::L2) t->directory_refs += delta;
}

int FrameTable::pin(uint32_t machine, Type type) {
  Frame* f = frame(machine);
  if (!f || type == Type::Writable) return fail(EINVAL, "not a frame of the domain");
  if (f->type != Type::Writable) return fail(EBUSY, "the frame is already pinned");
  if (f->writable_maps) return fail(EBUSY, "the frame is still mapped writable");
  uint32_t* e = entries(machine);
  const unsigned n = type == Type::L2 ? kHypervisorSlot : 1024;
  for (unsigned i = 0; i < n; ++i)
    if (int r = check_entry(type, machine & ~0xFFFu, i, e[i])) return r;
  f->type = type;
  for (unsigned i = 0; i < n; ++i) reference(type, e[i], +1);
  // Every directory maps the hypervisor (Xen's top 64 MiB; here 4 MiB).
  if (type == Type::L2) e[kHypervisorSlot] = hypervisor_pde_;
  return 0;
}

int FrameTable::unpin(uint32_t machine, uint32_t loaded_directory) {
  Frame* f = frame(machine);
  if (!f || f->type == Type::Writable) return fail(EINVAL, "the frame is not pinned");
  if (f->directory_refs) return fail(EBUSY, "a pinned directory still points to this page table");
  if ((machine & ~0xFFFu) == (loaded_directory & ~0xFFFu)) return fail(EBUSY, "the directory is loaded (CR3)");
  uint32_t* e = entries(machine);
  const unsigned n = f->type == Type::L2 ? kHypervisorSlot : 1024;
  for (unsigned i = 0; i < n; ++i) reference(f->type, e[i], -1);
  if (f->type == Type::L2) e[kHypervisorSlot] = 0;
  f->type = Type::Writable;
  return 0;
}

int FrameTable::update(uint32_t entry_machine, uint32_t value) {
  if (entry_machine & 3) return fail(EINVAL, "only MMU_NORMAL_PT_UPDATE requests (ptr bits 1:0 = 0)");
  Frame* f = frame(entry_machine);
  if (!f || f->type == Type::Writable) return fail(EINVAL, "the entry is not in a pinned page table");
  const unsigned index = (entry_machine & 0xFFF) / 4;
  if (int r = check_entry(f->type, entry_machine & ~0xFFFu, index, value)) return r;
  uint32_t& slot = entries(entry_machine)[index];
  reference(f->type, slot, -1);
  slot = value;
  reference(f->type, value, +1);
  return 0;
}

}  // namespace vs::vmm
