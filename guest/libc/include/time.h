/* time.h: clock_gettime and nanosleep with the i386 32-bit timespec, the
 * layout syscalls 265 and 162 take (not the 64-bit time64 variants). */
#ifndef VS_TIME_H
#define VS_TIME_H

#include <sys/types.h>

struct timespec {
  long tv_sec;  /* seconds */
  long tv_nsec; /* nanoseconds, 0..999999999 */
};

typedef int clockid_t;
#define CLOCK_REALTIME 0  /* wall-clock time since the Unix epoch */
#define CLOCK_MONOTONIC 1 /* time since an unspecified start, never set back */

int clock_gettime(clockid_t clock, struct timespec *ts);
int nanosleep(const struct timespec *request, struct timespec *remaining);

#endif
