/* sh: a tiny shell on fd 0 and 1, enough to start the other workloads by
 * hand on the teaching kernel's console.
 *
 * It prints the prompt "$ ", reads one line a byte at a time (a console
 * delivers bytes as they are typed; no buffering to reason about), splits it
 * on spaces into at most 16 words, and either runs a builtin (exit [code],
 * help) or forks: the child execve()s the program with an empty environment,
 * the parent waits. A name without '/' means /bin/NAME. Messages about
 * children go to stderr, as other shells do. End of file on stdin (read
 * returns 0) prints a newline and exits 0. */
#include <sys/wait.h>

#include "workload.h"

#define LINE_MAX 256
#define ARGS_MAX 16

/* Reads a line into buf without its end; returns its length, -1 at end of
 * file (with nothing read), or -2 when it did not fit (the rest is
 * skipped). '\r' ends a line like '\n', and a '\n' straight after a '\r'
 * is swallowed, so a terminal's "\r\n" is one line, not two. */
static int read_line(char *buf, int size) {
  static int after_cr;
  int len = 0, too_long = 0;
  for (;;) {
    char c;
    ssize_t r = read(STDIN_FILENO, &c, 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      workload_fail("sh", "read");
    }
    if (r == 0) return (len > 0 || too_long) ? (too_long ? -2 : len) : -1;
    if (c == '\n' && after_cr) {
      after_cr = 0;
      continue;
    }
    after_cr = (c == '\r');
    if (c == '\r' || c == '\n') break;
    if (len < size - 1) buf[len++] = c;
    else too_long = 1;
  }
  buf[len] = 0;
  return too_long ? -2 : len;
}

/* Splits line in place on spaces (and tabs); returns the word count, or -1
 * when there are more than ARGS_MAX words. argv ends with NULL. */
static int split(char *line, char **argv) {
  int argc = 0;
  for (char *p = line; *p;) {
    while (*p == ' ' || *p == '\t') *p++ = 0;
    if (!*p) break;
    if (argc == ARGS_MAX) return -1;
    argv[argc++] = p;
    while (*p && *p != ' ' && *p != '\t') p++;
  }
  argv[argc] = NULL;
  return argc;
}

static void help(void) {
  printf("builtins: exit [code], help\n"
         "programs (in /bin): hello, cpu N, syscall N, write N, fork N, pagefault N, mmap N, pipe N, sh\n");
}

static void run(char **argv) {
  char path[LINE_MAX + 8];
  if (strchr(argv[0], '/')) snprintf(path, sizeof path, "%s", argv[0]);
  else snprintf(path, sizeof path, "/bin/%s", argv[0]);
  pid_t child = fork();
  if (child < 0) {
    dprintf(STDERR_FILENO, "sh: fork failed: %s\n", strerror(errno));
    return;
  }
  if (child == 0) {
    char *envp[] = {NULL};
    execve(path, argv, envp);
    dprintf(STDERR_FILENO, "sh: %s: not found\n", argv[0]);
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) workload_fail("sh", "waitpid");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    dprintf(STDERR_FILENO, "sh: %s exited with status %d\n", argv[0], WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    dprintf(STDERR_FILENO, "sh: %s killed by signal %d\n", argv[0], WTERMSIG(status));
  }
}

int main(void) {
  char line[LINE_MAX];
  char *argv[ARGS_MAX + 1];
  for (;;) {
    printf("$ ");
    int len = read_line(line, sizeof line);
    if (len == -1) {
      printf("\n");
      return 0;
    }
    if (len == -2) {
      dprintf(STDERR_FILENO, "sh: line too long (at most %d characters)\n", LINE_MAX - 1);
      continue;
    }
    int argc = split(line, argv);
    if (argc < 0) {
      dprintf(STDERR_FILENO, "sh: too many words (at most %d)\n", ARGS_MAX);
      continue;
    }
    if (argc == 0) continue;
    if (strcmp(argv[0], "exit") == 0) return argc > 1 ? atoi(argv[1]) & 0xff : 0;
    if (strcmp(argv[0], "help") == 0) help();
    else run(argv);
  }
}
