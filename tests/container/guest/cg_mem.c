/* The cgroup v2 memory controller observed from inside (cgroup-v2.rst
 * "Memory"; SEMANTICS.md §2.3, checklist items 17-20). One subcommand per
 * group of checks:
 *   cg_mem files | charge | oom | high | shrink | group
 * Each mounts cgroup2 at /sys/fs/cgroup, prints "ok ..." / "FAIL ..." lines
 * and "N failures", and exits with N. Workers run inside a cgroup after an
 * execve, so that their image pages are charged there (and can be
 * reclaimed there):
 *   cg_mem grow-high CG PAGES     sets CG's memory.high, touches PAGES, checks
 *   cg_mem hold READY GATE PAGES  touches PAGES, writes READY, waits for GATE
 *   cg_mem hold-stdin PAGES       touches PAGES, waits for console input
 * Only container-sim runs it (it would change a Linux host's hierarchy). */
#include <sys/mman.h>

#include "cg_common.h"

enum { NR_execve = 11 };

#define PG 4096L

static long num(const char *path) { return strtol(get(path), 0, 10); }

/* The value of the line "KEY N" of a keyed file (memory.events, memory.stat), -1 if absent. */
static long key(const char *path, const char *k) {
  const char *s = get(path);
  const size_t len = strlen(k);
  while (*s) {
    if (strncmp(s, k, len) == 0 && s[len] == ' ') return strtol(s + len + 1, 0, 10);
    while (*s && *s != '\n') s++;
    if (*s) s++;
  }
  return -1;
}

static const char *bytes(long pages) {
  static char b[32];
  snprintf(b, sizeof b, "%ld", pages * PG);
  return b;
}

/* CG/cg/file, in one of four buffers (two may be live in one expression). */
static const char *path(const char *cg, const char *file) {
  static char p[4][128];
  static int next;
  char *out = p[next++ & 3];
  snprintf(out, sizeof p[0], CG "/%s/%s", cg, file);
  return out;
}

static long move_self(const char *cg) { return put(path(cg, "cgroup.procs"), "0"); }

/* Maps `pages` anonymous pages and touches each one (one page fault each). */
static char *touch(long pages) {
  char *p = mmap(0, (size_t)(pages * PG), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 0;
  for (long i = 0; i < pages; i++) p[i * PG] = 1;
  return p;
}

/* A child that moves into `cg`, touches `pages` pages, says so, and waits for the gate. */
static long holder(const char *cg, long pages, int ready[2], int gate[2]) {
  const long pid = sys(NR_fork, 0, 0, 0, 0, 0);
  if (pid == 0) {
    close(gate[1]);
    move_self(cg);
    touch(pages);
    write(ready[1], "r", 1);
    char c;
    read(gate[0], &c, 1);
    _exit(0);
  }
  char c;
  read(ready[0], &c, 1);
  return pid;
}

/* A child that moves into `cg` and runs /bin/cg_mem with `args` there. */
static long worker(const char *cg, const char *a1, const char *a2, const char *a3, const char *a4) {
  const long pid = sys(NR_fork, 0, 0, 0, 0, 0);
  if (pid == 0) {
    move_self(cg);
    char *argv[] = {"cg_mem", (char *)a1, (char *)a2, (char *)a3, (char *)a4, 0};
    sys(NR_execve, (long)"/bin/cg_mem", (long)argv, (long)environ, 0, 0);
    _exit(99);
  }
  return pid;
}

static int killed(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

/* The interface files, their defaults, and the values Linux takes or refuses. */
static void t_files(void) {
  check("mkdir m", mk(CG "/m") == 0);
  check("no memory.max before the root enables memory", put(CG "/m/memory.max", "1M") == -ENOENT);
  check("+memory at the root", put(CG "/cgroup.subtree_control", "+memory") == 0);
  check("memory.max and memory.high default to max", is(CG "/m/memory.max", "max\n") && is(CG "/m/memory.high", "max\n"));
  check("memory.low and memory.min default to 0", is(CG "/m/memory.low", "0\n") && is(CG "/m/memory.min", "0\n"));
  check("memory.current of an empty cgroup is 0", is(CG "/m/memory.current", "0\n"));
  check("memory.events starts at zero",
        is(CG "/m/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"));
  check("memory.stat is keyed, anon first", strncmp(get(CG "/m/memory.stat"), "anon 0\nfile 0\nkernel 0\n", 23) == 0);
  check("memory.max \"abc\": EINVAL", put(CG "/m/memory.max", "abc") == -EINVAL);
  check("memory.max \"1KB\": EINVAL", put(CG "/m/memory.max", "1KB") == -EINVAL);
  check("memory.max \"-1\": EINVAL", put(CG "/m/memory.max", "-1") == -EINVAL);
  check("memory.max \"1 M\": EINVAL", put(CG "/m/memory.max", "1 M") == -EINVAL);
  check("memory.high \"max1\": EINVAL", put(CG "/m/memory.high", "max1") == -EINVAL);
  check("memory.max 5000 reads back 4096 (bytes / PAGE_SIZE, rounded down)",
        put(CG "/m/memory.max", "5000") == 0 && is(CG "/m/memory.max", "4096\n"));
  check("memory.max 8k reads 8192", put(CG "/m/memory.max", "8k") == 0 && is(CG "/m/memory.max", "8192\n"));
  check("memory.max 0x3000 reads 12288", put(CG "/m/memory.max", "0x3000") == 0 && is(CG "/m/memory.max", "12288\n"));
  check("memory.max 1M reads 1048576", put(CG "/m/memory.max", "1M\n") == 0 && is(CG "/m/memory.max", "1048576\n"));
  check("memory.max 2G reads 2147483648", put(CG "/m/memory.max", "2G") == 0 && is(CG "/m/memory.max", "2147483648\n"));
  check("memory.max max", put(CG "/m/memory.max", "max\n") == 0 && is(CG "/m/memory.max", "max\n"));
  check("memory.high 64K", put(CG "/m/memory.high", "64K") == 0 && is(CG "/m/memory.high", "65536\n"));
  check("memory.low 1M is stored", put(CG "/m/memory.low", "1M") == 0 && is(CG "/m/memory.low", "1048576\n"));
  check("memory.min max is stored", put(CG "/m/memory.min", "max") == 0 && is(CG "/m/memory.min", "max\n"));
  check("memory.oom.group 2: EINVAL", put(CG "/m/memory.oom.group", "2") == -EINVAL);
  check("memory.oom.group 1", put(CG "/m/memory.oom.group", "1") == 0 && is(CG "/m/memory.oom.group", "1\n"));
  check("memory.current cannot be opened for writing: EACCES", put(CG "/m/memory.current", "0") == -EACCES);
  check("the root has no memory.max", put(CG "/memory.max", "1M") == -ENOENT);
  check("-memory at the root, +memory again: defaults back",
        put(CG "/cgroup.subtree_control", "-memory") == 0 && put(CG "/cgroup.subtree_control", "+memory") == 0 &&
            is(CG "/m/memory.high", "max\n") && is(CG "/m/memory.oom.group", "0\n"));
  check("number 511, where memory.high sleeps, is ENOSYS to a guest", sys(511, 0, 0, 0, 0, 0) == -ENOSYS);
  check("rmdir m", rm(CG "/m") == 0);
}

/* 20: a page stays charged where it was faulted in; memory.current is hierarchical. */
static void t_charge(void) {
  check("mkdir a, a/b, a/c", mk(CG "/a") == 0 && mk(CG "/a/b") == 0 && mk(CG "/a/c") == 0);
  check("+memory at the root and in a",
        put(CG "/cgroup.subtree_control", "+memory") == 0 && put(CG "/a/cgroup.subtree_control", "+memory") == 0);
  check("move into a/b", move_self("a/b") == 0);
  check("a/b starts at 0: what was charged before the move stays in the root", num(path("a/b", "memory.current")) == 0);
  char *p = touch(64);
  const long b1 = num(path("a/b", "memory.current"));
  printf("info a/b after 64 pages: %ld bytes\n", b1);
  check("64 touched pages charge a/b (and a page table, a stack page at most)", b1 >= 64 * PG && b1 <= 67 * PG);
  check("memory.stat anon of a/b counts them", key(path("a/b", "memory.stat"), "anon") >= 64 * PG);
  check("memory.stat pgfault of a/b counts the faults", key(path("a/b", "memory.stat"), "pgfault") >= 64);
  check("a's memory.current is a/b's plus a/c's",
        num(CG "/a/memory.current") == num(path("a/b", "memory.current")) + num(path("a/c", "memory.current")));
  check("move into a/c", move_self("a/c") == 0);
  check("a/b keeps its charge after the move", num(path("a/b", "memory.current")) == b1);
  char *q = touch(16);
  const long c1 = num(path("a/c", "memory.current"));
  check("new pages charge a/c", c1 >= 16 * PG && c1 <= 18 * PG && num(path("a/b", "memory.current")) == b1);
  munmap(p, 64 * PG);
  check("freeing the old pages uncharges a/b, where they were charged",
        num(path("a/b", "memory.current")) == b1 - 64 * PG && num(path("a/c", "memory.current")) == c1);
  check("back into a/b for 32 pages, then into a/c", move_self("a/b") == 0 && (p = touch(32)) != 0 && move_self("a/c") == 0);
  const long b2 = num(path("a/b", "memory.current"));
  check("rmdir a/b while it still holds charges", rm(CG "/a/b") == 0);
  check("a removed cgroup's charges still count in a",
        num(CG "/a/memory.current") == b2 + num(path("a/c", "memory.current")));
  munmap(p, 32 * PG);
  check("freeing them uncharges a (through the removed a/b)",
        num(CG "/a/memory.current") == b2 - 32 * PG + num(path("a/c", "memory.current")));
  munmap(q, 16 * PG);
  check("back to the root; rmdir a/c and a", put(CG "/cgroup.procs", "0") == 0 && rm(CG "/a/c") == 0 && rm(CG "/a") == 0);
}

/* 18: the OOM killer of a cgroup kills only inside it; events up the tree. */
static void t_oom(void) {
  int ready[2], gate[2];
  pipe(ready);
  pipe(gate);
  check("mkdir a, a/x, a/y, s", mk(CG "/a") == 0 && mk(CG "/a/x") == 0 && mk(CG "/a/y") == 0 && mk(CG "/s") == 0);
  check("+memory at the root and in a",
        put(CG "/cgroup.subtree_control", "+memory") == 0 && put(CG "/a/cgroup.subtree_control", "+memory") == 0);
  const long big = holder("a/y", 200, ready, gate);
  const long sib = holder("s", 400, ready, gate);
  const long limit = num(CG "/a/memory.current") / PG + 100;
  check("a/memory.max = a's usage + 100 pages", put(CG "/a/memory.max", bytes(limit)) == 0);
  const long small = sys(NR_fork, 0, 0, 0, 0, 0);
  if (small == 0) {
    move_self("a/x");
    touch(150); /* 50 pages over: someone in a must go */
    _exit(0);
  }
  check("the faulting process in a/x gets its pages and exits 0", wait_for((int)small) == 0);
  check("the OOM killer took the largest process in a: a/y's, with SIGKILL", killed(wait_for((int)big)));
  check("a/memory.events: max and oom counted, oom_kill 1",
        key(CG "/a/memory.events", "max") >= 1 && key(CG "/a/memory.events", "oom") == 1 &&
            key(CG "/a/memory.events", "oom_kill") == 1);
  check("a/memory.events.local: the limit was a's (oom 1), the kill was not (oom_kill 0)",
        key(CG "/a/memory.events.local", "oom") == 1 && key(CG "/a/memory.events.local", "oom_kill") == 0);
  check("a/y counts the kill in memory.events and .local",
        key(path("a/y", "memory.events"), "oom_kill") == 1 && key(path("a/y", "memory.events.local"), "oom_kill") == 1);
  check("a/x's own limit was never hit (max 0, oom 0)",
        key(path("a/x", "memory.events"), "max") == 0 && key(path("a/x", "memory.events"), "oom") == 0);
  check("s saw nothing", key(path("s", "memory.events"), "oom_kill") == 0 && key(path("s", "memory.events"), "max") == 0);
  check("a is under its limit again", num(CG "/a/memory.current") <= limit * PG);
  const long hog = sys(NR_fork, 0, 0, 0, 0, 0);
  if (hog == 0) {
    move_self("a/x");
    touch(100000); /* until killed */
    _exit(0);
  }
  check("a process alone over the limit is the victim itself", killed(wait_for((int)hog)));
  check("a/memory.events oom_kill 2, a/x oom_kill 1",
        key(CG "/a/memory.events", "oom_kill") == 2 && key(path("a/x", "memory.events.local"), "oom_kill") == 1);
  close(gate[1]);
  check("the process in sibling s survives with more memory than a's limit", wait_for((int)sib) == 0);
  check("rmdir a/x a/y a s", rm(CG "/a/x") == 0 && rm(CG "/a/y") == 0 && rm(CG "/a") == 0 && rm(CG "/s") == 0);
}

/* 17: over memory.high: reclaim, `high` events, a throttle; never a kill. */
static void t_high(void) {
  check("mkdir h, +memory at the root", mk(CG "/h") == 0 && put(CG "/cgroup.subtree_control", "+memory") == 0);
  const long w = worker("h", "grow-high", "h", "32", 0);
  const int st = wait_for((int)w);
  check("the process over memory.high is never killed (exit 0 = all its checks passed)", st == 0);
  if (st != 0) failures += WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  check("h/memory.events: high counted, no max, oom or oom_kill",
        key(CG "/h/memory.events", "high") > 0 && key(CG "/h/memory.events", "oom") == 0 &&
            key(CG "/h/memory.events", "oom_kill") == 0 && key(CG "/h/memory.events", "max") == 0);
  check("rmdir h", rm(CG "/h") == 0);
}

static void w_grow_high(const char *cg, long pages) {
  const long base = num(path(cg, "memory.current")) / PG;
  check("memory.high = usage + 16 pages", put(path(cg, "memory.high"), bytes(base + 16)) == 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  touch(pages);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  printf("info %ld pages over memory.high took %ld ms of virtual time\n", pages, ms);
  check("the allocation was held back (over 100 ms)", ms > 100);
  check("memory.high was breached: anonymous pages cannot be reclaimed",
        num(path(cg, "memory.current")) > num(path(cg, "memory.high")));
  check("reclaim took clean image pages (pgsteal > 0)", key(path(cg, "memory.stat"), "pgsteal") > 0);
  check("... and they were read back (pgmajfault > 0)", key(path(cg, "memory.stat"), "pgmajfault") > 0);
  exit(failures);
}

/* 19: writing memory.max below memory.current reclaims, then OOM-kills. */
static void t_shrink(void) {
  int ready[2], gate[2];
  pipe(ready);
  pipe(gate);
  char r[8], g[8];
  snprintf(r, sizeof r, "%d", ready[1]);
  snprintf(g, sizeof g, "%d", gate[0]);
  check("mkdir r, +memory at the root", mk(CG "/r") == 0 && put(CG "/cgroup.subtree_control", "+memory") == 0);
  const long w = worker("r", "hold", r, g, "100");
  char c;
  read(ready[0], &c, 1);
  const long cur = num(CG "/r/memory.current") / PG;
  const long file = key(CG "/r/memory.stat", "file") / PG;
  printf("info r holds %ld pages, %ld of them clean image pages\n", cur, file);
  check("r has clean image pages to reclaim", file >= 2);
  check("memory.max = usage - 2 pages is taken", put(CG "/r/memory.max", bytes(cur - 2)) == 0);
  int st = 0;
  check("reclaim was enough: the process lives", waitpid((int)w, &st, WNOHANG) == 0);
  check("... r is at its limit, no oom event, pgsteal >= 2",
        num(CG "/r/memory.current") <= (cur - 2) * PG && key(CG "/r/memory.events", "oom") == 0 &&
            key(CG "/r/memory.stat", "pgsteal") >= 2);
  check("memory.max = 20 pages is taken too", put(CG "/r/memory.max", bytes(20)) == 0);
  check("reclaim could not get there: the OOM killer ended the process", killed(wait_for((int)w)));
  check("r/memory.events: oom 1, oom_kill 1, max 0 (the write is not a charge)",
        key(CG "/r/memory.events", "oom") == 1 && key(CG "/r/memory.events", "oom_kill") == 1 &&
            key(CG "/r/memory.events", "max") == 0);
  check("r is under its limit", num(CG "/r/memory.current") <= 20 * PG);
  check("memory.max back to max", put(CG "/r/memory.max", "max") == 0);
  const long self = worker("r", "shrink-self", "r", 0, 0);
  check("a process that lowers its own cgroup's memory.max below its usage is the victim", killed(wait_for((int)self)));
  check("r/memory.events: oom 2, oom_kill 2",
        key(CG "/r/memory.events", "oom") == 2 && key(CG "/r/memory.events", "oom_kill") == 2);
  close(gate[1]);
  check("rmdir r", rm(CG "/r") == 0);
}

/* memory.oom.group: the whole cgroup goes. */
static void t_group(void) {
  int ready[2], gate[2];
  pipe(ready);
  pipe(gate);
  check("mkdir g, g/x, g/y", mk(CG "/g") == 0 && mk(CG "/g/x") == 0 && mk(CG "/g/y") == 0);
  check("+memory at the root and in g",
        put(CG "/cgroup.subtree_control", "+memory") == 0 && put(CG "/g/cgroup.subtree_control", "+memory") == 0);
  check("g/memory.oom.group = 1", put(CG "/g/memory.oom.group", "1") == 0);
  const long x = holder("g/x", 100, ready, gate);
  const long y = holder("g/y", 50, ready, gate);
  check("g/memory.max = usage + 10 pages", put(CG "/g/memory.max", bytes(num(CG "/g/memory.current") / PG + 10)) == 0);
  const long z = sys(NR_fork, 0, 0, 0, 0, 0);
  if (z == 0) {
    move_self("g/y");
    touch(50);
    _exit(0);
  }
  check("every process in g is killed", killed(wait_for((int)x)) && killed(wait_for((int)y)) && killed(wait_for((int)z)));
  check("g/memory.events: oom_group_kill 1, oom_kill 3",
        key(CG "/g/memory.events", "oom_group_kill") == 1 && key(CG "/g/memory.events", "oom_kill") == 3);
  check("g/y counts two kills, g/x one",
        key(path("g/y", "memory.events"), "oom_kill") == 2 && key(path("g/x", "memory.events"), "oom_kill") == 1);
  close(gate[1]);
  check("rmdir g/x g/y g", rm(CG "/g/x") == 0 && rm(CG "/g/y") == 0 && rm(CG "/g") == 0);
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "grow-high") == 0) w_grow_high(argv[2], strtol(argv[3], 0, 10));
  if (argc == 5 && strcmp(argv[1], "hold") == 0) {
    touch(strtol(argv[4], 0, 10));
    write((int)strtol(argv[2], 0, 10), "r", 1);
    char c;
    read((int)strtol(argv[3], 0, 10), &c, 1);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "shrink-self") == 0) {
    touch(50);
    put(path(argv[2], "memory.max"), bytes(10)); /* the OOM killer picks the writer: it dies as the write returns */
    return 3;
  }
  if (argc == 3 && strcmp(argv[1], "hold-stdin") == 0) {
    touch(strtol(argv[2], 0, 10));
    char c;
    read(0, &c, 1);
    return 0;
  }
  const long m = sys(NR_mount, (long)"none", (long)CG, (long)"cgroup2", 0, 0);
  if (m != 0) {
    printf("skip: mount -t cgroup2 fails with %ld\n", -m);
    return 77;
  }
  static const struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {{"files", t_files}, {"charge", t_charge}, {"oom", t_oom},
               {"high", t_high},   {"shrink", t_shrink}, {"group", t_group}};
  for (int i = 1; i < argc; i++)
    for (unsigned t = 0; t < sizeof tests / sizeof tests[0]; t++)
      if (strcmp(argv[i], tests[t].name) == 0) tests[t].fn();
  printf("%d failures\n", failures);
  return failures;
}
