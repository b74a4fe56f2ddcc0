/* overlayfs as a container's root file system uses it (Documentation/
 * filesystems/overlayfs.rst; ../../../../shared/SEMANTICS.md §4.2, checklist
 * items 24-26). Layers are directories of the tmpfs on /tmp:
 *   /tmp/l  (and /tmp/l2)  lower layers       /tmp/u  upper    /tmp/w  work
 *   /tmp/m                 the merged view
 * Subcommands:
 *   fs_overlay copyup | whiteout | opaque | rename | lowers | readonly | options
 * Output as ns_pid.c: "ok ..." lines, "N failures", exit N (77: the host
 * gives no private mount namespace or no overlay). */
#include "fs_common.h"

#define OVERLAY_OPTS "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,redirect_dir=off"

static void mkdirs(const char *const *paths) {
  for (; *paths; paths++) sys(NR_mkdir, (long)*paths, 0755, 0, 0, 0);
}

/* The lower layer: /tmp/l/{file, keep, dir/inner, dir/other}, then the overlay on /tmp/m. */
static int standard_overlay(void) {
  static const char *const dirs[] = {"/tmp/l", "/tmp/l/dir", "/tmp/u", "/tmp/w", "/tmp/m", 0};
  mkdirs(dirs);
  put_file("/tmp/l/file", "old\n");
  put_file("/tmp/l/keep", "keep\n");
  put_file("/tmp/l/dir/inner", "deep\n");
  put_file("/tmp/l/dir/other", "other\n");
  const long r = sys(NR_mount, (long)"overlay", (long)"/tmp/m", (long)"overlay", 0, (long)OVERLAY_OPTS);
  check("mount -t overlay on /tmp/m (lowerdir=/tmp/l, upperdir=/tmp/u)", r == 0);
  return (int)r;
}

/* 24: the first write copies the file up; the lower layer never changes. */
static void t_copyup(void) {
  if (standard_overlay() != 0) return;
  show("merged /tmp/m", listing("/tmp/m", 1));
  show("/tmp/m/file", contents("/tmp/m/file"));
  show("upper before any write", listing("/tmp/u", 1));
  const int before = (int)open_raw("/tmp/m/file", O_RDONLY, 0);
  check("append \"new\" to /tmp/m/file", append_file("/tmp/m/file", "new\n") == 0);
  show("/tmp/m/file", contents("/tmp/m/file"));
  char buf[16] = {0};
  read_raw(before, buf, sizeof buf - 1);
  show("a descriptor opened read-only before the copy-up reads", buf);
  close(before);
  show("upper /tmp/u/file", contents("/tmp/u/file"));
  show("lower /tmp/l/file", contents("/tmp/l/file"));
  const int fd = (int)open_raw("/tmp/m/keep", O_RDWR, 0);
  check("open(O_RDWR) without a write still copies up", fd >= 0 && strcmp(kind_of("/tmp/u/keep"), "reg 5") == 0);
  close(fd);
  check("write to /tmp/m/dir/inner", append_file("/tmp/m/dir/inner", "er\n") == 0);
  show("upper after it", listing("/tmp/u", 1));
  show("upper /tmp/u/dir", listing("/tmp/u/dir", 1));
  show("lower /tmp/l/dir/inner", contents("/tmp/l/dir/inner"));
  show("merged /tmp/m/dir", listing("/tmp/m/dir", 1));
  /* A second container on the same lower layer. */
  static const char *const dirs[] = {"/tmp/u2", "/tmp/w2", "/tmp/m2", 0};
  mkdirs(dirs);
  check("a second overlay on /tmp/l (upperdir=/tmp/u2) on /tmp/m2",
        sys(NR_mount, (long)"overlay", (long)"/tmp/m2", (long)"overlay", 0,
            (long)"lowerdir=/tmp/l,upperdir=/tmp/u2,workdir=/tmp/w2,redirect_dir=off") == 0);
  show("/tmp/m2/file", contents("/tmp/m2/file"));
  show("/tmp/m2/dir/inner", contents("/tmp/m2/dir/inner"));
  const int t = (int)open_raw("/tmp/m2/file", O_WRONLY | O_TRUNC, 0);
  check("O_TRUNC through the second overlay", t >= 0 && write_raw(t, "trunc\n", 6) == 6);
  close(t);
  show("/tmp/m2/file", contents("/tmp/m2/file"));
  show("/tmp/m/file", contents("/tmp/m/file"));
  show("lower /tmp/l/file", contents("/tmp/l/file"));
  check("a new file goes to the upper layer only", put_file("/tmp/m/created", "c\n") == 0);
  show("/tmp/u/created", kind_of("/tmp/u/created"));
  show("/tmp/l/created", kind_of("/tmp/l/created"));
  /* A metadata change is a write access too. */
  check("chmod 600 /tmp/m/dir/other", sys(NR_chmod, (long)"/tmp/m/dir/other", 0600, 0, 0, 0) == 0);
  show("merged /tmp/m/dir/other", mode_of("/tmp/m/dir/other"));
  show("upper /tmp/u/dir/other", mode_of("/tmp/u/dir/other"));
  show("lower /tmp/l/dir/other", mode_of("/tmp/l/dir/other"));
  check("chmod 700 of the merged directory /tmp/m/dir", sys(NR_chmod, (long)"/tmp/m/dir", 0700, 0, 0, 0) == 0);
  show("merged /tmp/m/dir", mode_of("/tmp/m/dir"));
  show("lower /tmp/l/dir", mode_of("/tmp/l/dir"));
}

/* 25: unlink of a lower file leaves a whiteout, a character device 0/0. */
static void t_whiteout(void) {
  if (standard_overlay() != 0) return;
  check("unlink /tmp/m/file", sys(NR_unlink, (long)"/tmp/m/file", 0, 0, 0, 0) == 0);
  show("stat64 /tmp/m/file", kind_of("/tmp/m/file"));
  show("stat64 /tmp/u/file", kind_of("/tmp/u/file"));
  show("lower /tmp/l/file", contents("/tmp/l/file"));
  show("merged /tmp/m", listing("/tmp/m", 1));
  show("upper /tmp/u", listing("/tmp/u", 1));
  check("unlink of it again is ENOENT", sys(NR_unlink, (long)"/tmp/m/file", 0, 0, 0, 0) == -ENOENT);
  check("a new file over the whiteout", put_file("/tmp/m/file", "again\n") == 0);
  show("/tmp/m/file", contents("/tmp/m/file"));
  show("stat64 /tmp/u/file", kind_of("/tmp/u/file"));
  put_file("/tmp/m/upperonly", "u\n");
  check("unlink of an upper-only file", sys(NR_unlink, (long)"/tmp/m/upperonly", 0, 0, 0, 0) == 0);
  show("stat64 /tmp/u/upperonly (no whiteout needed)", kind_of("/tmp/u/upperonly"));
  check("rmdir of a merged directory with lower files is ENOTEMPTY",
        sys(NR_rmdir, (long)"/tmp/m/dir", 0, 0, 0, 0) == -ENOTEMPTY);
  check("unlink both lower files in it", sys(NR_unlink, (long)"/tmp/m/dir/inner", 0, 0, 0, 0) == 0 &&
                                             sys(NR_unlink, (long)"/tmp/m/dir/other", 0, 0, 0, 0) == 0);
  show("merged /tmp/m/dir", listing("/tmp/m/dir", 1));
  show("upper /tmp/u/dir", listing("/tmp/u/dir", 1));
  check("now rmdir /tmp/m/dir", sys(NR_rmdir, (long)"/tmp/m/dir", 0, 0, 0, 0) == 0);
  show("stat64 /tmp/u/dir", kind_of("/tmp/u/dir"));
  show("merged /tmp/m", listing("/tmp/m", 1));
}

/* 25: mkdir over a whiteout makes an opaque directory: the lower one's
 * children stay hidden. */
static void t_opaque(void) {
  if (standard_overlay() != 0) return;
  sys(NR_unlink, (long)"/tmp/m/dir/inner", 0, 0, 0, 0);
  sys(NR_unlink, (long)"/tmp/m/dir/other", 0, 0, 0, 0);
  check("rmdir /tmp/m/dir (its lower files whited out)", sys(NR_rmdir, (long)"/tmp/m/dir", 0, 0, 0, 0) == 0);
  check("mkdir /tmp/m/dir again", sys(NR_mkdir, (long)"/tmp/m/dir", 0755, 0, 0, 0) == 0);
  show("merged /tmp/m/dir", listing("/tmp/m/dir", 1));
  show("stat64 /tmp/m/dir/inner", kind_of("/tmp/m/dir/inner"));
  show("lower /tmp/l/dir", listing("/tmp/l/dir", 1));
  show("upper /tmp/u/dir", listing("/tmp/u/dir", 1));
  check("a file in the opaque directory", put_file("/tmp/m/dir/fresh", "f\n") == 0);
  show("merged /tmp/m/dir", listing("/tmp/m/dir", 1));
}

/* 26: a directory from a lower layer cannot be renamed (EXDEV); files can. */
static void t_rename(void) {
  if (standard_overlay() != 0) return;
  check("rename of the lower directory /tmp/m/dir is EXDEV",
        sys(NR_rename, (long)"/tmp/m/dir", (long)"/tmp/m/dir2", 0, 0, 0) == -EXDEV);
  show("merged /tmp/m", listing("/tmp/m", 1));
  check("rename of the lower file /tmp/m/file -> /tmp/m/moved",
        sys(NR_rename, (long)"/tmp/m/file", (long)"/tmp/m/moved", 0, 0, 0) == 0);
  show("/tmp/m/moved", contents("/tmp/m/moved"));
  show("stat64 /tmp/u/file", kind_of("/tmp/u/file"));
  show("stat64 /tmp/u/moved", kind_of("/tmp/u/moved"));
  show("merged /tmp/m", listing("/tmp/m", 1));
  check("mkdir /tmp/m/newdir (upper only)", sys(NR_mkdir, (long)"/tmp/m/newdir", 0755, 0, 0, 0) == 0);
  put_file("/tmp/m/newdir/f", "n\n");
  check("rename of an upper-only directory works",
        sys(NR_rename, (long)"/tmp/m/newdir", (long)"/tmp/m/nd2", 0, 0, 0) == 0);
  show("merged /tmp/m/nd2", listing("/tmp/m/nd2", 1));
  check("rename of a lower file into the lower directory",
        sys(NR_rename, (long)"/tmp/m/keep", (long)"/tmp/m/dir/keep", 0, 0, 0) == 0);
  show("merged /tmp/m/dir", listing("/tmp/m/dir", 1));
  show("upper /tmp/u/dir", listing("/tmp/u/dir", 1));
}

/* Several lower layers, leftmost on top; a whiteout in a higher one hides a
 * lower one's file. */
static void t_lowers(void) {
  static const char *const dirs[] = {"/tmp/l1", "/tmp/l1/d", "/tmp/l2", "/tmp/l2/d", "/tmp/u", "/tmp/w", "/tmp/m", 0};
  mkdirs(dirs);
  put_file("/tmp/l1/f", "top\n");
  put_file("/tmp/l2/f", "bottom\n");
  put_file("/tmp/l2/only2", "2\n");
  put_file("/tmp/l1/d/p", "p\n");
  put_file("/tmp/l2/d/q", "q\n");
  put_file("/tmp/l2/hidden", "h\n");
  sys(NR_mknod, (long)"/tmp/l1/hidden", S_IFCHR, 0, 0, 0); /* a whiteout in the higher layer */
  sys(NR_mkdir, (long)"/tmp/l1/x", 0755, 0, 0, 0);         /* a directory over ... */
  put_file("/tmp/l2/x", "file\n");                          /* ... a lower file of the same name */
  check("mount with lowerdir=/tmp/l1:/tmp/l2",
        sys(NR_mount, (long)"overlay", (long)"/tmp/m", (long)"overlay", 0,
            (long)"lowerdir=/tmp/l1:/tmp/l2,upperdir=/tmp/u,workdir=/tmp/w,redirect_dir=off") == 0);
  show("merged /tmp/m", listing("/tmp/m", 1));
  show("/tmp/m/f", contents("/tmp/m/f"));
  show("merged /tmp/m/d", listing("/tmp/m/d", 1));
  show("stat64 /tmp/m/hidden", kind_of("/tmp/m/hidden"));
  show("stat64 /tmp/m/x", kind_of("/tmp/m/x"));
  check("write to /tmp/m/d/q (from the lowest layer)", append_file("/tmp/m/d/q", "q2\n") == 0);
  show("upper /tmp/u/d", listing("/tmp/u/d", 1));
  show("lower /tmp/l2/d/q", contents("/tmp/l2/d/q"));
  char cwd[64] = "";
  check("chdir into the merged /tmp/m/d", sys(NR_chdir, (long)"/tmp/m/d", 0, 0, 0, 0) == 0);
  sys(NR_getcwd, (long)cwd, sizeof cwd, 0, 0, 0);
  show("getcwd", cwd);
  show("relative p", contents("p"));
  check("chdir ../..", sys(NR_chdir, (long)"../..", 0, 0, 0, 0) == 0);
  sys(NR_getcwd, (long)cwd, sizeof cwd, 0, 0, 0);
  show("getcwd", cwd);
}

/* Without upperdir the overlay is read-only. */
static void t_readonly(void) {
  static const char *const dirs[] = {"/tmp/l", "/tmp/l2", "/tmp/m", 0};
  mkdirs(dirs);
  put_file("/tmp/l/f", "ro\n");
  check("mount with two lowers and no upperdir",
        sys(NR_mount, (long)"overlay", (long)"/tmp/m", (long)"overlay", 0, (long)"lowerdir=/tmp/l:/tmp/l2") == 0);
  show("/tmp/m/f", contents("/tmp/m/f"));
  check("open for writing is EROFS", open_raw("/tmp/m/f", O_WRONLY, 0) == -EROFS);
  check("O_CREAT is EROFS", open_raw("/tmp/m/new", O_CREAT | O_WRONLY, 0644) == -EROFS);
  check("mkdir is EROFS", sys(NR_mkdir, (long)"/tmp/m/d", 0755, 0, 0, 0) == -EROFS);
  check("unlink is EROFS", sys(NR_unlink, (long)"/tmp/m/f", 0, 0, 0, 0) == -EROFS);
  check("rename is EROFS", sys(NR_rename, (long)"/tmp/m/f", (long)"/tmp/m/g", 0, 0, 0) == -EROFS);
  sys(NR_mkdir, (long)"/tmp/t", 0755, 0, 0, 0);
  check("tmpfs mounted MS_RDONLY", sys(NR_mount, (long)"tmpfs", (long)"/tmp/t", (long)"tmpfs", 1 /* MS_RDONLY */, 0) == 0);
  check("creating a file there is EROFS", open_raw("/tmp/t/x", O_CREAT | O_WRONLY, 0644) == -EROFS);
}

/* mount(2)'s answers for bad overlay options. */
static void t_options(void) {
  static const char *const dirs[] = {"/tmp/l", "/tmp/u", "/tmp/w", "/tmp/m", 0};
  mkdirs(dirs);
  put_file("/tmp/file", "f\n");
  const struct {
    const char *what, *opts;
    long want;
  } cases[] = {
      {"no lowerdir is EINVAL", "upperdir=/tmp/u,workdir=/tmp/w", -EINVAL},
      {"upperdir without workdir is EINVAL", "lowerdir=/tmp/l,upperdir=/tmp/u", -EINVAL},
      {"an unknown option is EINVAL", "lowerdir=/tmp/l,bogus=1", -EINVAL},
      {"a missing lowerdir is ENOENT", "lowerdir=/tmp/nowhere", -ENOENT},
      {"an empty lowerdir is EINVAL", "lowerdir=", -EINVAL},
      {"a file as lowerdir is EINVAL", "lowerdir=/tmp/file", -EINVAL},
      {"workdir inside upperdir is EINVAL", "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/u/w", -EINVAL},
  };
  sys(NR_mkdir, (long)"/tmp/u/w", 0755, 0, 0, 0);
  check("options at a bad pointer are EFAULT", sys(NR_mount, (long)"overlay", (long)"/tmp/m", (long)"overlay", 0, 16) == -EFAULT);
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const long r = sys(NR_mount, (long)"overlay", (long)"/tmp/m", (long)"overlay", 0, (long)cases[i].opts);
    if (r != cases[i].want) printf("  %s: got %ld\n", cases[i].opts, r);
    check(cases[i].what, r == cases[i].want);
  }
}

int main(int argc, char **argv) {
  static const struct fs_test tests[] = {{"copyup", t_copyup},   {"whiteout", t_whiteout}, {"opaque", t_opaque},
                                         {"rename", t_rename},   {"lowers", t_lowers},     {"readonly", t_readonly},
                                         {"options", t_options}};
  return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
