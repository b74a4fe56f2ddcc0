/* errno.h: the error numbers the Linux i386 syscalls return (negated) in EAX.
 * Values from the Linux UAPI asm-generic/errno-base.h and errno.h tables. */
#ifndef VS_ERRNO_H
#define VS_ERRNO_H

/* One process, one thread: errno is a plain global, set by every syscall
 * wrapper that fails and never cleared by one that succeeds (as POSIX says). */
extern int errno;

#define EPERM 1    /* operation not permitted */
#define ENOENT 2   /* no such file or directory */
#define ESRCH 3    /* no such process */
#define EINTR 4    /* interrupted system call */
#define EIO 5      /* I/O error */
#define E2BIG 7    /* argument list too long */
#define ENOEXEC 8  /* exec format error */
#define EBADF 9    /* bad file descriptor */
#define ECHILD 10  /* no child processes */
#define EAGAIN 11  /* try again */
#define ENOMEM 12  /* out of memory */
#define EACCES 13  /* permission denied */
#define EFAULT 14  /* bad address */
#define EBUSY 16   /* device or resource busy */
#define EEXIST 17  /* file exists */
#define ENODEV 19  /* no such device */
#define ENOTDIR 20 /* not a directory */
#define EISDIR 21  /* is a directory */
#define EINVAL 22  /* invalid argument */
#define EMFILE 24  /* too many open files */
#define ENOSPC 28  /* no space left on device */
#define ESPIPE 29  /* illegal seek */
#define EPIPE 32   /* broken pipe */
#define ERANGE 34  /* result out of range */
#define ENOSYS 38  /* system call not implemented */

#endif
