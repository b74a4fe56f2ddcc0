// The pv VMM's device backends, Xen's split drivers reduced to the
// hypervisor's side (Barham et al. 2003 §3.2: data moves through rings in
// shared memory, notifications are events): the console and the disk.
#include <cerrno>
#include <cstring>

#include "pv_monitor.h"

namespace vs::vmm {

// The console backend: everything the guest produced goes to the VM's
// console output. A ring whose indices make no sense is emptied.
void PvMonitor::drain_console() {
  auto* ring = reinterpret_cast<pv_console_ring*>(host_.memory.ram() + host_.guest_base() + console_gpa_);
  const uint32_t prod = ring->out_prod;
  if (prod - ring->out_cons > sizeof ring->out) ring->out_cons = prod;
  record_io_request(host_, stats_, console_port_, prod - ring->out_cons, false);
  for (; ring->out_cons != prod; ++ring->out_cons)
    if (host_.serial_out) host_.serial_out(uint8_t(ring->out[ring->out_cons % sizeof ring->out]));
}

// The block backend: every request the guest queued, checked (the sectors
// on the disk, the buffer in the domain's memory), served by copying the
// sectors into the buffer, answered on the ring; then one event back.
void PvMonitor::serve_block_ring() {
  auto* ring = reinterpret_cast<pv_blk_ring*>(host_.memory.ram() + host_.guest_base() + kBlkRingGpa);
  const uint32_t prod = ring->req_prod;
  if (prod - blk_req_cons_ > PV_BLK_RING_SIZE) blk_req_cons_ = prod - PV_BLK_RING_SIZE;  // a guest that overran its ring
  const std::vector<uint8_t>* disk = host_.disk.get();
  const uint64_t sectors = disk ? disk->size() / 512 : 0;
  for (; blk_req_cons_ != prod; ++blk_req_cons_) {
    const pv_blk_request q = ring->req[blk_req_cons_ % PV_BLK_RING_SIZE];
    const uint64_t bytes = uint64_t(q.count) * 512;
    const bool valid = q.count >= 1 && q.count <= 256 && uint64_t(q.sector) + q.count <= sectors &&
                       uint64_t(q.buffer) + bytes <= guest_ram_;
    if (valid) {  // a DMA into guest memory: code the CPU decoded there is stale
      std::memcpy(host_.memory.ram() + host_.guest_base() + q.buffer, disk->data() + uint64_t(q.sector) * 512, bytes);
      host_.cpu.invalidate_code(host_.guest_base() + q.buffer, uint32_t(bytes));
    }
    ring->rsp[ring->rsp_prod % PV_BLK_RING_SIZE] = pv_blk_response{q.id, valid ? 0 : -EIO};
    ++ring->rsp_prod;
    record_io_request(host_, stats_, blk_port_, q.count, true);
  }
  events_->send(blk_port_);
}

}  // namespace vs::vmm
