// The native pv_ops: each operation is the bare instruction (Intel SDM
// Vol. 2 for each mnemonic). This is the only C file with privileged inline
// assembly; entry.S holds the trap stubs and the iret path.
#include "pvops.h"
#include "kernel.h"

struct pv_ops pv;

static void n_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static void n_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }

// The idiom a later lesson depends on: read EFLAGS through the stack, then
// clear IF. Restoring is the mirror image (popfl sets IF back only if it was set).
static uint32_t n_save_flags_and_disable(void) {
  uint32_t flags;
  __asm__ volatile("pushfl; popl %0; cli" : "=r"(flags)::"memory");
  return flags;
}
static void n_restore_flags(uint32_t flags) { __asm__ volatile("pushl %0; popfl" ::"r"(flags) : "memory", "cc"); }

static uint8_t n_inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static void n_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static uint16_t n_inw(uint16_t port) {
  uint16_t v;
  __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static void n_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static uint32_t n_inl(uint16_t port) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static void n_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }

static void n_write_cr3(uint32_t pd) { __asm__ volatile("movl %0, %%cr3" ::"r"(pd) : "memory"); }
static uint32_t n_read_cr2(void) {
  uint32_t v;
  __asm__ volatile("movl %%cr2, %0" : "=r"(v));
  return v;
}
static void n_invlpg(uint32_t linear) { __asm__ volatile("invlpg (%0)" ::"r"(linear) : "memory"); }

// SDM Vol. 3 §4.3: 32-bit paging is CR0.PG=1 with CR4.PAE=0; CR3 must hold
// the page directory first. PG without PE is invalid, but Multiboot already
// left us in protected mode (Multiboot spec §3.2).
static void n_enable_paging(uint32_t pd) {
  uint32_t cr0;
  __asm__ volatile("movl %0, %%cr3" ::"r"(pd) : "memory");
  __asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
  cr0 |= 0x80000000u;
  __asm__ volatile("movl %0, %%cr0" ::"r"(cr0) : "memory");
}

// After LGDT the segment caches still hold the old descriptors (SDM Vol. 3
// §3.4.3): reload every data segment register and CS (with a far jump).
static void n_load_gdt(const void* gdtr) {
  __asm__ volatile(
      "lgdt (%0)\n\t"
      "movw %1, %%ax\n\t"
      "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%fs\n\tmovw %%ax, %%gs\n\tmovw %%ax, %%ss\n\t"
      "ljmp %2, $1f\n1:" ::"r"(gdtr),
      "i"(SEL_KDATA), "i"(SEL_KCODE)
      : "eax", "memory");
}
static void n_load_idt(const void* idtr) { __asm__ volatile("lidt (%0)" ::"r"(idtr) : "memory"); }
static void n_load_tr(uint16_t sel) { __asm__ volatile("ltr %0" ::"r"(sel)); }

// STI delays interrupts by one instruction (SDM Vol. 2 "STI"), so no
// interrupt can slip in between and leave HLT sleeping forever.
static void n_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

static void n_set_kernel_stack(uint32_t esp0) { tss_set_esp0(esp0); }

static void n_write_pte(uint32_t* entry, uint32_t value) { *(volatile uint32_t*)entry = value; }

// QEMU's isa-debug-exit: a write of V to port 0xf4 ends the emulator with
// status (V << 1) | 1.
static __attribute__((noreturn)) void n_power_off(uint8_t status) {
  n_outb(0xf4, status);
  for (;;) __asm__ volatile("cli; hlt");
}

void trap_return(struct trapframe* tf) __attribute__((noreturn));  // entry.S

static uint32_t n_read_pte(const uint32_t* entry) { return *(const volatile uint32_t*)entry; }
static void n_table(uint32_t page, int level) { (void)page, (void)level; }
static void n_nothing(void) {}
static void n_timer_init(void) {
  pic_init();
  pit_init();
}
static void n_event_upcall(bool from_user) { (void)from_user; }

void pvops_init(void) {
  pv.irq_disable = n_irq_disable;
  pv.irq_enable = n_irq_enable;
  pv.save_flags_and_disable = n_save_flags_and_disable;
  pv.restore_flags = n_restore_flags;
  pv.inb = n_inb;
  pv.outb = n_outb;
  pv.inw = n_inw;
  pv.outw = n_outw;
  pv.inl = n_inl;
  pv.outl = n_outl;
  pv.write_cr3 = n_write_cr3;
  pv.read_cr2 = n_read_cr2;
  pv.invlpg = n_invlpg;
  pv.enable_paging = n_enable_paging;
  pv.load_gdt = n_load_gdt;
  pv.load_idt = n_load_idt;
  pv.load_tr = n_load_tr;
  pv.halt = n_halt;
  pv.set_kernel_stack = n_set_kernel_stack;
  pv.return_to_user = trap_return;
  pv.write_pte = n_write_pte;
  pv.power_off = n_power_off;
  pv.read_pte = n_read_pte;
  pv.alloc_table = n_table;
  pv.release_table = n_table;
  pv.lazy_mmu_begin = n_nothing;
  pv.lazy_mmu_end = n_nothing;
  pv.console_init = uart_init;
  pv.console_write = uart_write;
  pv.console_getc = uart_getc;
  pv.timer_init = n_timer_init;
  pv.irq_eoi = pic_eoi;
  pv.event_upcall = n_event_upcall;
  pv.disk_read = ata_read;
}
