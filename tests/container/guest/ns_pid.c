/* PID namespaces observed from inside (pid_namespaces(7); SEMANTICS.md
 * §1.2, checklist items 1-7). One subcommand per item:
 *   ns_pid pid1 | levels | depth | unshare | reparent | initdeath | initsignal | proc
 * Each prints "ok ..." lines and "N failures" and exits with N; "skip: WHY"
 * and exit 77 when the system refuses to make a PID namespace at all. */
#include "ns_common.h"

/* 1: the child of clone(CLONE_NEWPID) is PID 1 with parent 0; the parent sees another PID. */
static void t_pid1(void) {
  const long child = clone_ns(CLONE_NEWPID);
  if (child == 0) {
    check("child of CLONE_NEWPID: getpid() is 1", getpid() == 1);
    check("child of CLONE_NEWPID: getppid() is 0", getppid() == 0);
    _exit(failures);
  }
  check("parent's clone() result is a PID other than 1", child > 1);
  join((int)child);
}

/* 2: one PID per level; ancestors name a process by their own level's PID;
 * a process in a child namespace cannot name its ancestors' processes. */
static void t_levels(void) {
  const long a = clone_ns(CLONE_NEWPID); /* A: PID 1 at level 1 */
  if (a == 0) {
    int block[2];
    pipe(block);
    const long b = clone_ns(CLONE_NEWPID); /* B: PID 1 at level 2 */
    if (b == 0) {
      close(block[1]);
      int visible = 0;
      for (int pid = 2; pid <= 64; pid++) visible += kill(pid, 0) == 0;
      check("level 2 cannot name any process of the levels above (kill(pid, 0) is ESRCH)", visible == 0);
      char c;
      read(block[0], &c, 1); /* until killed */
      _exit(100);
    }
    check("A sees B as its PID 2", b == 2);
    const int st = wait_for((int)b); /* A waits by its own level's PID; the top kills B by the top's */
    check("B was killed by SIGKILL from the top namespace", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    _exit(failures);
  }
  /* The top: find B through its own /proc (a fresh one of its namespace). */
  int found = 0, killed = 0;
  for (int tries = 0; tries < 200 && !found; tries++) {
    for (long pid = a + 1; pid < a + 16 && !found; pid++) {
      char path[32], line[128];
      snprintf(path, sizeof path, "/proc/%ld/status", pid);
      if (read_line(path, "NSpid:", line, sizeof line) != 0) continue;
      /* "NSpid:\tX\t2\t1": three PIDs, one per level, the last 1. */
      int tabs = 0;
      for (char *c = line; *c; c++) tabs += *c == '\t';
      const char *last = strrchr(line, '\t');
      if (tabs == 3 && strcmp(last, "\t1") == 0) {
        found = 1;
        check("a process at depth 2 has 3 PIDs (NSpid), the last 1", 1);
        killed = kill((int)pid, SIGKILL) == 0;
      }
    }
    if (!found) sleep_ms(10);
  }
  if (!found) check("found the depth-2 process in /proc", 0);
  join((int)a);
  /* Said after A has reported, so the lines come in one order on every
   * kernel (A's report races with the kill's otherwise). */
  if (found) check("the top kills it by its top-level PID", killed);
}

/* 2: nesting is limited to 32 levels below the root (MAX_PID_NS_LEVEL). */
static int nest(int depth) {
  const long r = clone_ns(CLONE_NEWPID);
  if (r == 0) _exit(nest(depth + 1));
  if (r < 0) {
    printf("%s nesting stops with ENOSPC\n", r == -ENOSPC ? "ok" : "FAIL");
    return depth;
  }
  const int st = wait_for((int)r);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}
static void t_depth(void) { printf("depth: %d nested PID namespaces\n", nest(0)); }

/* 3: unshare(CLONE_NEWPID) moves only the future children. */
static void t_unshare(void) {
  const int before = getpid();
  check("unshare(CLONE_NEWPID) succeeds", sys(NR_unshare, CLONE_NEWPID, 0, 0, 0, 0) == 0);
  check("the caller's getpid() is unchanged", getpid() == before);
  const int child = fork();
  if (child == 0) {
    check("its next child is PID 1 with getppid() 0", getpid() == 1 && getppid() == 0);
    _exit(failures);
  }
  join(child);
  const int again = fork();
  if (again == 0) _exit(0);
  check("after that init exited, fork() fails with ENOMEM", again == -1 && errno == ENOMEM);
}

/* 4: orphans go to the namespace's init, which must reap them. */
static void t_reparent(void) {
  const long init = clone_ns(CLONE_NEWPID);
  if (init == 0) {
    int p[2];
    pipe(p);
    const int c = fork();
    if (c == 0) {
      const int g = fork();
      if (g == 0) {
        for (int i = 0; i < 500 && getppid() != 1; i++) sleep_ms(2);
        check("the orphan's getppid() is 1 (the namespace init), not the host's init", getppid() == 1);
        _exit(5);
      }
      write(p[1], &g, sizeof g);
      _exit(0); /* orphans g */
    }
    int g = 0;
    read(p[0], &g, sizeof g);
    join(c);
    sleep_ms(200); /* g notices its new parent and exits */
    check("the exited orphan stays a zombie until init reaps it (kill(pid, 0) works)", kill(g, 0) == 0);
    int st = 0;
    check("init reaps the orphan with its exit code 5", waitpid(g, &st, 0) == g && WEXITSTATUS(st) == 5);
    check("then it is gone (ESRCH)", kill(g, 0) == -1 && errno == ESRCH);
    _exit(failures);
  }
  join((int)init);
}

/* 5: when init exits, every other process of its namespace gets SIGKILL. */
static void t_initdeath(void) {
  int life[2], ready[2], block[2];
  pipe(life), pipe(ready), pipe(block);
  const long init = clone_ns(CLONE_NEWPID);
  if (init == 0) {
    for (int k = 0; k < 2; k++) {
      if (fork() == 0) {
        char c = 'r';
        write(ready[1], &c, 1);
        read(block[0], &c, 1); /* blocks: nobody writes; holds life[1] open */
        _exit(0);
      }
    }
    char c;
    read(ready[0], &c, 1), read(ready[0], &c, 1);
    _exit(0); /* init leaves its two children behind */
  }
  close(life[1]), close(ready[1]);
  const int st = wait_for((int)init);
  check("init exits normally", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  char c;
  /* Both members held life[1]: end of file once both were killed. */
  check("the namespace's other processes were killed (their pipe end closed)", read(life[0], &c, 1) == 0);
  close(block[1]);
}

/* 6: init gets from inside only signals it has a handler for; SIGKILL from
 * the parent namespace always kills it. */
static volatile int got_term;
static void on_term(int sig) { got_term = sig; }
void ns_restorer(void);
__asm__(".text\n.globl ns_restorer\nns_restorer:\n  movl $173, %eax\n  int $0x80\n"); /* rt_sigreturn */

static void t_initsignal(void) {
  int go[2], ready[2];
  pipe(go), pipe(ready);
  const long init = clone_ns(CLONE_NEWPID);
  if (init == 0) {
    int k = fork();
    if (k == 0) _exit(kill(1, SIGTERM) == 0 ? 0 : 1);
    join(k);
    check("init survives kill(1, SIGTERM) from inside without a handler", 1);
    /* struct sigaction for rt_sigaction: handler, flags, restorer, mask[2]. */
    unsigned long act[5] = {(unsigned long)on_term, 0x04000000 | 4 /* SA_RESTORER | SA_SIGINFO */,
                            (unsigned long)ns_restorer, 0, 0};
    check("rt_sigaction installs a SIGTERM handler", sys(NR_rt_sigaction, SIGTERM, (long)act, 0, 8, 0) == 0);
    k = fork();
    if (k == 0) _exit(kill(1, SIGTERM) == 0 ? 0 : 1);
    int st = 0;
    while (waitpid(k, &st, 0) != k && errno == EINTR) {
    }
    check("with a handler, SIGTERM from inside is delivered", got_term == SIGTERM);
    act[0] = 0; /* SIG_DFL again */
    sys(NR_rt_sigaction, SIGTERM, (long)act, 0, 8, 0);
    char c = 'r';
    write(ready[1], &c, 1);
    read(go[0], &c, 1); /* the parent has sent SIGTERM by now */
    check("SIGTERM from the parent namespace is ignored too (no handler)", 1);
    read(go[0], &c, 1); /* blocks until SIGKILL */
    _exit(100);
  }
  char c;
  read(ready[0], &c, 1); /* init is back to SIG_DFL for SIGTERM */
  kill((int)init, SIGTERM);
  write(go[1], &c, 1);
  sleep_ms(100);
  check("kill(init, SIGKILL) from the parent namespace is allowed", kill((int)init, SIGKILL) == 0);
  const int st = wait_for((int)init);
  printf("init's own lines above; it ended by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  check("SIGKILL from the parent namespace killed init", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* 7: CLONE_NEWPID with CLONE_THREAD is EINVAL; a fresh /proc shows only the namespace. */
static void t_proc(void) {
  check("clone(CLONE_NEWPID | CLONE_THREAD | ...) is EINVAL",
        clone_ns(CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) == -EINVAL);
  const long init = clone_ns(CLONE_NEWPID | CLONE_NEWNS);
  if (init == 0) {
    check("mounting a fresh proc over /proc", sys(NR_mount, 0, (long)"/", 0, MS_REC | MS_PRIVATE, 0) == 0 &&
                                                    sys(NR_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0) == 0);
    int block[2];
    pipe(block);
    int kids[2];
    for (int k = 0; k < 2; k++) {
      kids[k] = fork();
      if (kids[k] == 0) {
        char c;
        close(block[1]);
        read(block[0], &c, 1);
        _exit(0);
      }
    }
    char list[128] = "";
    char buf[1024];
    const int fd = open("/proc", O_RDONLY);
    long n;
    int pids[16], count = 0;
    while ((n = sys(NR_getdents64, fd, (long)buf, sizeof buf, 0, 0)) > 0) {
      for (long off = 0; off < n;) {
        const unsigned short reclen = *(unsigned short *)(buf + off + 16);
        const char *name = buf + off + 19;
        if (name[0] >= '1' && name[0] <= '9' && count < 16) pids[count++] = atoi(name);
        off += reclen;
      }
    }
    close(fd);
    for (int i = 0; i < count; i++) /* sorted, as Linux lists them */
      for (int j = i + 1; j < count; j++)
        if (pids[j] < pids[i]) {
          const int t = pids[i];
          pids[i] = pids[j], pids[j] = t;
        }
    for (int i = 0; i < count; i++) snprintf(list + strlen(list), sizeof list - strlen(list), " %d", pids[i]);
    printf("/proc lists:%s\n", list);
    check("the fresh /proc lists exactly the namespace's 3 processes", count == 3 && pids[0] == 1 && pids[2] == 3);
    char self[16] = "";
    sys(NR_readlink, (long)"/proc/self", (long)self, sizeof self - 1, 0, 0);
    check("readlink /proc/self is 1", strcmp(self, "1") == 0);
    close(block[1]);
    join(kids[0]), join(kids[1]);
    _exit(failures);
  }
  join((int)init);
}

int main(int argc, char **argv) {
  const long probe = clone_ns(CLONE_NEWPID);
  if (probe == 0) _exit(0);
  if (probe < 0) {
    printf("skip: clone(CLONE_NEWPID) fails with %ld\n", -probe);
    return 77;
  }
  wait_for((int)probe);
  /* levels reads /proc: a fresh one of our namespace in a private mount namespace. */
  if (argc > 1 && strcmp(argv[1], "levels") == 0 && private_mounts(1) != 0) {
    printf("skip: no private mount namespace with a fresh /proc\n");
    return 77;
  }
  static const struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {{"pid1", t_pid1},         {"levels", t_levels},         {"depth", t_depth},
               {"unshare", t_unshare},   {"reparent", t_reparent},     {"initdeath", t_initdeath},
               {"initsignal", t_initsignal}, {"proc", t_proc}};
  for (int i = 1; i < argc; i++)
    for (unsigned t = 0; t < sizeof tests / sizeof tests[0]; t++)
      if (strcmp(argv[i], tests[t].name) == 0) tests[t].fn();
  printf("%d failures\n", failures);
  return failures;
}
