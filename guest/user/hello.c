/* hello: the smallest workload. One write() system call and exit_group. */
#include <stdio.h>

int main(void) {
  return printf("hello, world\n") < 0 ? 1 : 0;
}
