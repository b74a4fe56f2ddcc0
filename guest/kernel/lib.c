// Freestanding helpers: the memory/string functions gcc may emit calls to
// (it assumes memset/memcpy/memcmp exist even with -ffreestanding), and a
// small printf for the console.
#include "kernel.h"
#include "pvops.h"

// String instructions (SDM Vol. 2 "REP STOS", "REP MOVS"; DF is clear per
// the SysV i386 ABI): a 4 KiB page is zeroed in one instruction instead of
// a 4096-iteration loop, which matters for the demand-paging workloads.
void* memset(void* d, int c, size_t n) {
  uint32_t fill = (uint8_t)c * 0x01010101u;
  void* p = d;
  size_t words = n / 4, bytes = n % 4;
  __asm__ volatile("rep stosl" : "+D"(p), "+c"(words) : "a"(fill) : "memory");
  __asm__ volatile("rep stosb" : "+D"(p), "+c"(bytes) : "a"(fill) : "memory");
  return d;
}
void* memcpy(void* d, const void* s, size_t n) {
  void* p = d;
  size_t words = n / 4, bytes = n % 4;
  __asm__ volatile("rep movsl" : "+D"(p), "+S"(s), "+c"(words) : : "memory");
  __asm__ volatile("rep movsb" : "+D"(p), "+S"(s), "+c"(bytes) : : "memory");
  return d;
}
int memcmp(const void* a, const void* b, size_t n) {
  const uint8_t *p = a, *q = b;
  for (; n; n--, p++, q++)
    if (*p != *q) return *p - *q;
  return 0;
}
size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}
int strcmp(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return (uint8_t)*a - (uint8_t)*b;
}
int strncmp(const char* a, const char* b, size_t n) {
  for (; n; n--, a++, b++) {
    if (*a != *b) return (uint8_t)*a - (uint8_t)*b;
    if (!*a) return 0;
  }
  return 0;
}

// Unsigned in base 10 or 16, 32-bit only: no 64-bit division helpers needed.
static void put_unsigned(uint32_t v, unsigned base, int width, char pad) {
  char buf[12];
  int n = 0;
  do {
    buf[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  while (width-- > n) console_putc(pad);
  while (n) console_putc(buf[--n]);
}

// %s %c %d %u %x %p, with an optional 0 flag and width (e.g. %08x).
void kvprintf(const char* fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      console_putc(*fmt);
      continue;
    }
    char pad = ' ';
    int width = 0;
    fmt++;
    if (*fmt == '0') pad = '0', fmt++;
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    switch (*fmt) {
      case 's': {
        const char* s = va_arg(ap, const char*);
        while (*s) console_putc(*s++);
        break;
      }
      case 'c': console_putc((char)va_arg(ap, int)); break;
      case 'd': {
        int v = va_arg(ap, int);
        if (v < 0) console_putc('-'), v = -v;
        put_unsigned((uint32_t)v, 10, width, pad);
        break;
      }
      case 'u': put_unsigned(va_arg(ap, uint32_t), 10, width, pad); break;
      case 'x': put_unsigned(va_arg(ap, uint32_t), 16, width, pad); break;
      case 'p': put_unsigned(va_arg(ap, uint32_t), 16, 8, '0'); break;
      default: console_putc(*fmt); break;
    }
  }
}

// Interrupts off for the whole message, so an interrupt handler's output
// cannot land in the middle of a line. Saving and restoring EFLAGS (rather
// than cli ... sti) keeps IF as the caller had it: kprintf works both with
// interrupts on and off.
void kprintf(const char* fmt, ...) {
  uint32_t flags = pv.save_flags_and_disable();
  va_list ap;
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
  pv.restore_flags(flags);
}

// An unrecoverable kernel error: one line, then power off with 0x7f so a
// test harness sees the failure in the exit status.
void panic(const char* fmt, ...) {
  va_list ap;
  pv.irq_disable();
  kprintf("panic: ");
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
  kprintf("\n");
  pv.power_off(0x7f);
}
