// The serial console on COM1 (8250/16550 UART, I/O base 0x3F8, IRQ 4).
// Output polls LSR bit 5 (transmit holding register empty); input arrives by
// the receive interrupt and goes through a line discipline: echo, CR becomes
// LF, backspace erases, and read() sees only whole lines (like a Unix tty
// in canonical mode).
#include "kernel.h"
#include "pvops.h"

#define COM1 0x3F8
#define REG_DATA 0      // RBR/THR (DLAB=0), divisor low (DLAB=1)
#define REG_IER 1       // interrupt enable; divisor high (DLAB=1)
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

#define INPUT_SIZE 256
static char input[INPUT_SIZE];
static uint32_t in_read, in_committed, in_edit;  // free-running indices

void console_init(void) {
  pv.outb(COM1 + REG_IER, 0x00);
  pv.outb(COM1 + REG_LCR, 0x80);  // DLAB: the next two registers set the divisor
  pv.outb(COM1 + REG_DATA, 0x01); // 115200 = 1.8432 MHz / 16 / 1
  pv.outb(COM1 + REG_IER, 0x00);
  pv.outb(COM1 + REG_LCR, 0x03);  // 8 data bits, no parity, 1 stop bit
  pv.outb(COM1 + REG_FCR, 0x00);  // no FIFO: one interrupt per byte keeps it simple
  pv.outb(COM1 + REG_MCR, 0x08);  // OUT2: gates the UART's IRQ line to the PIC on a PC
  pv.outb(COM1 + REG_IER, 0x01);  // interrupt on received data
}

static void raw_putc(char c) {
  while (!(pv.inb(COM1 + REG_LSR) & LSR_THR_EMPTY)) {
  }
  pv.outb(COM1 + REG_DATA, (uint8_t)c);
}

void console_putc(char c) { raw_putc(c); }

// IRQ 4: take every received byte, edit the current line.
void console_irq(void) {
  while (pv.inb(COM1 + REG_LSR) & LSR_DATA_READY) {
    char c = (char)pv.inb(COM1 + REG_DATA);
    if (c == 0x7F || c == 0x08) {
      if (in_edit != in_committed) {
        in_edit--;
        raw_putc('\b'), raw_putc(' '), raw_putc('\b');
      }
      continue;
    }
    if (c == '\r') c = '\n';
    if (in_edit - in_read >= INPUT_SIZE - 1 && c != '\n') continue;  // full: drop
    input[in_edit++ % INPUT_SIZE] = c;
    raw_putc(c);
    if (c == '\n' || in_edit - in_read == INPUT_SIZE) {
      in_committed = in_edit;
      wakeup(input);
    }
  }
}

// Blocks until a line is complete, then returns up to n bytes of it (the
// rest stays for the next read), stopping after the newline.
int console_read(char* dst, uint32_t n) {
  while (in_read == in_committed) {
    sleep_on(input);
    if (current->killed) return -EINTR;
  }
  uint32_t got = 0;
  while (got < n && in_read != in_committed) {
    char c = input[in_read++ % INPUT_SIZE];
    dst[got++] = c;
    if (c == '\n') break;
  }
  return (int)got;
}
