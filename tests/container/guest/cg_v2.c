/* cgroup v2 observed from inside (cgroup-v2.rst; SEMANTICS.md Part 1b
 * §2.1, §2.4, checklist items 12, 22 and the populated/rmdir half of 23).
 * One subcommand per group of checks:
 *   cg_v2 pids | ancestor | tree | zombie | bad
 * Each mounts cgroup2 at /sys/fs/cgroup, prints "ok ..." / "FAIL ..."
 * lines and "N failures", and exits with N. Only container-sim runs it:
 * on a Linux host it would need root and would change the host's own
 * hierarchy, so there is no native comparison (it prints "skip: ..." and
 * exits 77 when the mount is refused). */
#include "cg_common.h"




/* A child that waits until `gate` is closed, then exits 0. */
static long waiter(int gate[2]) {
  const long pid = sys(NR_fork, 0, 0, 0, 0, 0);
  if (pid == 0) {
    char c;
    close(gate[1]);
    read(gate[0], &c, 1);
    _exit(0);
  }
  return pid;
}

/* 12: pids.max = N and pids.current = N: fork fails with EAGAIN and
 * pids.events max counts it; a migration can still go above the limit. */
static void t_pids(void) {
  int gate[2];
  pipe(gate);
  const long outside = waiter(gate); /* stays in the root cgroup for now */
  check("mkdir " CG "/p", mk(CG "/p") == 0);
  check("no pids.max in p before the root enables pids", put(CG "/p/pids.max", "2") == -ENOENT);
  check("+pids in the root's cgroup.subtree_control", put(CG "/cgroup.subtree_control", "+pids") == 0);
  check("p's pids.max defaults to max", is(CG "/p/pids.max", "max\n"));
  check("pids.max = 2", put(CG "/p/pids.max", "2") == 0 && is(CG "/p/pids.max", "2\n"));
  check("writing 0 to p/cgroup.procs moves the writer", put(CG "/p/cgroup.procs", "0") == 0);
  check("pids.current is 1", is(CG "/p/pids.current", "1\n"));
  const long inside = waiter(gate);
  check("a fork under the limit works (pids.current 2)", inside > 0 && is(CG "/p/pids.current", "2\n"));
  check("pids.events max is 0 before the limit is hit", is(CG "/p/pids.events", "max 0\n"));
  const long refused = sys(NR_fork, 0, 0, 0, 0, 0);
  if (refused == 0) _exit(1);
  check("fork at pids.current == pids.max fails with EAGAIN", refused == -EAGAIN);
  check("pids.events max is 1", is(CG "/p/pids.events", "max 1\n"));
  check("pids.current is still 2", is(CG "/p/pids.current", "2\n"));
  char pid[16];
  snprintf(pid, sizeof pid, "%ld\n", outside);
  check("writing another PID into p/cgroup.procs works at the limit", put(CG "/p/cgroup.procs", pid) == 0);
  check("... and pushes pids.current (3) above pids.max (2)", is(CG "/p/pids.current", "3\n"));
  check("pids.max can be set below pids.current", put(CG "/p/pids.max", "1") == 0);
  close(gate[1]);
  join((int)outside);
  join((int)inside);
  check("reaped children are uncharged (pids.current 1)", is(CG "/p/pids.current", "1\n"));
  check("back to the root cgroup", put(CG "/cgroup.procs", "0") == 0);
  check("rmdir p once empty", rm(CG "/p") == 0);
}

/* 12, any ancestor: a parent's limit stops a fork in its child cgroup, and
 * cgroup v2 counts the hit in the parent's pids.events, not the child's. */
static void t_ancestor(void) {
  check("mkdir a and a/b", mk(CG "/a") == 0 && mk(CG "/a/b") == 0);
  check("+pids at the root and in a", put(CG "/cgroup.subtree_control", "+pids") == 0 &&
                                          put(CG "/a/cgroup.subtree_control", "+pids") == 0);
  check("a/pids.max = 1, a/b/pids.max stays max", put(CG "/a/pids.max", "1") == 0 && is(CG "/a/b/pids.max", "max\n"));
  check("move into a/b", put(CG "/a/b/cgroup.procs", "0") == 0);
  const long r = sys(NR_fork, 0, 0, 0, 0, 0);
  if (r == 0) _exit(1);
  check("fork in a/b fails with EAGAIN: a's limit is reached", r == -EAGAIN);
  check("a/pids.events max 1", is(CG "/a/pids.events", "max 1\n"));
  check("a/b/pids.events max 0 (its own limit was not the one hit)", is(CG "/a/b/pids.events", "max 0\n"));
  check("a/pids.current counts the subtree (1)", is(CG "/a/pids.current", "1\n"));
  put(CG "/cgroup.procs", "0");
  check("rmdir a/b then a", rm(CG "/a/b") == 0 && rm(CG "/a") == 0);
}

/* 22 and 23 (second half): subtree_control's top-down and
 * no-internal-process rules, populated events, rmdir of a busy cgroup. */
static void t_tree(void) {
  check("mkdir a and a/b", mk(CG "/a") == 0 && mk(CG "/a/b") == 0);
  check("the root offers cpu io memory pids", is(CG "/cgroup.controllers", "cpu io memory pids\n"));
  check("a offers nothing while the root enables nothing", is(CG "/a/cgroup.controllers", "\n"));
  check("+memory in a fails (ENOENT) unless the root enabled it",
        put(CG "/a/cgroup.subtree_control", "+memory") == -ENOENT);
  check("+memory +pids at the root", put(CG "/cgroup.subtree_control", "+memory +pids") == 0);
  check("the root's subtree_control reads memory pids", is(CG "/cgroup.subtree_control", "memory pids\n"));
  check("a now offers memory pids", is(CG "/a/cgroup.controllers", "memory pids\n"));
  check("+memory in a (no processes) works", put(CG "/a/cgroup.subtree_control", "+memory") == 0);
  check("a/b offers memory", is(CG "/a/b/cgroup.controllers", "memory\n"));
  check("-memory at the root while a enables it: EBUSY", put(CG "/cgroup.subtree_control", "-memory") == -EBUSY);
  check("moving into a, which enables a domain controller for children: EBUSY",
        put(CG "/a/cgroup.procs", "0") == -EBUSY);
  check("-memory in a", put(CG "/a/cgroup.subtree_control", "-memory") == 0);
  check("move into a", put(CG "/a/cgroup.procs", "0") == 0);
  check("+memory in a while a has a process: EBUSY (no internal processes)",
        put(CG "/a/cgroup.subtree_control", "+memory") == -EBUSY);
  check("+pids (a threaded controller) there is allowed", put(CG "/a/cgroup.subtree_control", "+pids") == 0);
  check("-pids in a", put(CG "/a/cgroup.subtree_control", "-pids") == 0);
  check("a is populated", is(CG "/a/cgroup.events", "populated 1\nfrozen 0\n"));
  check("a/b is not", is(CG "/a/b/cgroup.events", "populated 0\nfrozen 0\n"));
  check("move into a/b", put(CG "/a/b/cgroup.procs", "0") == 0);
  check("a/b is populated, and a through it", is(CG "/a/b/cgroup.events", "populated 1\nfrozen 0\n") &&
                                                  is(CG "/a/cgroup.events", "populated 1\nfrozen 0\n"));
  check("a's cgroup.procs is empty now", is(CG "/a/cgroup.procs", ""));
  check("/proc/self/cgroup says 0::/a/b", is("/proc/self/cgroup", "0::/a/b\n"));
  check("rmdir of populated a/b: EBUSY", rm(CG "/a/b") == -EBUSY);
  check("back to the root", put(CG "/cgroup.procs", "0") == 0);
  check("populated flips to 0 in a/b and a", is(CG "/a/b/cgroup.events", "populated 0\nfrozen 0\n") &&
                                                is(CG "/a/cgroup.events", "populated 0\nfrozen 0\n"));
  check("rmdir of a, which has a child: EBUSY", rm(CG "/a") == -EBUSY);
  check("rmdir a/b then a", rm(CG "/a/b") == 0 && rm(CG "/a") == 0);
  check("a is gone", sys(NR_open, (long)CG "/a/cgroup.procs", O_RDONLY, 0, 0, 0) == -ENOENT);
}

/* §2.1: a zombie stays in its cgroup but does not make it populated; a
 * cgroup holding only zombies can be removed, and /proc/PID/cgroup then
 * says "(deleted)". */
static void t_zombie(void) {
  check("mkdir z", mk(CG "/z") == 0);
  const long child = sys(NR_fork, 0, 0, 0, 0, 0);
  if (child == 0) _exit(put(CG "/z/cgroup.procs", "0") == 0 ? 0 : 1);
  char path[64], status[64], state[64] = "";
  snprintf(path, sizeof path, "/proc/%ld/cgroup", child);
  snprintf(status, sizeof status, "/proc/%ld/status", child);
  for (int i = 0; i < 200 && !strchr(state, 'Z'); i++) { /* until it is a zombie */
    sleep_ms(1);
    read_line(status, "State:", state, sizeof state);
  }
  check("the exited, unreaped child is still in z", is(path, "0::/z\n"));
  check("z is not populated and lists nobody", is(CG "/z/cgroup.events", "populated 0\nfrozen 0\n") &&
                                                  is(CG "/z/cgroup.procs", ""));
  check("rmdir of z, holding only a zombie, works", rm(CG "/z") == 0);
  check("the zombie's /proc/PID/cgroup says (deleted)", is(path, "0::/z (deleted)\n"));
  join((int)child);
}

/* Writes of impossible values get Linux's errors. */
static void t_bad(void) {
  mk(CG "/x");
  put(CG "/cgroup.subtree_control", "+pids");
  check("pids.max \"abc\": EINVAL", put(CG "/x/pids.max", "abc") == -EINVAL);
  check("pids.max \"-1\": EINVAL", put(CG "/x/pids.max", "-1") == -EINVAL);
  check("pids.max \"\": EINVAL", put(CG "/x/pids.max", "") == -EINVAL);
  check("pids.max 4194305 (PID_MAX_LIMIT + 1): EINVAL", put(CG "/x/pids.max", "4194305") == -EINVAL);
  check("pids.max 4194304 is accepted", put(CG "/x/pids.max", "4194304") == 0);
  check("pids.max \"0x10\" reads back 16", put(CG "/x/pids.max", "0x10") == 0 && is(CG "/x/pids.max", "16\n"));
  check("pids.max \" max\\n\" reads back max", put(CG "/x/pids.max", " max\n") == 0 && is(CG "/x/pids.max", "max\n"));
  check("subtree_control \"pids\" (no sign): EINVAL", put(CG "/cgroup.subtree_control", "pids") == -EINVAL);
  check("subtree_control \"+bogus\": EINVAL", put(CG "/cgroup.subtree_control", "+bogus") == -EINVAL);
  check("cgroup.procs \"abc\": EINVAL", put(CG "/x/cgroup.procs", "abc") == -EINVAL);
  check("cgroup.procs of a PID nobody has: ESRCH", put(CG "/x/cgroup.procs", "99999") == -ESRCH);
  check("opening pids.current for writing: EACCES", put(CG "/x/pids.current", "1") == -EACCES);
  check("opening cgroup.events for writing: EACCES", put(CG "/x/cgroup.events", "1") == -EACCES);
  check("mkdir of an existing cgroup: EEXIST", mk(CG "/x") == -EEXIST);
  check("mkdir named like a file: EEXIST", mk(CG "/x/cgroup.procs") == -EEXIST);
  check("rmdir of the hierarchy's root: EBUSY", rm(CG) == -EBUSY);
  check("the root has no cgroup.events or pids.max", sys(NR_open, (long)CG "/cgroup.events", O_RDONLY, 0, 0, 0) ==
                                                         -ENOENT && put(CG "/pids.max", "1") == -ENOENT);
  check("rmdir x", rm(CG "/x") == 0);
}

int main(int argc, char **argv) {
  const long m = sys(NR_mount, (long)"none", (long)CG, (long)"cgroup2", 0, 0);
  if (m != 0) {
    printf("skip: mount -t cgroup2 fails with %ld\n", -m);
    return 77;
  }
  sys(NR_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0);
  static const struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {{"pids", t_pids}, {"ancestor", t_ancestor}, {"tree", t_tree}, {"zombie", t_zombie}, {"bad", t_bad}};
  for (int i = 1; i < argc; i++)
    for (unsigned t = 0; t < sizeof tests / sizeof tests[0]; t++)
      if (strcmp(argv[i], tests[t].name) == 0) tests[t].fn();
  printf("%d failures\n", failures);
  return failures;
}
