// The privileged-operation table, after Linux's paravirt_ops: every
// instruction that only ring 0 may execute (or whose meaning a hypervisor
// must see: I/O ports, page-table stores) goes through one of these
// pointers. The native table (pvops_native.c) executes the instruction; a
// paravirtual build can swap in a table of hypercalls without touching any
// other file. Rule of this kernel: no other file uses these instructions.
#pragma once
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
};

extern struct pv_ops pv;

// The native table's constructor; kmain installs it first thing.
void pvops_native_init(void);
