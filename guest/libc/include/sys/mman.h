/* sys/mman.h: anonymous memory mappings. mmap() goes through mmap2
 * (Linux i386 syscall 192), whose offset is counted in 4096-byte pages. */
#ifndef VS_SYS_MMAN_H
#define VS_SYS_MMAN_H

#include <sys/types.h>

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_ANON MAP_ANONYMOUS

#define MAP_FAILED ((void *)-1)

/* offset must be a multiple of 4096 (EINVAL otherwise). */
void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t length);

#endif
