/* unistd.h: the process and file-descriptor system calls. */
#ifndef VS_UNISTD_H
#define VS_UNISTD_H

#include <sys/types.h>

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

extern char **environ; /* set by _start from the entry stack */

ssize_t read(int fd, void *buf, size_t count);
ssize_t write(int fd, const void *buf, size_t count);
int close(int fd);
int pipe(int fds[2]);
int dup2(int oldfd, int newfd);

pid_t fork(void);
int execve(const char *path, char *const argv[], char *const envp[]);
pid_t getpid(void);
pid_t getppid(void);
/* Ends the whole process at once (exit_group); never returns. */
_Noreturn void _exit(int status);

/* POSIX brk: 0 on success, -1 with errno ENOMEM. (The Linux syscall itself
 * returns the new break, or the unchanged old one on failure.) */
int brk(void *addr);
/* Moves the break by increment bytes; returns the old break, or (void *)-1. */
void *sbrk(intptr_t increment);

#endif
