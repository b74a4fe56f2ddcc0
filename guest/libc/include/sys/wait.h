/* sys/wait.h: waiting for children, and the wait status word as Linux
 * encodes it: exit code in bits 8..15 with bits 0..6 zero for a normal exit;
 * the terminating signal in bits 0..6 (bit 7: core dumped) otherwise;
 * 0x7f in the low byte for a stopped child. */
#ifndef VS_SYS_WAIT_H
#define VS_SYS_WAIT_H

#include <sys/types.h>

#define WNOHANG 1 /* return 0 at once if no child has changed state */

#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WTERMSIG(s) ((s) & 0x7f)
#define WIFEXITED(s) (WTERMSIG(s) == 0)
#define WIFSIGNALED(s) (WTERMSIG(s) != 0 && WTERMSIG(s) != 0x7f)
#define WIFSTOPPED(s) (((s) & 0xff) == 0x7f)

pid_t waitpid(pid_t pid, int *status, int options);
pid_t wait(int *status);
/* The rusage argument is passed through untouched; pass NULL. */
pid_t wait4(pid_t pid, int *status, int options, void *rusage);

#endif
