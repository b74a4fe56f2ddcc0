/* The tiny libc checked from inside: a guest program that calls the libc
 * functions with inputs whose results ISO C or Linux define, and reports
 * each mismatch on stderr with its line. Run by tests/user/host_run_test.cpp
 * as a Linux i386 process; ends with "libc_check: N checks ok" and exit 0,
 * or exit 1 after listing the failures. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int checks, failures;

static void check(int ok, int line, const char *what) {
  checks++;
  if (!ok) {
    failures++;
    dprintf(STDERR_FILENO, "libc_check: line %d: %s\n", line, what);
  }
}
#define CHECK(cond) check((cond) ? 1 : 0, __LINE__, #cond)

/* snprintf(fmt, ...) must produce exactly `want`, and return its length. */
#define FORMATS(want, ...)                                                    \
  do {                                                                        \
    char buf_[128];                                                           \
    int n_ = snprintf(buf_, sizeof buf_, __VA_ARGS__);                        \
    check(strcmp(buf_, want) == 0 && n_ == (int)strlen(want), __LINE__, want); \
    if (strcmp(buf_, want) != 0) dprintf(STDERR_FILENO, "  got \"%s\"\n", buf_); \
  } while (0)

/* Runs first, on an empty heap: freed neighbours must merge into one block
 * that first fit hands out again at the same place. */
static void check_malloc(void) {
  char *a = malloc(1000), *b = malloc(1000), *c = malloc(1000);
  CHECK(a && b && c);
  CHECK(((uintptr_t)a & 7) == 0 && ((uintptr_t)b & 7) == 0 && ((uintptr_t)c & 7) == 0);
  CHECK(a + 1000 <= b && b + 1000 <= c);
  free(a);
  free(c);
  free(b);
  char *d = malloc(2900);
  CHECK(d == a);
  free(d);

  /* Many blocks of different sizes keep their contents while others come and go. */
  static char *blocks[64];
  for (int i = 0; i < 64; i++) {
    size_t size = (size_t)(1 + i * 37 % 300);
    blocks[i] = malloc(size);
    CHECK(blocks[i] && ((uintptr_t)blocks[i] & 7) == 0);
    memset(blocks[i], i, size);
  }
  for (int i = 0; i < 64; i += 2) free(blocks[i]);
  for (int i = 0; i < 64; i += 2) blocks[i] = malloc(16), memset(blocks[i], i, 16);
  int intact = 1;
  for (int i = 0; i < 64; i++) {
    size_t size = i % 2 ? (size_t)(1 + i * 37 % 300) : 16;
    for (size_t k = 0; k < size; k++) intact &= blocks[i][k] == (char)i;
  }
  CHECK(intact);
  for (int i = 0; i < 64; i++) free(blocks[i]);

  char *r = malloc(10);
  memcpy(r, "0123456789", 10);
  r = realloc(r, 100000); /* larger than the free space: the heap grows */
  CHECK(r && memcmp(r, "0123456789", 10) == 0);
  r[99999] = 1;
  r = realloc(r, 5);
  CHECK(r && memcmp(r, "01234", 5) == 0);
  free(r);
  int *z = calloc(1000, sizeof(int));
  int zero = 1;
  for (int i = 0; z && i < 1000; i++) zero &= z[i] == 0;
  CHECK(z && zero);
  free(z);
  CHECK(calloc(0x10000, 0x10000) == NULL && errno == ENOMEM); /* size overflows */
  free(NULL);

  /* Someone else moves the break: malloc still works past the gap. */
  char *old = sbrk(0);
  CHECK(sbrk(4097) == old && (char *)sbrk(0) == old + 4097);
  old[4096] = 1;
  char *big = malloc(200000);
  CHECK(big != NULL);
  if (big) big[0] = big[199999] = 2;
  CHECK(old[4096] == 1);
  free(big);
}

static void check_printf(void) {
  FORMATS("-42", "%d", -42);
  FORMATS("42", "%i", 42);
  FORMATS("   42|42   |", "%5d|%-5d|", 42, 42);
  FORMATS("-0042", "%05d", -42);
  FORMATS("+5 5", "%+d% d", 5, 5);
  FORMATS("007", "%.3d", 7);
  FORMATS("", "%.0d", 0);
  FORMATS("   7", "%*d", 4, 7);
  FORMATS("7   |", "%*d|", -4, 7);
  FORMATS("4294967295", "%u", 4294967295u);
  FORMATS("deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu);
  FORMATS("00001234", "%08x", 0x1234u);
  FORMATS("0xff 010 0", "%#x %#o %#x", 255u, 8u, 0u);
  FORMATS("17", "%o", 15u);
  FORMATS("0x1000", "%p", (void *)0x1000);
  FORMATS("A|  B|C  |", "%c|%3c|%-3c|", 'A', 'B', 'C');
  FORMATS("abc|ab|       abc|abc       |", "%s|%.2s|%10s|%-10s|", "abc", "abc", "abc", "abc");
  FORMATS("100%", "%d%%", 100);
  FORMATS("-1 4294967295", "%ld %lu", -1L, 4294967295UL);
  FORMATS("5", "%zu", (size_t)5);
  FORMATS("44 4464", "%hhd %hd", 300, 70000);
  FORMATS("-9223372036854775808", "%lld", (long long)INT64_MIN);
  FORMATS("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
  FORMATS("123456789abcdef", "%llx", 0x123456789abcdefULL);
  FORMATS("0000000100000000", "%016llx", 0x100000000ULL);
  FORMATS("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
  const char *volatile unknown = "%y"; /* not a literal: gcc would reject it */
  FORMATS("%y", unknown);
  const char *volatile null_string = NULL;
  FORMATS("(null)", "%s", null_string);

  char small[4];
  CHECK(snprintf(small, sizeof small, "hello") == 5 && strcmp(small, "hel") == 0);
  CHECK(snprintf(NULL, 0, "%d", 12345) == 5);
  /* Longer than the 512-byte stack buffer: several writes, all of it out. */
  int p[2];
  CHECK(pipe(p) == 0);
  static char line[1500];
  memset(line, 'x', sizeof line - 1);
  CHECK(dprintf(p[1], "%s", line) == 1499);
  static char got[1500];
  int have = 0;
  while (have < 1499) {
    ssize_t r = read(p[0], got + have, sizeof got - 1 - (size_t)have);
    if (r <= 0) break;
    have += (int)r;
  }
  CHECK(have == 1499 && memcmp(got, line, 1499) == 0);
  close(p[0]);
  close(p[1]);
}

static void check_division(void) {
  volatile uint64_t big = UINT64_MAX, three = 3, e18 = 1000000000000000000ULL, seven = 7;
  CHECK(big / three == 0x5555555555555555ULL && big % three == 0);
  CHECK(e18 / seven == 142857142857142857ULL && e18 % seven == 1);
  volatile uint64_t small = 100, large = 0x100000000ULL;
  CHECK(small / large == 0 && small % large == 100);
  volatile int64_t m7 = -7, two = 2, min = INT64_MIN, m3 = -3;
  CHECK(m7 / two == -3 && m7 % two == -1);
  CHECK(min / two == INT64_MIN / 2 && min % m3 == -2);
  CHECK(m7 / m3 == 2 && m7 % m3 == -1);
}

static void check_strings(void) {
  CHECK(strlen("") == 0 && strlen("abc") == 3);
  CHECK(strcmp("abc", "abc") == 0 && strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0);
  CHECK(strcmp("\xff", "a") > 0); /* compared as unsigned char */
  CHECK(strncmp("abcx", "abcy", 3) == 0 && strncmp("ab", "abc", 5) < 0);
  const char *s = "a/b/c";
  CHECK(strchr(s, '/') == s + 1 && strrchr(s, '/') == s + 3 && strchr(s, 'z') == NULL);
  CHECK(strchr(s, 0) == s + 5 && strrchr(s, 'a') == s);
  char buf[16];
  CHECK(strcpy(buf, "hi") == buf && strcmp(buf, "hi") == 0);
  memset(buf, 'z', sizeof buf);
  strncpy(buf, "ab", 5);
  CHECK(memcmp(buf, "ab\0\0\0z", 6) == 0);
  char m[] = "0123456789";
  memmove(m + 2, m, 5);
  CHECK(memcmp(m, "0101234789", 10) == 0);
  memmove(m, m + 3, 5);
  CHECK(memcmp(m, "1234734789", 10) == 0);
  CHECK(memcmp("ab", "ac", 2) < 0 && memcmp("ab", "ab", 2) == 0);

  char *end;
  CHECK(strtol("  -123abc", &end, 10) == -123 && strcmp(end, "abc") == 0);
  CHECK(strtol("0x1f", NULL, 0) == 31 && strtol("017", NULL, 0) == 15 && strtol("ff", NULL, 16) == 255);
  CHECK(strtol("zz", &end, 10) == 0 && strcmp(end, "zz") == 0);
  errno = 0;
  CHECK(strtol("2147483648", NULL, 10) == 2147483647L && errno == ERANGE);
  errno = 0;
  CHECK(strtol("-2147483648", NULL, 10) == -2147483647L - 1 && errno == 0);
  CHECK(strtoul("4294967295", NULL, 10) == 4294967295UL && errno == 0);
  CHECK(strtoul("4294967296", NULL, 10) == 4294967295UL && errno == ERANGE);
  CHECK(atoi("42") == 42 && atoi("-7x") == -7);
}

static void check_syscalls(void) {
  errno = 0;
  CHECK(close(12345) == -1 && errno == EBADF);
  CHECK(open("/nonexistent/file", O_RDONLY) == -1 && errno == ENOENT);
  char *argv[] = {"x", NULL}, *envp[] = {NULL};
  CHECK(execve("/nonexistent/file", argv, envp) == -1 && errno == ENOENT);
  CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1) == MAP_FAILED && errno == EINVAL);
  char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(page != MAP_FAILED && page[4096] == 0);
  page[8191] = 1;
  CHECK(munmap(page, 8192) == 0);

  struct utsname u;
  CHECK(uname(&u) == 0 && u.sysname[0] != 0 && u.machine[0] != 0);
  struct timespec t0, t1, nap = {0, 1000000};
  CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0 && t0.tv_nsec >= 0 && t0.tv_nsec < 1000000000);
  CHECK(nanosleep(&nap, NULL) == 0);
  CHECK(clock_gettime(CLOCK_MONOTONIC, &t1) == 0);
  CHECK(t1.tv_sec > t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec > t0.tv_nsec));
  CHECK(clock_gettime(CLOCK_REALTIME, &t0) == 0 && t0.tv_sec > 0);
  CHECK(sched_yield() == 0);
  CHECK(getppid() > 0 && kill(getpid(), 0) == 0);

  CHECK(dup2(STDOUT_FILENO, 10) == 10 && close(10) == 0);

  pid_t child = fork();
  if (child == 0) {
    kill(getpid(), SIGKILL);
    _exit(0);
  }
  int status = 0;
  CHECK(child > 0 && waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status) && !WIFEXITED(status) && WTERMSIG(status) == SIGKILL);
  child = fork();
  if (child == 0) exit(300); /* only the low 8 bits reach the parent */
  CHECK(wait4(child, &status, 0, NULL) == child && WIFEXITED(status) && WEXITSTATUS(status) == 44);
  CHECK(wait(&status) == -1 && errno == ECHILD);
}

int main(int argc, char **argv, char **envp) {
  CHECK(argc == 3 && strcmp(argv[1], "one") == 0 && strcmp(argv[2], "two") == 0 && argv[3] == NULL);
  CHECK(envp == environ && envp[0] && strcmp(envp[0], "VS_CHECK=1") == 0 && envp[1] == NULL);
  check_malloc();
  check_printf();
  check_division();
  check_strings();
  check_syscalls();
  if (failures) {
    dprintf(STDERR_FILENO, "libc_check: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("libc_check: %d checks ok\n", checks);
  return 0;
}
