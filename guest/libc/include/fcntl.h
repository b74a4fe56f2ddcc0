/* fcntl.h: open() and its flags, with the Linux i386 values (octal, as in
 * the Linux UAPI asm-generic/fcntl.h). */
#ifndef VS_FCNTL_H
#define VS_FCNTL_H

#include <sys/types.h>

#define O_RDONLY 00
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000

/* The third argument (mode_t) is read only when flags has O_CREAT. */
int open(const char *path, int flags, ...);

#endif
