/* Shared by the workloads: reading the one count argument, and failing
 * loudly. Every workload has the command line `NAME N`, prints one result
 * line on stdout, and exits 0; a failed system call prints a message on
 * stderr and exits 1; a missing or invalid N prints a usage line and
 * exits 2. */
#ifndef VS_WORKLOAD_H
#define VS_WORKLOAD_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Returns N from `name N`, a decimal number in 1..max, or exits 2. */
static inline uint32_t workload_count(int argc, char **argv, const char *name, uint32_t max) {
  uint32_t n = 0;
  int ok = argc == 2 && argv[1][0] != 0;
  for (const char *p = ok ? argv[1] : ""; ok && *p; p++) {
    if (*p < '0' || *p > '9' || n > (max - (uint32_t)(*p - '0')) / 10) ok = 0;
    else n = n * 10 + (uint32_t)(*p - '0');
  }
  if (!ok || n == 0) {
    dprintf(STDERR_FILENO, "usage: %s N (N from 1 to %u)\n", name, max);
    exit(2);
  }
  return n;
}

/* A system call failed: say which, with errno, and exit 1. */
_Noreturn static inline void workload_fail(const char *name, const char *what) {
  int e = errno;
  dprintf(STDERR_FILENO, "%s: %s failed: %s (errno %d)\n", name, what, strerror(e), e);
  exit(1);
}

/* The check failed without a system call error: say what and exit 1. */
_Noreturn static inline void workload_wrong(const char *name, const char *what) {
  dprintf(STDERR_FILENO, "%s: %s\n", name, what);
  exit(1);
}

#endif
