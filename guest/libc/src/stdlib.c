/* stdlib.h: number parsing (ISO C 7.22.1) and leaving the process. The heap
 * is in malloc.c. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

/* The shared part of strtol and strtoul: skips spaces, reads an optional
 * sign and the base prefix (0x for 16 or 0 for base 0, 0 alone meaning
 * octal), then the digits. Returns the magnitude, saturated at
 * ULONG_MAX with *overflow set; *end points after the last digit used, or
 * at s when there were none. */
static unsigned long parse(const char *s, char **end, int base, bool *negative, bool *overflow) {
  const char *p = s;
  *negative = false;
  *overflow = false;
  while (is_space(*p)) p++;
  if (*p == '+' || *p == '-') *negative = (*p++ == '-');
  if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
    p += 2;
    base = 16;
  } else if (base == 0) {
    base = (*p == '0') ? 8 : 10;
  }
  const char *digits = p;
  unsigned long value = 0;
  for (int d; (d = digit_value(*p)) < base; p++) {
    if (value > (~0UL - (unsigned long)d) / (unsigned long)base) *overflow = true;
    value = value * (unsigned long)base + (unsigned long)d;
  }
  if (end) *end = (char *)(p == digits ? s : p);
  return *overflow ? ~0UL : value;
}

unsigned long strtoul(const char *s, char **end, int base) {
  bool negative, overflow;
  unsigned long v = parse(s, end, base, &negative, &overflow);
  if (overflow) {
    errno = ERANGE;
    return ~0UL;
  }
  return negative ? -v : v; /* ISO C: the negation is done in unsigned */
}

long strtol(const char *s, char **end, int base) {
  bool negative, overflow;
  unsigned long v = parse(s, end, base, &negative, &overflow);
  const unsigned long limit = negative ? (unsigned long)1 << 31 : ((unsigned long)1 << 31) - 1;
  if (overflow || v > limit) {
    errno = ERANGE;
    return negative ? (long)(-limit) : (long)limit;
  }
  return negative ? (long)(0 - v) : (long)v;
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }

_Noreturn void exit(int status) { _exit(status); }

/* Raise SIGABRT (default action: terminate); if something ignores it, still
 * stop with the status a shell shows for SIGABRT. */
_Noreturn void abort(void) {
  kill(getpid(), SIGABRT);
  _exit(128 + SIGABRT);
}
