/* 64-bit division for a 32-bit target. IA-32 DIV divides a 64-bit value by a
 * 32-bit one only (SDM Vol. 2A "DIV"), so for `uint64_t / uint64_t` gcc emits
 * calls to these helpers, which normally come from libgcc (their names and
 * signatures: GCC internals manual, "Integer library routines"). Guest code
 * links no libgcc, so here they are.
 *
 * Self-contained on purpose: only <stdint.h>, no libc, so the teaching
 * kernel compiles this very file too.
 *
 * The method is schoolbook binary long division: bring down one bit of the
 * dividend at a time and subtract the divisor when it fits. 64 steps at most,
 * slow but short and easy to check. Division by zero executes a 32-bit DIV
 * by zero, so it raises #DE exactly as a hardware division would. */
#include <stdint.h>

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
int64_t __divmoddi4(int64_t a, int64_t b, int64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t a, int64_t b);
int64_t __moddi3(int64_t a, int64_t b);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem) {
  uint64_t q = 0, r = 0;
  if (d == 0) {
    volatile uint32_t zero = 0;
    q = 1u / zero; /* #DE */
  } else if ((n >> 32) == 0 && (d >> 32) == 0) {
    /* Both fit in 32 bits: one hardware DIV does it. */
    q = (uint32_t)n / (uint32_t)d;
    r = (uint32_t)n % (uint32_t)d;
  } else {
    for (int bit = 63; bit >= 0; bit--) {
      r = (r << 1) | ((n >> bit) & 1);
      if (r >= d) {
        r -= d;
        q |= (uint64_t)1 << bit;
      }
    }
  }
  if (rem) *rem = r;
  return q;
}

/* C rounds towards zero (C11 6.5.5): divide the magnitudes, then the
 * quotient is negative when the signs differ and the remainder takes the
 * dividend's sign. The magnitude of INT64_MIN is computed in unsigned. */
int64_t __divmoddi4(int64_t a, int64_t b, int64_t *rem) {
  uint64_t ua = a < 0 ? -(uint64_t)a : (uint64_t)a;
  uint64_t ub = b < 0 ? -(uint64_t)b : (uint64_t)b;
  uint64_t ur;
  uint64_t uq = __udivmoddi4(ua, ub, &ur);
  if (rem) *rem = (int64_t)(a < 0 ? -ur : ur);
  return (int64_t)((a < 0) != (b < 0) ? -uq : uq);
}

uint64_t __udivdi3(uint64_t n, uint64_t d) { return __udivmoddi4(n, d, 0); }

uint64_t __umoddi3(uint64_t n, uint64_t d) {
  uint64_t r;
  __udivmoddi4(n, d, &r);
  return r;
}

int64_t __divdi3(int64_t a, int64_t b) { return __divmoddi4(a, b, 0); }

int64_t __moddi3(int64_t a, int64_t b) {
  int64_t r;
  __divmoddi4(a, b, &r);
  return r;
}
