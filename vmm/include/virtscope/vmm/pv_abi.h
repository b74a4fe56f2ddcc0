/* virtscope's paravirtual interface: what the pv build of the teaching
 * kernel (guest/kernel/pvops_pv.c) and the pv VMM (vmm/src/pv/) agree on.
 * It follows 32-bit Xen (xen/include/public/xen.h, SEMANTICS.md §8): the
 * hypercall numbers are Xen's, the guest kernel runs at ring 1, the
 * hypervisor owns the top 4 MiB of every address space, page tables hold
 * machine addresses and change only through validated hypercalls, and
 * events replace interrupts. docs/modes/pv.md explains every call; the
 * differences from Xen are listed there.
 *
 * Plain C (included by the freestanding guest and by the C++ VMM). */
#ifndef VIRTSCOPE_VMM_PV_ABI_H
#define VIRTSCOPE_VMM_PV_ABI_H

#include <stdint.h>

/* A hypercall: `int $0x82` from ring 1, number in EAX, arguments in EBX,
 * ECX, EDX, ESI, EDI; the result (0 or a negative errno) comes back in EAX. */
#define PV_HYPERCALL_VECTOR 0x82

#define PV_HC_set_trap_table 0   /* (const struct pv_trap_info* table): ends at address 0 */
#define PV_HC_mmu_update 1       /* (const struct pv_mmu_update* req, count, uint32_t* done) */
#define PV_HC_set_gdt 2          /* (linear address of descriptors, count): copied, validated */
#define PV_HC_stack_switch 3     /* (ss, esp): the ring-1 stack for entries from ring 3 */
#define PV_HC_set_callbacks 4    /* (cs, address): where event upcalls enter */
#define PV_HC_update_va_mapping 14 /* (linear, new entry, flags): the entry that maps it; PV_UVMF_INVLPG */
#define PV_HC_xen_version 17     /* (0): the version; also how a guest takes a pending upcall now */
#define PV_HC_mmuext_op 26       /* (const struct pv_mmuext_op* ops, count, uint32_t* done) */
#define PV_HC_sched_op 29        /* (cmd, arg) */
#define PV_HC_event_channel_op 32 /* (cmd, void* op) */

#define PV_UVMF_INVLPG 2

/* set_trap_table entries (Xen's trap_info). flags bits 1:0: the lowest
 * ring allowed to raise the vector with INT n; bit 2: events masked on
 * entry (an interrupt gate). */
struct pv_trap_info {
  uint8_t vector;
  uint8_t flags;
  uint16_t cs;
  uint32_t address;
};
#define PV_TI_MASK_EVENTS 4

/* mmu_update: ptr = machine address of a page-table entry (bits 1:0 = 0,
 * MMU_NORMAL_PT_UPDATE), val = the new entry (frames are machine addresses).
 * The entry must lie in a pinned table; a writable mapping of a page-table
 * frame, a frame outside the domain, a 4 MiB page or the hypervisor's slot
 * (directory entry 1023) is refused with -EPERM or -EINVAL. */
struct pv_mmu_update {
  uint32_t ptr;
  uint32_t val;
};

#define PV_MMUEXT_PIN_L1_TABLE 0
#define PV_MMUEXT_PIN_L2_TABLE 1
#define PV_MMUEXT_UNPIN_TABLE 4
#define PV_MMUEXT_NEW_BASEPTR 5
#define PV_MMUEXT_TLB_FLUSH_LOCAL 6
#define PV_MMUEXT_INVLPG_LOCAL 7
struct pv_mmuext_op {
  uint32_t cmd;
  uint32_t arg; /* machine address of a table, or a linear address (INVLPG) */
};

#define PV_SCHEDOP_yield 0
#define PV_SCHEDOP_block 1    /* unmask events; sleep until one is pending */
#define PV_SCHEDOP_shutdown 2 /* arg: the exit status (isa-debug-exit's value) */

#define PV_EVTCHNOP_bind_virq 1 /* op: struct pv_evtchn_bind_virq */
#define PV_EVTCHNOP_send 4      /* op: uint32_t port */
struct pv_evtchn_bind_virq {
  uint32_t virq;
  uint32_t port; /* out */
};
#define PV_VIRQ_TIMER 0 /* 100 Hz, virtual time */

#define PV_NR_EVENT_CHANNELS 1024

/* The shared-info page: written by both sides. upcall_mask is the guest's
 * virtual interrupt flag (1 = events masked); the hypervisor sets a port's
 * pending bit, and when the port is unmasked also its word's bit in
 * pending_sel and upcall_pending, then calls the guest back unless
 * upcall_mask is set. A port that becomes pending while masked raises no
 * upcall, and clearing its mask bit does not raise one either: the guest
 * scans the pending bits itself (SEMANTICS.md checklist 34). */
struct pv_shared_info {
  uint8_t upcall_pending;
  uint8_t upcall_mask;
  uint16_t pad0;
  uint32_t pending_sel;
  uint32_t cr2; /* the faulting address of the last page fault bounced to the guest */
  uint32_t pad1;
  uint32_t evtchn_pending[PV_NR_EVENT_CHANNELS / 32];
  uint32_t evtchn_mask[PV_NR_EVENT_CHANNELS / 32];
  uint64_t system_time; /* virtual nanoseconds */
};

/* The console ring (Xen's xencons_interface): the guest produces `out`,
 * the hypervisor `in`; indices run freely, masked by the ring size. */
struct pv_console_ring {
  char in[1024];
  char out[2048];
  uint32_t in_cons, in_prod;
  uint32_t out_cons, out_prod;
};

/* The block ring (Xen's blkif, reduced to reads): the guest queues
 * requests and notifies blk_port; the backend copies the sectors into the
 * guest's buffer (a pseudo-physical address, where Xen would use a grant
 * reference), queues a response with the request's id and notifies
 * blk_port back. The guest keeps its response index, the backend its
 * request index. */
#define PV_BLK_RING_SIZE 32
struct pv_blk_request {
  uint32_t id;
  uint32_t sector; /* 512-byte sectors */
  uint32_t count;  /* 1 to 256 */
  uint32_t buffer; /* pseudo-physical address of count * 512 bytes */
};
struct pv_blk_response {
  uint32_t id;
  int32_t status; /* 0, or -EIO for a request outside the disk or the domain */
};
struct pv_blk_ring {
  uint32_t req_prod; /* the guest's */
  uint32_t rsp_prod; /* the backend's */
  struct pv_blk_request req[PV_BLK_RING_SIZE];
  struct pv_blk_response rsp[PV_BLK_RING_SIZE];
};

/* Handed to the kernel in ESI at entry (beside the Multiboot EAX/EBX). */
#define PV_START_MAGIC "virtscope-pv-1"
struct pv_start_info {
  char magic[16];
  uint32_t nr_pages;      /* the domain's memory, in 4 KiB pages */
  uint32_t shared_info;   /* pseudo-physical address of the shared-info page */
  uint32_t console_ring;  /* pseudo-physical address of the console ring */
  uint32_t console_port;  /* its event channel */
  uint32_t machine_base;  /* machine address of pseudo-physical 0 (here the whole P2M) */
  uint32_t blk_ring;      /* pseudo-physical address of the block ring */
  uint32_t blk_port;      /* its event channel */
  uint32_t disk_sectors;  /* the disk's size; 0: no disk */
};

#endif
