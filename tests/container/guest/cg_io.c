/* The io controller and delegation observed from inside (cgroup-v2.rst "IO"
 * and "Delegation"; SEMANTICS.md §2.1, §2.5, checklist items 21 and 23;
 * docs/container-sim/cgroup-io.md). One subcommand per group of checks:
 *   cg_io rbps | riops | ancestor | parse | deleg | userns
 * Each mounts cgroup2 at /sys/fs/cgroup, prints "ok ..." / "FAIL ..." lines
 * (and "rate ..." lines with what it measured), then "N failures", and
 * exits with N. /dev/disk is the host's disk, block device 8:0. Like cg_v2,
 * only container-sim runs it: on a Linux host it would need root, a disk
 * 8:0 and would change the host's own hierarchy. */
#include "cg_common.h"

enum { NR_chown32 = 212, NR_setuid32 = 213, NR_setgid32 = 214 };

#define KIB 1024u

static long chown_(const char *path, long uid, long gid) { return sys(NR_chown32, (long)path, uid, gid, 0, 0); }

static unsigned long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* io.stat's line for 8:0 after `bytes` in `ios` reads and no writes. */
static const char *stat_line(unsigned bytes, unsigned ios) {
  static char line[128];
  snprintf(line, sizeof line, "8:0 rbytes=%u wbytes=0 rios=%u wios=0 dbytes=0 dios=0\n", bytes, ios);
  return line;
}

/* Reads `total` bytes of /dev/disk in 4 KiB reads. Every read must give
 * all 4 KiB (a throttled read waits, it never fails or comes back short).
 * `rate` gets the bytes per second over the whole run, `steady` over the
 * part after the first `warm` bytes (past the 100 ms burst allowance). */
static void read_disk(unsigned total, unsigned warm, unsigned long long *rate, unsigned long long *steady) {
  static char buf[4096];
  const long fd = sys(NR_open, (long)"/dev/disk", O_RDONLY, 0, 0, 0);
  check("open /dev/disk for reading", fd >= 0);
  int bad = 0;
  const unsigned long long t0 = now_ns();
  unsigned long long t1 = t0;
  for (unsigned done = 0; done < total; done += sizeof buf) {
    if (done == warm) t1 = now_ns();
    if (sys(NR_read, fd, (long)buf, sizeof buf, 0, 0) != (long)sizeof buf) bad++;
  }
  const unsigned long long t2 = now_ns();
  sys(NR_close, fd, 0, 0, 0, 0);
  check("every read returned all 4096 bytes (delayed, never failed)", bad == 0);
  *rate = t2 > t0 ? (unsigned long long)total * 1000000000ull / (t2 - t0) : 0;
  *steady = t2 > t1 ? (unsigned long long)(total - warm) * 1000000000ull / (t2 - t1) : 0;
}

static int within(unsigned long long got, unsigned long long want, unsigned percent) {
  const unsigned long long d = got > want ? got - want : want - got;
  return d * 100 <= want * percent;
}

/* 21: io.max "8:0 rbps=X" makes a reader's throughput converge to X;
 * its reads are delayed, never failed; io.stat advances with them. */
static void t_rbps(void) {
  check("mkdir t, +io at the root", mk(CG "/t") == 0 && put(CG "/cgroup.subtree_control", "+io") == 0);
  check("t/io.max = 8:0 rbps=262144", put(CG "/t/io.max", "8:0 rbps=262144") == 0);
  check("t/io.max reads back all four keys", is(CG "/t/io.max", "8:0 rbps=262144 wbps=max riops=max wiops=max\n"));
  check("move into t", put(CG "/t/cgroup.procs", "0") == 0);
  check("t/io.stat is empty before any IO", is(CG "/t/io.stat", ""));
  unsigned long long rate, steady;
  read_disk(1024 * KIB, 128 * KIB, &rate, &steady);
  printf("rate rbps total=%llu steady=%llu\n", rate, steady);
  check("steady throughput within 1% of rbps (256 KiB/s)", within(steady, 262144, 1));
  check("whole-run throughput within 5% of rbps (the first 100 ms is a burst)", within(rate, 262144, 5));
  check("t/io.stat: 1 MiB in 256 requests", is(CG "/t/io.stat", stat_line(1024 * KIB, 256)));
  check("back to the root, rmdir t", put(CG "/cgroup.procs", "0") == 0 && rm(CG "/t") == 0);
}

/* 21 for riops: 4 KiB requests at riops=100 go at 100 a second. */
static void t_riops(void) {
  check("mkdir t, +io, t/io.max = 8:0 riops=100", mk(CG "/t") == 0 && put(CG "/cgroup.subtree_control", "+io") == 0 &&
                                                      put(CG "/t/io.max", "8:0 riops=100") == 0);
  check("move into t", put(CG "/t/cgroup.procs", "0") == 0);
  unsigned long long rate, steady;
  read_disk(512 * KIB, 64 * KIB, &rate, &steady);
  printf("rate riops total=%llu steady=%llu\n", rate / 4096, steady / 4096);
  check("steady: 100 requests a second (409600 B/s) within 1%", within(steady, 409600, 1));
  check("t/io.stat: 512 KiB in 128 requests", is(CG "/t/io.stat", stat_line(512 * KIB, 128)));
  check("back to the root, rmdir t", put(CG "/cgroup.procs", "0") == 0 && rm(CG "/t") == 0);
}

/* An ancestor's io.max limits a reader in its child; io.stat is hierarchical. */
static void t_ancestor(void) {
  check("mkdir a, a/b; +io at the root and in a",
        mk(CG "/a") == 0 && mk(CG "/a/b") == 0 && put(CG "/cgroup.subtree_control", "+io") == 0 &&
            put(CG "/a/cgroup.subtree_control", "+io") == 0);
  check("a/io.max rbps=131072, a/b has no limit", put(CG "/a/io.max", "8:0 rbps=131072") == 0 && is(CG "/a/b/io.max", ""));
  check("move into a/b", put(CG "/a/b/cgroup.procs", "0") == 0);
  unsigned long long rate, steady;
  read_disk(256 * KIB, 64 * KIB, &rate, &steady);
  printf("rate ancestor total=%llu steady=%llu\n", rate, steady);
  check("a/b's reads go at a's rate (128 KiB/s) within 1%", within(steady, 131072, 1));
  check("a/b/io.stat counts them", is(CG "/a/b/io.stat", stat_line(256 * KIB, 64)));
  check("a/io.stat counts its descendants' IO too", is(CG "/a/io.stat", stat_line(256 * KIB, 64)));
  check("a/b's own lower limit is the tighter one then",
        put(CG "/a/b/io.max", "8:0 rbps=65536") == 0 && is(CG "/a/b/io.max", "8:0 rbps=65536 wbps=max riops=max wiops=max\n"));
  read_disk(128 * KIB, 32 * KIB, &rate, &steady);
  check("a/b's reads now go at 64 KiB/s within 1%", within(steady, 65536, 1));
  check("a/io.stat: 384 KiB in 96 requests", is(CG "/a/io.stat", stat_line(384 * KIB, 96)));
  check("back to the root, rmdir a/b and a", put(CG "/cgroup.procs", "0") == 0 && rm(CG "/a/b") == 0 && rm(CG "/a") == 0);
}

/* io.max's syntax and errors as blk-throttle's tg_set_limit() gives them; io.stat's requests. */
static void t_parse(void) {
  const char *max = CG "/x/io.max";
  check("mkdir x, +io at the root", mk(CG "/x") == 0 && put(CG "/cgroup.subtree_control", "+io") == 0);
  check("x/io.max and x/io.stat start empty", is(max, "") && is(CG "/x/io.stat", ""));
  check("the root has no io.max: ENOENT", put(CG "/io.max", "8:0 rbps=1") == -ENOENT);
  check("rbps=1048576", put(max, "8:0 rbps=1048576") == 0 && is(max, "8:0 rbps=1048576 wbps=max riops=max wiops=max\n"));
  check("any subset in any order, other keys kept", put(max, "8:0 wiops=120 riops=10\n") == 0 &&
                                                        is(max, "8:0 rbps=1048576 wbps=max riops=10 wiops=120\n"));
  check("key=max removes that limit", put(max, "8:0 rbps=max") == 0 && is(max, "8:0 rbps=max wbps=max riops=10 wiops=120\n"));
  check("the device with no keys changes nothing", put(max, "8:0 \n") == 0 &&
                                                      is(max, "8:0 rbps=max wbps=max riops=10 wiops=120\n"));
  check("MAJ:MIN with nothing after it: EINVAL", put(max, "8:0") == -EINVAL);
  check("a device that does not exist (9:9): ENODEV", put(max, "9:9 rbps=1") == -ENODEV);
  check("8:1, no such disk (sda has no partitions here): ENODEV", put(max, "8:1 rbps=1") == -ENODEV);
  check("a name instead of MAJ:MIN: EINVAL", put(max, "sda rbps=1") == -EINVAL);
  check("an unknown key: EINVAL", put(max, "8:0 rbytes=1") == -EINVAL);
  check("a key without '=': EINVAL", put(max, "8:0 rbps") == -EINVAL);
  check("a value that is no number: EINVAL", put(max, "8:0 rbps=fast") == -EINVAL);
  check("a negative value: EINVAL", put(max, "8:0 rbps=-1") == -EINVAL);
  check("zero: ERANGE", put(max, "8:0 wbps=0") == -ERANGE);
  check("a refused write changes nothing", is(max, "8:0 rbps=max wbps=max riops=10 wiops=120\n"));
  check("riops beyond UINT_MAX reads back max", put(max, "8:0 riops=99999999999") == 0 &&
                                                    is(max, "8:0 rbps=max wbps=max riops=max wiops=120\n"));
  check("all four max: the device's line goes", put(max, "8:0 wiops=max") == 0 && is(max, ""));
  check("io.stat cannot be opened for writing: EACCES", put(CG "/x/io.stat", "8:0") == -EACCES);
  check("/dev/disk cannot be opened for writing (a read-only disk): EACCES",
        sys(NR_open, (long)"/dev/disk", O_WRONLY, 0, 0, 0) == -EACCES);
  check("move into x", put(CG "/x/cgroup.procs", "0") == 0);
  static char buf[8192];
  const long fd = sys(NR_open, (long)"/dev/disk", O_RDONLY, 0, 0, 0);
  check("a read of 4096 bytes is one request", sys(NR_read, fd, (long)buf, 4096, 0, 0) == 4096 &&
                                                   is(CG "/x/io.stat", stat_line(4096, 1)));
  check("a read of 100 bytes is one request of one sector (512 bytes)",
        sys(NR_read, fd, (long)buf, 100, 0, 0) == 100 && is(CG "/x/io.stat", stat_line(4608, 2)));
  check("a read of 8192 bytes not on a sector boundary: 3 requests, 17 sectors",
        sys(NR_read, fd, (long)buf, 8192, 0, 0) == 8192 && is(CG "/x/io.stat", stat_line(4608 + 17 * 512, 5)));
  sys(NR_close, fd, 0, 0, 0, 0);
  check("back to the root, rmdir x", put(CG "/cgroup.procs", "0") == 0 && rm(CG "/x") == 0);
}

/* 23: delegation. root gives d/a and d/b (directories and cgroup.procs)
 * to uid 1000; a process of uid 1000 in d/a can open d/b/cgroup.procs but
 * cannot move there until it may also write d's cgroup.procs, the common
 * ancestor's. Then populated flips and rmdir of a populated cgroup fails. */
static void t_deleg(void) {
  check("mkdir d, d/a, d/b, d/c", mk(CG "/d") == 0 && mk(CG "/d/a") == 0 && mk(CG "/d/b") == 0 && mk(CG "/d/c") == 0);
  int go[2], back[2];
  pipe(go);
  pipe(back);
  char c = 0;
  const long child = sys(NR_fork, 0, 0, 0, 0, 0);
  if (child == 0) {
    close(go[1]);
    close(back[0]);
    check("[child] root moves itself into d/a", put(CG "/d/a/cgroup.procs", "0") == 0);
    check("[child] setgid 1000, setuid 1000", sys(NR_setgid32, 1000, 0, 0, 0, 0) == 0 &&
                                                  sys(NR_setuid32, 1000, 0, 0, 0, 0) == 0 && sys(NR_getuid32, 0, 0, 0, 0, 0) == 1000);
    write(back[1], "1", 1);
    read(go[0], &c, 1); /* root has chowned d/a and d/b */
    check("[child] d/c/cgroup.procs is root's 0644: EACCES at open", put(CG "/d/c/cgroup.procs", "0") == -EACCES);
    check("[child] write access to d/b/cgroup.procs alone: EACCES (d, the common ancestor, is root's)",
          put(CG "/d/b/cgroup.procs", "0") == -EACCES);
    check("[child] ... so it is still in d/a", is("/proc/self/cgroup", "0::/d/a\n"));
    check("[child] it cannot give d/b/cgroup.procs back to root: EPERM",
          chown_(CG "/d/b/cgroup.procs", 0, 0) == -EPERM);
    check("[child] but may chown its own file to itself", chown_(CG "/d/b/cgroup.procs", 1000, 1000) == 0);
    check("[child] nor write d/cgroup.subtree_control: EACCES", put(CG "/d/cgroup.subtree_control", "+pids") == -EACCES);
    write(back[1], "2", 1);
    read(go[0], &c, 1); /* root has chowned d/cgroup.procs too */
    check("[child] with d/cgroup.procs its own, d/a -> d/b works",
          put(CG "/d/b/cgroup.procs", "0") == 0 && is("/proc/self/cgroup", "0::/d/b\n"));
    check("[child] d/b -> d works (d is the common ancestor)", put(CG "/d/cgroup.procs", "0") == 0);
    check("[child] d -> d/b again", put(CG "/d/b/cgroup.procs", "0") == 0);
    check("[child] out of d into the root: EACCES at open", put(CG "/cgroup.procs", "0") == -EACCES);
    write(back[1], "3", 1);
    read(go[0], &c, 1);
    _exit(failures);
  }
  close(go[0]);
  close(back[1]);
  read(back[0], &c, 1);
  check("root chowns d/a, d/b and their cgroup.procs to 1000:1000",
        chown_(CG "/d/a", 1000, 1000) == 0 && chown_(CG "/d/a/cgroup.procs", 1000, 1000) == 0 &&
            chown_(CG "/d/b", 1000, 1000) == 0 && chown_(CG "/d/b/cgroup.procs", 1000, -1) == 0 &&
            chown_(CG "/d/b/cgroup.procs", -1, 1000) == 0);
  write(go[1], "a", 1);
  read(back[0], &c, 1);
  check("root chowns d/cgroup.procs to 1000", chown_(CG "/d/cgroup.procs", 1000, 1000) == 0);
  write(go[1], "b", 1);
  read(back[0], &c, 1);
  check("d/b is populated, d/a is not", is(CG "/d/b/cgroup.events", "populated 1\nfrozen 0\n") &&
                                            is(CG "/d/a/cgroup.events", "populated 0\nfrozen 0\n"));
  check("rmdir of populated d/b: EBUSY", rm(CG "/d/b") == -EBUSY);
  char pid[16];
  snprintf(pid, sizeof pid, "%ld", child);
  check("root (CAP_DAC_OVERRIDE) moves the child to d/c, root's", put(CG "/d/c/cgroup.procs", pid) == 0);
  check("d/b's populated flips to 0 as its last process leaves", is(CG "/d/b/cgroup.events", "populated 0\nfrozen 0\n"));
  check("... d/c's to 1", is(CG "/d/c/cgroup.events", "populated 1\nfrozen 0\n"));
  write(go[1], "c", 1);
  join((int)child);
  check("d/c's populated is 0 once its last process has exited", is(CG "/d/c/cgroup.events", "populated 0\nfrozen 0\n"));
  check("rmdir d/a, d/b, d/c, d", rm(CG "/d/a") == 0 && rm(CG "/d/b") == 0 && rm(CG "/d/c") == 0 && rm(CG "/d") == 0);
}

/* 23, a container's root: CAP_DAC_OVERRIDE in its own user namespace
 * covers cgroupfs nodes whose owner and group are mapped there
 * (capable_wrt_inode_uidgid()), never the host root's. Host uids 1000 and
 * 1001 are 0 and 1 inside. */
static void t_userns(void) {
  check("mkdir d, d/a, d/b, d/c", mk(CG "/d") == 0 && mk(CG "/d/a") == 0 && mk(CG "/d/b") == 0 && mk(CG "/d/c") == 0);
  check("root gives d, d/a, d/b (and their cgroup.procs) to 1001:1001",
        chown_(CG "/d/cgroup.procs", 1001, 1001) == 0 && chown_(CG "/d/a/cgroup.procs", 1001, 1001) == 0 &&
            chown_(CG "/d/b/cgroup.procs", 1001, 1001) == 0);
  int go[2], back[2];
  pipe(go);
  pipe(back);
  char c = 0;
  const long child = sys(NR_fork, 0, 0, 0, 0, 0);
  if (child == 0) {
    close(go[1]);
    close(back[0]);
    check("[child] root moves itself into d/a", put(CG "/d/a/cgroup.procs", "0") == 0);
    check("[child] becomes uid 1000 and unshares a user namespace",
          sys(NR_setgid32, 1000, 0, 0, 0, 0) == 0 && sys(NR_setuid32, 1000, 0, 0, 0, 0) == 0 &&
              sys(NR_unshare, CLONE_NEWUSER, 0, 0, 0, 0) == 0);
    write(back[1], "1", 1);
    read(go[0], &c, 1); /* the parent wrote "0 1000 2" to its uid_map and gid_map */
    check("[child] it is root inside", sys(NR_getuid32, 0, 0, 0, 0, 0) == 0);
    check("[child] d/b/cgroup.procs (1001 = its uid 1, mode 0644) opens for writing: DAC override",
          put(CG "/d/b/cgroup.procs", "0") == 0 && is("/proc/self/cgroup", "0::/d/b\n"));
    check("[child] the host root's d/c/cgroup.procs does not (0 is unmapped there): EACCES",
          put(CG "/d/c/cgroup.procs", "0") == -EACCES);
    check("[child] nor can it chown a node whose owner is unmapped: EPERM", chown_(CG "/d/c/cgroup.procs", 0, 0) == -EPERM);
    check("[child] but it may chown a mapped node (CAP_CHOWN inside): d/a/cgroup.procs to its 0",
          chown_(CG "/d/a/cgroup.procs", 0, 0) == 0);
    check("[child] an id with no mapping inside: EINVAL", chown_(CG "/d/a/cgroup.procs", 5, -1) == -EINVAL);
    _exit(failures);
  }
  close(go[0]);
  close(back[1]);
  read(back[0], &c, 1);
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/uid_map", child);
  const long u = put(path, "0 1000 2\n");
  snprintf(path, sizeof path, "/proc/%ld/gid_map", child);
  check("root maps 0-1 inside to 1000-1001", u == 0 && put(path, "0 1000 2\n") == 0);
  write(go[1], "a", 1);
  join((int)child);
  check("rmdir d/a, d/b, d/c, d", rm(CG "/d/a") == 0 && rm(CG "/d/b") == 0 && rm(CG "/d/c") == 0 && rm(CG "/d") == 0);
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
  } tests[] = {{"rbps", t_rbps}, {"riops", t_riops}, {"ancestor", t_ancestor}, {"parse", t_parse}, {"deleg", t_deleg},
                 {"userns", t_userns}};
  for (int i = 1; i < argc; i++)
    for (unsigned t = 0; t < sizeof tests / sizeof tests[0]; t++)
      if (strcmp(argv[i], tests[t].name) == 0) tests[t].fn();
  printf("%d failures\n", failures);
  return failures;
}
