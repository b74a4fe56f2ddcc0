// The console: a line discipline over the platform's console device
// (pv.console_*): echo, CR becomes LF, backspace erases, and read() sees
// only whole lines (like a Unix tty in canonical mode). Input arrives as
// IRQ 4. The native device is the serial port COM1 (8250/16550 UART, I/O
// base 0x3F8, IRQ 4): output polls LSR bit 5 (transmit holding register
// empty), input raises the receive interrupt. The paravirtual device is a
// shared-memory ring (pvops_pv.c).
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

void uart_init(void) {
  pv.outb(COM1 + REG_IER, 0x00);
  pv.outb(COM1 + REG_LCR, 0x80);  // DLAB: the next two registers set the divisor
  pv.outb(COM1 + REG_DATA, 0x01); // 115200 = 1.8432 MHz / 16 / 1
  pv.outb(COM1 + REG_IER, 0x00);
  pv.outb(COM1 + REG_LCR, 0x03);  // 8 data bits, no parity, 1 stop bit
  pv.outb(COM1 + REG_FCR, 0x00);  // no FIFO: one interrupt per byte keeps it simple
  pv.outb(COM1 + REG_MCR, 0x08);  // OUT2: gates the UART's IRQ line to the PIC on a PC
  pv.outb(COM1 + REG_IER, 0x01);  // interrupt on received data
}

void uart_write(const char* s, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    while (!(pv.inb(COM1 + REG_LSR) & LSR_THR_EMPTY)) {
    }
    pv.outb(COM1 + REG_DATA, (uint8_t)s[i]);
  }
}

int uart_getc(void) {
  if (!(pv.inb(COM1 + REG_LSR) & LSR_DATA_READY)) return -1;
  return pv.inb(COM1 + REG_DATA);
}

void console_init(void) { pv.console_init(); }
void console_putc(char c) { pv.console_write(&c, 1); }
void console_write(const char* s, uint32_t n) { pv.console_write(s, n); }

// IRQ 4: take every received byte, edit the current line.
void console_irq(void) {
  for (int got; (got = pv.console_getc()) >= 0;) {
    char c = (char)got;
    if (c == 0x7F || c == 0x08) {
      if (in_edit != in_committed) {
        in_edit--;
        console_write("\b \b", 3);
      }
      continue;
    }
    if (c == '\r') c = '\n';
    if (in_edit - in_read >= INPUT_SIZE - 1 && c != '\n') continue;  // full: drop
    input[in_edit++ % INPUT_SIZE] = c;
    console_putc(c);
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
