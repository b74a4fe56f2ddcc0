/* pipe N: two processes ping-pong one byte over a pair of pipes, N times.
 * Each round trip is two writes, two reads and (on one CPU) two context
 * switches, since each side blocks in read() until the other has written. */
#include <sys/wait.h>

#include "workload.h"

static void read_byte(int fd, uint8_t *b, const char *who) {
  ssize_t r = read(fd, b, 1);
  if (r < 0) workload_fail("pipe", who);
  if (r == 0) workload_wrong("pipe", "unexpected end of file");
}

static void write_byte(int fd, uint8_t b, const char *who) {
  if (write(fd, &b, 1) != 1) workload_fail("pipe", who);
}

/* The child: echo every byte back plus one, until the parent closes its end. */
static _Noreturn void echo(int in, int out) {
  uint8_t b;
  ssize_t r;
  while ((r = read(in, &b, 1)) == 1) write_byte(out, (uint8_t)(b + 1), "write (child)");
  if (r < 0) workload_fail("pipe", "read (child)");
  _exit(0);
}

int main(int argc, char **argv) {
  uint32_t n = workload_count(argc, argv, "pipe", 10000000u);
  int to_child[2], to_parent[2];
  if (pipe(to_child) < 0 || pipe(to_parent) < 0) workload_fail("pipe", "pipe");
  pid_t child = fork();
  if (child < 0) workload_fail("pipe", "fork");
  if (child == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    echo(to_child[0], to_parent[1]);
  }
  close(to_child[0]);
  close(to_parent[1]);
  for (uint32_t i = 0; i < n; i++) {
    uint8_t sent = (uint8_t)i, back;
    write_byte(to_child[1], sent, "write");
    read_byte(to_parent[0], &back, "read");
    if (back != (uint8_t)(sent + 1)) workload_wrong("pipe", "the child echoed a wrong byte");
  }
  close(to_child[1]); /* the child reads end of file and exits */
  int status = 0;
  if (waitpid(child, &status, 0) != child) workload_fail("pipe", "waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) workload_wrong("pipe", "the child failed");
  printf("pipe: %u round trips\n", n);
  return 0;
}
