// The paravirtual pv_ops (vs_kernel_pv.elf): the same kernel, its
// privileged operations turned into hypercalls to virtscope's pv VMM
// (vmm/include/virtscope/vmm/pv_abi.h, docs/modes/pv.md), after Linux's Xen
// port (arch/x86/xen). The kernel runs at ring 1; it never executes a
// privileged instruction:
//  - the interrupt flag is a byte in the shared-info page (no hypercall);
//  - page-table entries hold machine addresses and change by mmu_update,
//    queued in lazy MMU mode and committed in one hypercall;
//  - descriptor tables, the kernel stack and CR3 are registered by hypercall;
//  - the console is a shared-memory ring, the timer an event channel.
#include "kernel.h"
#include "pvops.h"
#include "virtscope/vmm/pv_abi.h"

struct pv_ops pv;

#define EFLAGS_IF 0x200u
#define PTE_P 0x001u
#define PTE_W 0x002u

extern uint32_t boot_esi;  // boot.S: ESI at entry
static const struct pv_start_info* start_info;
volatile struct pv_shared_info* pv_shared;  // pv_entry.S reads it
_Static_assert(offsetof(struct pv_shared_info, upcall_mask) == 1, "pv_entry.S masks events at offset 1");
static volatile struct pv_console_ring* ring;
static volatile struct pv_blk_ring* blk;
static uint32_t machine_base, timer_port, console_port, blk_port, disk_sectors;

static int32_t hypercall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3) {
  int32_t r;
  __asm__ volatile("int $0x82" : "=a"(r) : "a"(nr), "b"(a1), "c"(a2), "d"(a3) : "memory");
  return r;
}

static __attribute__((noreturn)) void pv_power_off(uint8_t status);
static void pv_halt(void);

static void check(int32_t r, const char* what) {
  if (r < 0) panic("hypercall %s failed: error %d", what, -r);
}

// ------------------------------------------------------------ events ----

static void force_upcall(void) { hypercall(PV_HC_xen_version, 0, 0, 0); }

static void pv_irq_disable(void) {
  pv_shared->upcall_mask = 1;
  __asm__ volatile("" ::: "memory");
}
// Unmasking does not deliver what became pending meanwhile: the guest looks
// and asks for it (Linux's xen_irq_enable).
static void pv_irq_enable(void) {
  pv_shared->upcall_mask = 0;
  __asm__ volatile("" ::: "memory");
  if (pv_shared->upcall_pending) force_upcall();
}
static uint32_t pv_save_flags_and_disable(void) {
  uint32_t flags = pv_shared->upcall_mask ? 0 : EFLAGS_IF;
  pv_irq_disable();
  return flags;
}
static void pv_restore_flags(uint32_t flags) {
  if (flags & EFLAGS_IF) pv_irq_enable();
  else pv_irq_disable();
}

// The upcall: every pending, unmasked port, as the IRQ it stands for. The
// pending bits are cleared with locked instructions: the hypervisor may set
// others between any two instructions.
static void pv_event_upcall(bool from_user) {
  while (pv_shared->upcall_pending) {
    pv_shared->upcall_pending = 0;
    uint32_t sel = __atomic_exchange_n(&pv_shared->pending_sel, 0, __ATOMIC_SEQ_CST);
    for (uint32_t w = 0; sel; w++, sel >>= 1) {
      if (!(sel & 1)) continue;
      uint32_t bits = pv_shared->evtchn_pending[w] & ~pv_shared->evtchn_mask[w];
      for (uint32_t b = 0; b < 32; b++) {
        if (!(bits & (1u << b))) continue;
        __atomic_fetch_and(&pv_shared->evtchn_pending[w], ~(1u << b), __ATOMIC_SEQ_CST);
        uint32_t port = w * 32 + b;
        if (port == timer_port) irq_dispatch(0, from_user);
        else if (port == console_port) irq_dispatch(4, from_user);
        // blk_port: a completion; pv_disk_read finds it on the ring.
      }
    }
  }
}

static void unmask_port(uint32_t port) {
  __atomic_fetch_and(&pv_shared->evtchn_mask[port / 32], ~(1u << (port % 32)), __ATOMIC_SEQ_CST);
}

// ----------------------------------------------------------- console ----

static uint32_t unsent;  // bytes in the ring the backend has not been told about

static void console_notify(void) {
  if (!unsent) return;
  unsent = 0;
  hypercall(PV_HC_event_channel_op, PV_EVTCHNOP_send, (uint32_t)&console_port, 0);
}

// Notification is decoupled from enqueueing (Barham et al. §3.2): one
// notification per line, or when the ring is half full, or before the
// kernel blocks or powers off.
static void pv_console_write(const char* s, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (ring->out_prod - ring->out_cons >= sizeof ring->out) console_notify();
    ring->out[ring->out_prod % sizeof ring->out] = s[i];
    __asm__ volatile("" ::: "memory");
    ring->out_prod++;
    unsent++;
  }
  if ((n && s[n - 1] == '\n') || ring->out_prod - ring->out_cons >= sizeof ring->out / 2) console_notify();
}

static int pv_console_getc(void) {
  if (ring->in_cons == ring->in_prod) return -1;
  char c = ring->in[ring->in_cons % sizeof ring->in];
  __asm__ volatile("" ::: "memory");
  ring->in_cons++;
  return (uint8_t)c;
}

static void pv_console_init(void) {
  start_info = (const struct pv_start_info*)boot_esi;
  if (memcmp(start_info->magic, PV_START_MAGIC, sizeof PV_START_MAGIC) != 0) {
    // Not under the pv VMM: nothing to print with, so stop at once.
    for (;;) __asm__ volatile("hlt");
  }
  pv_shared = (volatile struct pv_shared_info*)start_info->shared_info;
  ring = (volatile struct pv_console_ring*)start_info->console_ring;
  machine_base = start_info->machine_base;
  console_port = start_info->console_port;
  unmask_port(console_port);
  blk = (volatile struct pv_blk_ring*)start_info->blk_ring;
  blk_port = start_info->blk_port;
  disk_sectors = start_info->disk_sectors;
  if (disk_sectors) unmask_port(blk_port);
}

// ------------------------------------------------------------- disk ----

// One request on the block ring, one notification, one response. The
// backend serves the ring during the notification, so the response is
// there when the hypercall returns; the completion event that follows is
// what a driver with several requests in flight would sleep on.
static int pv_disk_read(uint32_t sector, uint32_t count, void* buffer) {
  static uint32_t next_id, rsp_cons;
  if (!disk_sectors) return -ENODEV;
  if (count == 0 || count > 256 || sector >= disk_sectors || count > disk_sectors - sector) return -EIO;
  uint32_t id = next_id++;
  blk->req[blk->req_prod % PV_BLK_RING_SIZE] = (struct pv_blk_request){id, sector, count, (uint32_t)buffer};
  __asm__ volatile("" ::: "memory");
  blk->req_prod++;
  hypercall(PV_HC_event_channel_op, PV_EVTCHNOP_send, (uint32_t)&blk_port, 0);
  while (rsp_cons == blk->rsp_prod) {  // (only with an asynchronous backend)
    uint32_t flags = pv_save_flags_and_disable();
    pv_halt();
    pv_restore_flags(flags);
  }
  volatile struct pv_blk_response* r = &blk->rsp[rsp_cons++ % PV_BLK_RING_SIZE];
  return r->id == id ? r->status : -EIO;
}

static void pv_timer_init(void) {
  struct pv_evtchn_bind_virq bind = {PV_VIRQ_TIMER, 0};
  check(hypercall(PV_HC_event_channel_op, PV_EVTCHNOP_bind_virq, (uint32_t)&bind, 0), "bind_virq");
  timer_port = bind.port;
  unmask_port(timer_port);
}

static void pv_irq_eoi(int irq) { (void)irq; }

// ------------------------------------------------------- page tables ----
//
// Pseudo-physical (what the kernel calls physical) to machine is one
// offset here; a real Xen guest keeps a table (the P2M).

static uint32_t to_machine(uint32_t entry) { return (entry & PTE_P) ? entry + machine_base : entry; }
static uint32_t from_machine(uint32_t entry) { return (entry & PTE_P) ? entry - machine_base : entry; }

#define MAX_FRAMES (USER_BASE / PAGE_SIZE)
static uint8_t table_level[MAX_FRAMES];  // 0, or 1/2 once alloc_table announced it
static uint8_t pinned[MAX_FRAMES];
static bool paging_on;                    // the kernel's own tables are loaded

#define QUEUE_MAX 64
static struct pv_mmu_update queue[QUEUE_MAX];
static uint32_t queued;
static bool lazy;

static void mmu_commit(void) {
  if (!queued) return;
  uint32_t n = queued;
  queued = 0;
  check(hypercall(PV_HC_mmu_update, (uint32_t)queue, n, 0), "mmu_update");
}

static void mmuext(uint32_t cmd, uint32_t arg) {
  mmu_commit();
  struct pv_mmuext_op op = {cmd, arg};
  check(hypercall(PV_HC_mmuext_op, (uint32_t)&op, 1, 0), "mmuext_op");
}

static void pv_write_pte(uint32_t* entry, uint32_t value) {
  uint32_t frame = (uint32_t)entry / PAGE_SIZE;
  if (!pinned[frame]) {  // not a table yet: ordinary memory the kernel may write
    *(volatile uint32_t*)entry = to_machine(value);
    return;
  }
  if (queued == QUEUE_MAX) mmu_commit();
  queue[queued++] = (struct pv_mmu_update){(uint32_t)entry + machine_base, to_machine(value)};
  if (!lazy) mmu_commit();
}

// The kernel's view includes updates still queued.
static uint32_t pv_read_pte(const uint32_t* entry) {
  uint32_t ptr = (uint32_t)entry + machine_base;
  for (uint32_t i = queued; i-- > 0;)
    if (queue[i].ptr == ptr) return from_machine(queue[i].val);
  return from_machine(*(const volatile uint32_t*)entry);
}

static void pv_lazy_begin(void) { lazy = true; }
static void pv_lazy_end(void) {
  lazy = false;
  mmu_commit();
}

// The kernel's identity mapping of `page` made read-only (a table) or
// writable again, with its TLB entry (Linux: make_lowmem_page_readonly).
static void set_identity_writable(uint32_t page, bool writable) {
  uint32_t entry = page | PTE_P | (writable ? PTE_W : 0);
  mmu_commit();
  check(hypercall(PV_HC_update_va_mapping, page, to_machine(entry), PV_UVMF_INVLPG), "update_va_mapping");
}

static void pin(uint32_t page, int level) {
  mmuext(level == 1 ? PV_MMUEXT_PIN_L1_TABLE : PV_MMUEXT_PIN_L2_TABLE, page + machine_base);
  pinned[page / PAGE_SIZE] = 1;
}

// Before the kernel's first tables are loaded the hypervisor's boot tables
// map everything and the new ones are plain memory: alloc_table only marks
// the page, and enable_paging validates them all at once.
static void pv_alloc_table(uint32_t page, int level) {
  table_level[page / PAGE_SIZE] = (uint8_t)level;
  if (!paging_on) return;
  set_identity_writable(page, false);
  pin(page, level);
}

static void pv_release_table(uint32_t page, int level) {
  (void)level;
  uint32_t frame = page / PAGE_SIZE;
  table_level[frame] = 0;
  if (!pinned[frame]) return;
  mmuext(PV_MMUEXT_UNPIN_TABLE, page + machine_base);
  pinned[frame] = 0;
  set_identity_writable(page, true);
}

// The identity entry of `page` in directory `pd` (kernel memory is mapped
// the same way in every directory).
static uint32_t* identity_entry(uint32_t pd, uint32_t page) {
  uint32_t pde = from_machine(((uint32_t*)pd)[page >> 22]);
  return (uint32_t*)(pde & ~0xFFFu) + ((page >> 12) & 0x3FF);
}

// The first address space: every announced table is made read-only in the
// kernel's identity map (still plain stores), the page tables are pinned,
// then the directory, and the hypervisor switches to it.
static void pv_enable_paging(uint32_t pd) {
  uint32_t frames = start_info->nr_pages < MAX_FRAMES ? start_info->nr_pages : MAX_FRAMES;
  for (uint32_t f = 0; f < frames; f++)
    if (table_level[f]) {
      uint32_t* e = identity_entry(pd, f * PAGE_SIZE);
      *e &= ~PTE_W;
    }
  for (int level = 1; level <= 2; level++)
    for (uint32_t f = 0; f < frames; f++)
      if (table_level[f] == level) pin(f * PAGE_SIZE, level);
  mmuext(PV_MMUEXT_NEW_BASEPTR, pd + machine_base);
  paging_on = true;
}

static void pv_write_cr3(uint32_t pd) { mmuext(PV_MMUEXT_NEW_BASEPTR, pd + machine_base); }

static void pv_invlpg(uint32_t linear) { mmuext(PV_MMUEXT_INVLPG_LOCAL, linear); }
static uint32_t pv_read_cr2(void) { return pv_shared->cr2; }

// ------------------------------------------------ descriptor tables ----

struct __attribute__((packed)) table_register {
  uint16_t limit;
  uint32_t base;
};

// The hypervisor takes only ring-1 and ring-3 code and data descriptors:
// the kernel's ring-0 ones become ring 1 (it runs there), the TSS is the
// hypervisor's own and is left out.
static void pv_load_gdt(const void* gdtr) {
  const struct table_register* r = gdtr;
  static uint64_t copy[16];
  uint32_t n = (r->limit + 1u) / 8;
  if (n > 16) n = 16;
  const uint64_t* d = (const uint64_t*)r->base;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t e = d[i];
    bool code_or_data = (e >> 44) & 1;
    if (!code_or_data) e = 0;
    else if (((e >> 45) & 3) == 0) e |= (uint64_t)1 << 45;  // DPL 0 -> 1
    copy[i] = e;
  }
  check(hypercall(PV_HC_set_gdt, (uint32_t)copy, n, 0), "set_gdt");
  // Reload the segment registers from the new table (SS needs RPL = CPL = 1).
  __asm__ volatile(
      "movw %0, %%ax\n\t"
      "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
      "movw %1, %%ax\n\tmovw %%ax, %%ss\n\t"
      "ljmp %2, $1f\n1:" ::"i"(SEL_KDATA),
      "i"(SEL_KDATA | 1), "i"(SEL_KCODE | 1)
      : "eax", "memory");
}

extern void pv_syscall_entry(void);  // pv_entry.S

// The IDT becomes a trap table: each gate's handler, its DPL, and whether
// it masks events (an interrupt gate). The system call enters through
// pv_syscall_entry, which the hypervisor installs as a real gate: a
// guest's int $0x80 then reaches this kernel without the hypervisor.
static void pv_load_idt(const void* idtr) {
  const struct table_register* r = idtr;
  static struct pv_trap_info table[257];
  uint32_t n = 0;
  const uint64_t* gates = (const uint64_t*)r->base;
  for (uint32_t v = 0; v < 256 && v * 8 + 7 <= r->limit; v++) {
    uint64_t g = gates[v];
    if (!((g >> 47) & 1)) continue;
    uint32_t handler = (uint32_t)(g & 0xFFFF) | (uint32_t)((g >> 32) & 0xFFFF0000u);
    if (v == 0x80) handler = (uint32_t)pv_syscall_entry;
    uint8_t flags = (uint8_t)((g >> 45) & 3) | (((g >> 40) & 0xF) == 0xE ? PV_TI_MASK_EVENTS : 0);
    table[n++] = (struct pv_trap_info){(uint8_t)v, flags, (uint16_t)(SEL_KCODE | 1), handler};
  }
  table[n] = (struct pv_trap_info){0, 0, 0, 0};
  check(hypercall(PV_HC_set_trap_table, (uint32_t)table, 0, 0), "set_trap_table");
  uint64_t upcall = gates[VECTOR_EVENT_UPCALL];
  uint32_t entry = (uint32_t)(upcall & 0xFFFF) | (uint32_t)((upcall >> 32) & 0xFFFF0000u);
  check(hypercall(PV_HC_set_callbacks, SEL_KCODE | 1, entry, 0), "set_callbacks");
}

static void pv_load_tr(uint16_t selector) { (void)selector; }  // the TSS is the hypervisor's

static void pv_set_kernel_stack(uint32_t esp0) {
  check(hypercall(PV_HC_stack_switch, SEL_KDATA | 1, esp0, 0), "stack_switch");
}

// ------------------------------------------------------------ the rest ----

// Idle: tell the console backend what is waiting, then block until an
// event (SCHEDOP_block unmasks events, as sti; hlt enables interrupts).
static void pv_halt(void) {
  console_notify();
  mmu_commit();
  hypercall(PV_HC_sched_op, PV_SCHEDOP_block, 0, 0);
}

void trap_return(struct trapframe* tf) __attribute__((noreturn));  // entry.S

// The way back from a trap: events as the interrupted code had them (the
// saved IF), a pending upcall taken first, then the native iret path. An
// event arriving after the unmask is delivered right there, on this stack,
// and returns here.
static __attribute__((noreturn)) void pv_return(struct trapframe* tf) {
  mmu_commit();
  if (tf->eflags & EFLAGS_IF) pv_irq_enable();
  trap_return(tf);
}

static __attribute__((noreturn)) void pv_power_off(uint8_t status) {
  console_notify();
  hypercall(PV_HC_sched_op, PV_SCHEDOP_shutdown, status, 0);
  for (;;) hypercall(PV_HC_sched_op, PV_SCHEDOP_block, 0, 0);
}

// Port I/O belongs to the hypervisor's device model.
static __attribute__((noreturn)) void no_ports(uint16_t port) { panic("port I/O (port 0x%x) in a paravirtual kernel", port); }
static uint8_t pv_inb(uint16_t port) { no_ports(port); }
static void pv_outb(uint16_t port, uint8_t v) { (void)v, no_ports(port); }
static uint16_t pv_inw(uint16_t port) { no_ports(port); }
static void pv_outw(uint16_t port, uint16_t v) { (void)v, no_ports(port); }
static uint32_t pv_inl(uint16_t port) { no_ports(port); }
static void pv_outl(uint16_t port, uint32_t v) { (void)v, no_ports(port); }

void pvops_init(void) {
  pv.irq_disable = pv_irq_disable;
  pv.irq_enable = pv_irq_enable;
  pv.save_flags_and_disable = pv_save_flags_and_disable;
  pv.restore_flags = pv_restore_flags;
  pv.inb = pv_inb;
  pv.outb = pv_outb;
  pv.inw = pv_inw;
  pv.outw = pv_outw;
  pv.inl = pv_inl;
  pv.outl = pv_outl;
  pv.write_cr3 = pv_write_cr3;
  pv.read_cr2 = pv_read_cr2;
  pv.invlpg = pv_invlpg;
  pv.enable_paging = pv_enable_paging;
  pv.load_gdt = pv_load_gdt;
  pv.load_idt = pv_load_idt;
  pv.load_tr = pv_load_tr;
  pv.halt = pv_halt;
  pv.set_kernel_stack = pv_set_kernel_stack;
  pv.return_to_user = pv_return;
  pv.write_pte = pv_write_pte;
  pv.power_off = pv_power_off;
  pv.read_pte = pv_read_pte;
  pv.alloc_table = pv_alloc_table;
  pv.release_table = pv_release_table;
  pv.lazy_mmu_begin = pv_lazy_begin;
  pv.lazy_mmu_end = pv_lazy_end;
  pv.console_init = pv_console_init;
  pv.console_write = pv_console_write;
  pv.console_getc = pv_console_getc;
  pv.timer_init = pv_timer_init;
  pv.irq_eoi = pv_irq_eoi;
  pv.event_upcall = pv_event_upcall;
  pv.disk_read = pv_disk_read;
}
