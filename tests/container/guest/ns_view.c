/* UTS, IPC, user and mount namespaces observed from inside (namespaces(7),
 * user_namespaces(7), pivot_root(2), chroot(2); SEMANTICS.md §1.3, 1.4,
 * 1.6, checklist items 8, 10, 11). One subcommand per item:
 *   ns_view uts | setns | ipc | user | pivot | chroot
 * Output as ns_pid.c: "ok ..." lines, "N failures", exit N. */
#include <sys/utsname.h>

#include "ns_common.h"

/* 8: sethostname in a child UTS namespace changes uname there only. */
static void t_uts(void) {
  struct utsname before, after;
  uname(&before);
  const long child = clone_ns(CLONE_NEWUTS);
  if (child == 0) {
    struct utsname mine;
    check("sethostname(\"inner\") in the new UTS namespace", sys(NR_sethostname, (long)"inner", 5, 0, 0, 0) == 0);
    uname(&mine);
    check("uname there says inner", strcmp(mine.nodename, "inner") == 0);
    _exit(failures);
  }
  join((int)child);
  uname(&after);
  check("the parent's hostname is unchanged", strcmp(before.nodename, after.nodename) == 0);
}

/* setns(2) with descriptors of /proc/PID/ns/TYPE: into another UTS namespace;
 * into a child PID namespace, which only the caller's children enter, with
 * getppid() 0 (pid_namespaces(7)). */
static void t_setns(void) {
  check("a private mount namespace with a fresh /proc", private_mounts(1) == 0);
  int ready[2], go[2];
  pipe(ready), pipe(go);
  const long child = clone_ns(CLONE_NEWUTS | CLONE_NEWPID);
  if (child == 0) {
    char c = 'r';
    sys(NR_sethostname, (long)"inner", 5, 0, 0, 0);
    write(ready[1], &c, 1);
    read(go[0], &c, 1);
    _exit(0);
  }
  char c, path[48], mine[48] = "", theirs[48] = "";
  read(ready[0], &c, 1);
  snprintf(path, sizeof path, "/proc/%ld/ns/uts", child);
  sys(NR_readlink, (long)"/proc/self/ns/uts", (long)mine, sizeof mine - 1, 0, 0);
  sys(NR_readlink, (long)path, (long)theirs, sizeof theirs - 1, 0, 0);
  check("readlink of the two uts links: uts:[...], different ids",
        strncmp(mine, "uts:[", 5) == 0 && strncmp(theirs, "uts:[", 5) == 0 && strcmp(mine, theirs) != 0);
  const int uts = open(path, O_RDONLY);
  snprintf(path, sizeof path, "/proc/%ld/ns/pid", child);
  const int pidns = open(path, O_RDONLY);
  check("open /proc/PID/ns/uts and ns/pid", uts >= 0 && pidns >= 0);
  check("setns with the wrong nstype is EINVAL", sys(NR_setns, uts, CLONE_NEWPID, 0, 0, 0) == -EINVAL);
  const int k = fork();
  if (k == 0) {
    struct utsname u;
    const int me = getpid();
    check("setns(fd, CLONE_NEWUTS) succeeds", sys(NR_setns, uts, CLONE_NEWUTS, 0, 0, 0) == 0);
    uname(&u);
    check("uname now says inner", strcmp(u.nodename, "inner") == 0);
    check("setns(fd, CLONE_NEWPID) into the child's PID namespace", sys(NR_setns, pidns, CLONE_NEWPID, 0, 0, 0) == 0);
    check("the caller's own PID is unchanged", getpid() == me);
    const int g = fork();
    if (g == 0) {
      check("its child is in there: PID 2 (after init), getppid() 0", getpid() == 2 && getppid() == 0);
      _exit(failures);
    }
    join(g);
    _exit(failures);
  }
  join(k);
  write(go[1], &c, 1);
  join((int)child);
}

/* 8: System V IPC keys are per IPC namespace. */
static void t_ipc(void) {
  /* A fresh IPC namespace of our own first, so nothing is left on a host. */
  check("unshare(CLONE_NEWIPC)", sys(NR_unshare, CLONE_NEWIPC, 0, 0, 0, 0) == 0);
  const long key = 0x5eed;
  const long msg = sys(NR_msgget, key, 01000 | 0600 /* IPC_CREAT */, 0, 0, 0);
  const long shm = sys(NR_shmget, key, 4096, 01000 | 0600, 0, 0);
  check("msgget and shmget create objects", msg >= 0 && shm >= 0);
  long child = fork();
  if (child == 0) {
    check("a child in the same IPC namespace finds the message queue",
          sys(NR_msgget, key, 0, 0, 0, 0) == msg);
    _exit(failures);
  }
  join((int)child);
  child = clone_ns(CLONE_NEWIPC);
  if (child == 0) {
    check("in a new IPC namespace msgget(key) is ENOENT", sys(NR_msgget, key, 0, 0, 0, 0) == -ENOENT);
    check("and shmget(key) is ENOENT", sys(NR_shmget, key, 4096, 0, 0, 0) == -ENOENT);
    _exit(failures);
  }
  join((int)child);
}

/* 10: a new user namespace: 65534 before mapping; "0 1000 1" makes the
 * process root inside and 1000 outside; the map is written once; the
 * creator's capabilities hold only inside. */
static long setuid_(long id) { return sys(213, id, 0, 0, 0, 0); }
static long setgid_(long id) { return sys(214, id, 0, 0, 0, 0); }
static int parent_uts = -1; /* the creator's UTS namespace, opened before the clone */
static long setns_uts_of_parent(void) { return sys(NR_setns, parent_uts, CLONE_NEWUTS, 0, 0, 0); }

static void t_user(void) {
  if (private_mounts(1) != 0) {
    printf("FAIL no fresh /proc\n");
    failures++;
    return;
  }
  /* An unprivileged creator, uid and gid 1000, as the checklist assumes:
   * the child keeps kernel uid 1000, which "0 1000 1" maps to 0 inside. */
  parent_uts = open("/proc/self/ns/uts", O_RDONLY);
  check("open /proc/self/ns/uts", parent_uts >= 0);
  check("setgid(1000) and setuid(1000)", setgid_(1000) == 0 && setuid_(1000) == 0);
  /* Changing ids from root makes Linux mark the process non-dumpable, and
   * then its (and its children's) /proc files belong to root: undo that, as
   * a process that was uid 1000 from the start would be. */
  sys(172 /* prctl */, 4 /* PR_SET_DUMPABLE */, 1, 0, 0, 0);
  int go[2], ready[2];
  pipe(go), pipe(ready);
  const long child = clone_ns(CLONE_NEWUSER);
  if (child == 0) {
    check("before mapping, getuid() is 65534", sys(NR_getuid32, 0, 0, 0, 0, 0) == 65534);
    check("and getgid() is 65534", sys(NR_getgid32, 0, 0, 0, 0, 0) == 65534);
    check("the creator of a user namespace holds every capability in it: sethostname there after unshare",
          sys(NR_unshare, CLONE_NEWUTS, 0, 0, 0, 0) == 0 && sys(NR_sethostname, (long)"y", 1, 0, 0, 0) == 0);
    char c = 'r';
    write(ready[1], &c, 1);
    read(go[0], &c, 1); /* the parent has written the maps */
    check("after \"0 1000 1\", getuid() and geteuid() are 0",
          sys(NR_getuid32, 0, 0, 0, 0, 0) == 0 && sys(NR_geteuid32, 0, 0, 0, 0, 0) == 0);
    check("none outside: setns back into the parent's UTS namespace is EPERM", setns_uts_of_parent() == -EPERM);
    _exit(failures);
  }
  char path[48], line[96], c;
  read(ready[0], &c, 1); /* the child has looked at its ids before any map */
  snprintf(path, sizeof path, "/proc/%ld/uid_map", child);
  int fd = open(path, O_WRONLY);
  check("the parent writes \"0 1000 1\" to the child's uid_map", fd >= 0 && write(fd, "0 1000 1\n", 9) == 9);
  close(fd);
  fd = open(path, O_WRONLY);
  check("a second write is EPERM", fd >= 0 && write(fd, "0 1000 1\n", 9) == -1 && errno == EPERM);
  close(fd);
  snprintf(path, sizeof path, "/proc/%ld/gid_map", child);
  fd = open(path, O_WRONLY);
  check("an unprivileged gid_map write without setgroups \"deny\" is EPERM",
        fd >= 0 && write(fd, "0 1000 1\n", 9) == -1 && errno == EPERM);
  close(fd);
  snprintf(path, sizeof path, "/proc/%ld/status", child);
  check("outside, the child's uid is 1000 (/proc/PID/status)",
        read_line(path, "Uid:", line, sizeof line) == 0 && strcmp(line, "Uid:\t1000\t1000\t1000\t1000") == 0);
  write(go[1], &c, 1);
  join((int)child);
}

static int exists(const char *path) {
  const int fd = open(path, O_RDONLY);
  if (fd >= 0) close(fd);
  return fd >= 0;
}

static int cwd_is(const char *want) {
  char buf[128];
  const long n = sys(NR_getcwd, (long)buf, sizeof buf, 0, 0, 0);
  if (n <= 0) return 0;
  if (strcmp(buf, want) != 0) printf("  getcwd: %s\n", buf);
  return strcmp(buf, want) == 0;
}

/* 11: pivot_root's EINVAL cases, and a cwd it leaves alone. */
static void t_pivot(void) {
  check("a private mount namespace", private_mounts(0) == 0);
  check("tmpfs on /tmp", sys(NR_mount, (long)"tmpfs", (long)"/tmp", (long)"tmpfs", 0, 0) == 0);
  sys(NR_mkdir, (long)"/tmp/plain", 0755, 0, 0, 0);
  sys(NR_mkdir, (long)"/tmp/plain/old", 0755, 0, 0, 0);
  sys(NR_mkdir, (long)"/tmp/other", 0755, 0, 0, 0);
  sys(NR_mkdir, (long)"/tmp/nr", 0755, 0, 0, 0);
  check("tmpfs on /tmp/nr", sys(NR_mount, (long)"tmpfs", (long)"/tmp/nr", (long)"tmpfs", 0, 0) == 0);
  check("mkdir /tmp/nr/old", sys(NR_mkdir, (long)"/tmp/nr/old", 0755, 0, 0, 0) == 0);
  check("pivot_root to a directory that is not a mount point is EINVAL",
        sys(NR_pivot_root, (long)"/tmp/plain", (long)"/tmp/plain/old", 0, 0, 0) == -EINVAL);
  check("pivot_root with put_old outside new_root is EINVAL",
        sys(NR_pivot_root, (long)"/tmp/nr", (long)"/tmp/other", 0, 0, 0) == -EINVAL);
  check("chdir /tmp", sys(NR_chdir, (long)"/tmp", 0, 0, 0, 0) == 0);
  check("pivot_root(\"/tmp/nr\", \"/tmp/nr/old\")",
        sys(NR_pivot_root, (long)"/tmp/nr", (long)"/tmp/nr/old", 0, 0, 0) == 0);
  check("the caller's cwd did not move: it is now /old/tmp", cwd_is("/old/tmp"));
  check("the new root is the empty tmpfs: /tmp is gone", !exists("/tmp"));
  check("the old root is under /old", exists("/old/tmp/plain"));
  check("chdir / then umount2(\"/old\", MNT_DETACH)", sys(NR_chdir, (long)"/", 0, 0, 0, 0) == 0 &&
                                                        sys(NR_umount2, (long)"/old", MNT_DETACH, 0, 0, 0) == 0);
  check("nothing of the old root is left", !exists("/old/tmp"));
}

/* 11: chroot leaves the cwd where it was, so a process can walk out. */
static void t_chroot(void) {
  check("a private mount namespace", private_mounts(0) == 0);
  check("tmpfs on /tmp", sys(NR_mount, (long)"tmpfs", (long)"/tmp", (long)"tmpfs", 0, 0) == 0);
  sys(NR_mkdir, (long)"/tmp/jail", 0755, 0, 0, 0);
  check("chdir /", sys(NR_chdir, (long)"/", 0, 0, 0, 0) == 0);
  check("chroot /tmp/jail", sys(NR_chroot, (long)"/tmp/jail", 0, 0, 0, 0) == 0);
  check("the cwd stayed outside the new root: getcwd says (unreachable)/", cwd_is("(unreachable)/"));
  check("/proc is not in the jail", !exists("/proc"));
  check("but proc, relative to the cwd outside, is reachable", exists("proc"));
  for (int i = 0; i < 8; i++) sys(NR_chdir, (long)"..", 0, 0, 0, 0);
  check("chroot(\".\") from there is the old root again", sys(NR_chroot, (long)".", 0, 0, 0, 0) == 0);
  check("/proc is back: escaped", exists("/proc") && cwd_is("/"));
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {{"uts", t_uts}, {"setns", t_setns}, {"ipc", t_ipc}, {"user", t_user}, {"pivot", t_pivot}, {"chroot", t_chroot}};
  const long probe = clone_ns(CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUSER);
  if (probe == 0) _exit(0);
  if (probe < 0) {
    printf("skip: clone(CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUSER) fails with %ld\n", -probe);
    return 77;
  }
  wait_for((int)probe);
  for (int i = 1; i < argc; i++)
    for (unsigned t = 0; t < sizeof tests / sizeof tests[0]; t++)
      if (strcmp(argv[i], tests[t].name) == 0) tests[t].fn();
  printf("%d failures\n", failures);
  return failures;
}
