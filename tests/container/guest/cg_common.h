/* What the cgroup test programs share (cg_v2.c, cg_cpu.c, cg_mem.c,
 * cg_io.c): the cgroup2 mount point, and one write(2) or a whole read of an
 * interface file, as a shell's `echo > FILE` and `cat FILE` would do. */
#ifndef CG_COMMON_H
#define CG_COMMON_H

#include "ns_common.h"

enum { NR_open = 5, NR_read = 3, NR_write = 4, NR_close = 6, NR_fork = 2, NR_rmdir = 40 };

#define CG "/sys/fs/cgroup"

/* One write(2) of `text` to `path`: 0 or -errno (open's or write's). */
static inline long put(const char *path, const char *text) {
  const long fd = sys(NR_open, (long)path, O_WRONLY, 0, 0, 0);
  if (fd < 0) return fd;
  const long n = sys(NR_write, fd, (long)text, (long)strlen(text), 0, 0);
  sys(NR_close, fd, 0, 0, 0, 0);
  return n < 0 ? n : 0;
}

/* The whole text of `path` (a static buffer), or "" if it cannot be read. */
static inline const char *get(const char *path) {
  static char buf[2048];
  buf[0] = 0;
  const long fd = sys(NR_open, (long)path, O_RDONLY, 0, 0, 0);
  if (fd < 0) return buf;
  long n = 0, k;
  while (n < (long)sizeof buf - 1 && (k = sys(NR_read, fd, (long)buf + n, (long)sizeof buf - 1 - n, 0, 0)) > 0) n += k;
  sys(NR_close, fd, 0, 0, 0, 0);
  buf[n < 0 ? 0 : n] = 0;
  return buf;
}

static inline int is(const char *path, const char *want) { return strcmp(get(path), want) == 0; }
static inline long mk(const char *path) { return sys(NR_mkdir, (long)path, 0755, 0, 0, 0); }
static inline long rm(const char *path) { return sys(NR_rmdir, (long)path, 0, 0, 0, 0); }

#endif
