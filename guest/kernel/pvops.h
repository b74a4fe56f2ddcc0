// The privileged-operation table, after Linux's paravirt_ops: every
// instruction that only ring 0 may execute (or whose meaning a hypervisor
// must see: I/O ports, page-table stores) goes through one of these
// pointers. The native table (pvops_native.c) executes the instruction; a
// paravirtual build can swap in a table of hypercalls without touching any
// other file. Rule of this kernel: no other file uses these instructions.
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct trapframe;

struct pv_ops {
  void (*irq_disable)(void);                 // cli
  void (*irq_enable)(void);                  // sti
  uint32_t (*save_flags_and_disable)(void);  // pushfl; popl; cli
  void (*restore_flags)(uint32_t flags);     // pushl; popfl
  uint8_t (*inb)(uint16_t port);
  void (*outb)(uint16_t port, uint8_t value);
  uint16_t (*inw)(uint16_t port);
  void (*outw)(uint16_t port, uint16_t value);
  uint32_t (*inl)(uint16_t port);
  void (*outl)(uint16_t port, uint32_t value);
  void (*write_cr3)(uint32_t page_directory);  // load an address space (flushes the TLB)
  uint32_t (*read_cr2)(void);                  // the faulting linear address of a #PF
  void (*invlpg)(uint32_t linear);
  void (*enable_paging)(uint32_t page_directory);  // CR3, then CR0.PG
  void (*load_gdt)(const void* gdtr);          // lgdt + reload the segment registers
  void (*load_idt)(const void* idtr);
  void (*load_tr)(uint16_t selector);
  void (*halt)(void);                          // sti; hlt: idle until an interrupt
  void (*set_kernel_stack)(uint32_t esp0);     // TSS.esp0: where ring 3 -> 0 lands
  void (*return_to_user)(struct trapframe* tf) __attribute__((noreturn));  // the iret path
  void (*write_pte)(uint32_t* entry, uint32_t value);  // every page-table/directory store
  void (*power_off)(uint8_t status) __attribute__((noreturn));  // isa-debug-exit

  // Page tables (Linux: pv_ops.mmu). A paravirtual guest's entries hold
  // machine addresses and its table pages are read-only to it, so every read
  // of an entry converts (read_pte), a page becomes a table only through
  // alloc_table (level 1 = page table, 2 = directory) once filled, and
  // stops being one through release_table before it is freed. Between
  // lazy_mmu_begin and lazy_mmu_end entry stores may be queued and committed
  // together (Linux's lazy MMU mode); reads see the queued values.
  uint32_t (*read_pte)(const uint32_t* entry);
  void (*alloc_table)(uint32_t page, int level);
  void (*release_table)(uint32_t page, int level);
  void (*lazy_mmu_begin)(void);
  void (*lazy_mmu_end)(void);

  // The platform's console and timer: the PC's UART, 8259 PIC and 8254 PIT
  // natively; a shared-memory ring and event channels under a hypervisor.
  void (*console_init)(void);
  void (*console_write)(const char* s, uint32_t n);
  int (*console_getc)(void);  // the next received byte, -1 when none
  void (*timer_init)(void);   // 100 Hz ticks as IRQ 0
  void (*irq_eoi)(int irq);   // end of interrupt, before anything can switch
  // A paravirtual guest's event upcall (vector 0x30): dispatch the pending
  // events as IRQs (0 = timer, 4 = console). Never called natively.
  void (*event_upcall)(bool from_user);
  // The disk: `count` 512-byte sectors from `sector` into kernel memory
  // (the first ATA disk natively, a block ring under a hypervisor); 0, or
  // -ENODEV without a disk, -EIO when the device fails the request.
  int (*disk_read)(uint32_t sector, uint32_t count, void* buffer);
};

extern struct pv_ops pv;

// Installs the build's table (pvops_native.c, or pvops_pv.c in the
// paravirtual build); kmain calls it first thing.
void pvops_init(void);
