// The GDT, the IDT and the TSS (SDM Vol. 3 ch. 3, 6 and 7).
// Flat segments: base 0, limit 4 GiB, so segmentation is the identity and
// paging alone protects memory. Ring 3 segments exist only so that CPL can
// be 3; the TSS exists only for the stack switch on ring 3 -> ring 0 (no
// hardware task switching, SDM Vol. 3 §7.7).
#include "kernel.h"
#include "pvops.h"

struct __attribute__((packed)) tss {
  uint32_t prev, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
  uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
  uint32_t es, cs, ss, ds, fs, gs, ldt;
  uint16_t trap, iomap_base;
};

struct __attribute__((packed)) table_register {
  uint16_t limit;
  uint32_t base;
};

static uint64_t gdt[6];
static uint64_t idt[256];
static struct tss tss;

// A segment descriptor (SDM Vol. 3 §3.4.5, Figure 3-8): the base and limit
// are split over the 8 bytes; `access` is P|DPL|S|type, `flags` is G|D/B.
static uint64_t segment(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  uint64_t d = limit & 0xFFFF;
  d |= (uint64_t)(base & 0xFFFFFF) << 16;
  d |= (uint64_t)access << 40;
  d |= (uint64_t)((limit >> 16) & 0xF) << 48;
  d |= (uint64_t)(flags & 0xF) << 52;
  d |= (uint64_t)(base >> 24) << 56;
  return d;
}

// A 32-bit interrupt gate (SDM Vol. 3 §6.11, Figure 6-2): type 0xE clears IF
// on entry, so the kernel runs with interrupts off except while idle.
static uint64_t interrupt_gate(uint32_t handler, unsigned dpl) {
  uint64_t g = handler & 0xFFFF;
  g |= (uint64_t)SEL_KCODE << 16;
  g |= (uint64_t)(0x8E | (dpl << 5)) << 40;
  g |= (uint64_t)(handler >> 16) << 48;
  return g;
}

extern const uint32_t trap_vectors[];  // entry.S: 0-48, then 0x80

void descriptors_init(void) {
  gdt[0] = 0;
  gdt[1] = segment(0, 0xFFFFF, 0x9A, 0xC);  // ring 0 code, execute/read
  gdt[2] = segment(0, 0xFFFFF, 0x92, 0xC);  // ring 0 data, read/write
  gdt[3] = segment(0, 0xFFFFF, 0xFA, 0xC);  // ring 3 code
  gdt[4] = segment(0, 0xFFFFF, 0xF2, 0xC);  // ring 3 data
  // Available 32-bit TSS, byte granular (type 9, SDM Vol. 3 §7.2.2).
  gdt[5] = segment((uint32_t)&tss, sizeof tss - 1, 0x89, 0x0);
  tss.ss0 = SEL_KDATA;
  tss.iomap_base = sizeof tss;  // beyond the limit: no I/O bitmap, ring 3 gets #GP on IN/OUT
  static struct table_register gdtr;
  gdtr.limit = sizeof gdt - 1;
  gdtr.base = (uint32_t)gdt;
  pv.load_gdt(&gdtr);
  pv.load_tr(SEL_TSS);

  for (int v = 0; v <= VECTOR_EVENT_UPCALL; v++) idt[v] = interrupt_gate(trap_vectors[v], 0);
  // DPL 3 so that `int $0x80` from ring 3 passes the gate check (SDM Vol. 3
  // §6.12.1.1); the others raise #GP when user code tries `int n`.
  idt[0x80] = interrupt_gate(trap_vectors[VECTOR_EVENT_UPCALL + 1], 3);
  static struct table_register idtr;
  idtr.limit = sizeof idt - 1;
  idtr.base = (uint32_t)idt;
  pv.load_idt(&idtr);
}

void tss_set_esp0(uint32_t esp0) { tss.esp0 = esp0; }
