/* sys/types.h: the POSIX scalar types, sized as the Linux i386 ABI sizes them
 * (System V i386 psABI: int, long and pointers are 32 bits). */
#ifndef VS_SYS_TYPES_H
#define VS_SYS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef int pid_t;          /* process id, as returned by fork and getpid */
typedef int ssize_t;        /* byte count or -1 (i386: int, as size_t is unsigned int) */
typedef long off_t;         /* file offset (32-bit, no large-file support) */
typedef unsigned int mode_t; /* permission bits for open(O_CREAT) */
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef long time_t;        /* seconds; 32-bit as in the i386 syscall 265 layout */

#endif
