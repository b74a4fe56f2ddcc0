/* sched.h: only sched_yield (Linux i386 syscall 158). */
#ifndef VS_SCHED_H
#define VS_SCHED_H

int sched_yield(void);

#endif
