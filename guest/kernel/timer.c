// The two 8259A PICs and the 8254 PIT channel 0.
// The PICs' power-on vectors 0x08-0x0F collide with CPU exceptions, so they
// are remapped to 0x20-0x2F (8259A datasheet, ICW1-ICW4). The PIT divides its
// 1.193182 MHz input by 11932 to tick at 100 Hz (8254 datasheet, mode 2).
#include "kernel.h"
#include "pvops.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1

volatile uint32_t ticks;

void pic_init(void) {
  pv.outb(PIC1_CMD, 0x11);   // ICW1: edge triggered, cascade, ICW4 follows
  pv.outb(PIC2_CMD, 0x11);
  pv.outb(PIC1_DATA, 0x20);  // ICW2: vector base
  pv.outb(PIC2_DATA, 0x28);
  pv.outb(PIC1_DATA, 0x04);  // ICW3: slave on IRQ 2
  pv.outb(PIC2_DATA, 0x02);  // ICW3: slave identity 2
  pv.outb(PIC1_DATA, 0x01);  // ICW4: 8086 mode
  pv.outb(PIC2_DATA, 0x01);
  // Unmask only what the kernel handles: IRQ 0 (timer), 2 (cascade), 4 (COM1).
  pv.outb(PIC1_DATA, (uint8_t)~((1 << 0) | (1 << 2) | (1 << 4)));
  pv.outb(PIC2_DATA, 0xFF);
}

// Non-specific end of interrupt (OCW2 = 0x20); IRQs 8-15 need it at both chips.
void pic_eoi(int irq) {
  if (irq >= 8) pv.outb(PIC2_CMD, 0x20);
  pv.outb(PIC1_CMD, 0x20);
}

void pit_init(void) {
  const uint16_t divisor = 11932;  // 1193182 Hz / 100 Hz
  pv.outb(0x43, 0x34);             // channel 0, lobyte/hibyte, mode 2 (rate generator)
  pv.outb(0x40, divisor & 0xFF);
  pv.outb(0x40, divisor >> 8);
}

// Boot-time delay calibration, after Linux's calibrate_delay() ("BogoMIPS"):
// with interrupts on, wait for a timer tick, then count how many times a
// loop runs before the next one. It relies on the timer interrupt arriving
// while the kernel runs with IF = 1. On the way it reads the tick counter
// in a critical section with the interrupt-flag save/restore idiom
// (pushfl; cli ... pushl; popfl). At ring 1 under a trap-and-emulate VMM
// that POPF cannot restore IF and does not trap: the virtual IF stays
// clear, the tick never comes, and the loop below never ends
// (docs/modes/trap.md). Natively, and under binary translation, it takes at
// most two ticks.
uint32_t loops_per_tick;

void timer_calibrate(void) {
  pv.irq_enable();
  uint32_t flags = pv.save_flags_and_disable();
  const uint32_t start = ticks;
  pv.restore_flags(flags);
  while (ticks == start) continue;
  const uint32_t edge = ticks;
  uint32_t n = 0;
  while (ticks == edge) n++;
  loops_per_tick = n;
  pv.irq_disable();
}
