/* Writable files on a tmpfs, the calls a container's programs make all the
 * time (open(2), write(2), lseek(2), _llseek(2), ftruncate(2), unlink(2),
 * rename(2), mkdir(2), rmdir(2), mknod(2), stat64(2)), with the errors the
 * man pages list. Subcommands:
 *   fs_files create | seek | remove | rename | dirs | mknod
 * Output as ns_pid.c: "ok ..." lines, "N failures", exit N (77: the host
 * gives no private mount namespace). */
#include "fs_common.h"

static void t_create(void) {
  long fd = open_raw("/tmp/f", O_CREAT | O_WRONLY, 0644);
  check("open(O_CREAT | O_WRONLY) makes /tmp/f", fd >= 0);
  check("write(2) of 5 bytes to it", write_raw((int)fd, "hello", 5) == 5);
  check("read(2) on the O_WRONLY descriptor is EBADF", read_raw((int)fd, (char[4]){0}, 4) == -EBADF);
  close((int)fd);
  show("stat64 /tmp/f", kind_of("/tmp/f"));
  check("open(O_CREAT | O_EXCL) of it again is EEXIST", open_raw("/tmp/f", O_CREAT | O_EXCL | O_WRONLY, 0644) == -EEXIST);
  check("open of a missing file without O_CREAT is ENOENT", open_raw("/tmp/none", O_RDONLY, 0) == -ENOENT);
  check("open(\"/tmp/f/x\", O_CREAT) under a file is ENOTDIR", open_raw("/tmp/f/x", O_CREAT | O_WRONLY, 0644) == -ENOTDIR);
  check("open(\"/tmp/new/\", O_CREAT) with a trailing slash is EISDIR", open_raw("/tmp/new/", O_CREAT | O_WRONLY, 0644) == -EISDIR);
  check("open of a directory for writing is EISDIR", open_raw("/tmp", O_WRONLY, 0) == -EISDIR);
  check("open(directory, O_CREAT) is EISDIR", open_raw("/tmp", O_CREAT | O_RDONLY, 0644) == -EISDIR);
  fd = open_raw("/tmp/f", O_RDONLY, 0);
  check("write(2) on an O_RDONLY descriptor is EBADF", write_raw((int)fd, "x", 1) == -EBADF);
  close((int)fd);
  check("O_APPEND: \" world\" goes to the end", append_file("/tmp/f", " world") == 0);
  show("contents", contents("/tmp/f"));
  fd = open_raw("/tmp/f", O_WRONLY | O_TRUNC, 0);
  check("open(O_TRUNC) empties it", fd >= 0);
  close((int)fd);
  show("after O_TRUNC", kind_of("/tmp/f"));
  struct stat64 st;
  fd = open_raw("/tmp/f", O_RDWR, 0);
  check("fstat64 of a new descriptor says regular, size 0",
        sys(NR_fstat64, fd, (long)&st, 0, 0, 0) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0);
  close((int)fd);
  check("stat64 of a missing file is ENOENT", stat_of("/tmp/none", &st) == -ENOENT);
  check("stat64 of \"/tmp/f/\" (a file with a trailing slash) is ENOTDIR", stat_of("/tmp/f/", &st) == -ENOTDIR);
  check("stat64 with a bad buffer is EFAULT", sys(NR_stat64, (long)"/tmp/f", 16, 0, 0, 0) == -EFAULT);
}

static void t_seek(void) {
  put_file("/tmp/s", "hello world");
  const int fd = (int)open_raw("/tmp/s", O_RDWR, 0);
  check("lseek(fd, 0, SEEK_END) is the size, 11", sys(NR_lseek, fd, 0, SEEK_END, 0, 0) == 11);
  check("lseek(fd, 6, SEEK_SET) is 6", sys(NR_lseek, fd, 6, SEEK_SET, 0, 0) == 6);
  check("write \"WORLD\" there", write_raw(fd, "WORLD", 5) == 5);
  check("lseek(fd, -1, SEEK_SET) is EINVAL", sys(NR_lseek, fd, -1, SEEK_SET, 0, 0) == -EINVAL);
  check("lseek with whence 7 is EINVAL", sys(NR_lseek, fd, 0, 7, 0, 0) == -EINVAL);
  long long where = -1;
  check("_llseek(fd, 0, 2, &where, SEEK_SET) gives 2", sys(NR__llseek, fd, 0, 2, (long)&where, SEEK_SET) == 0 && where == 2);
  check("_llseek(fd, 0, -1, ..., SEEK_CUR) gives 1", sys(NR__llseek, fd, -1, -1, (long)&where, SEEK_CUR) == 0 && where == 1);
  check("lseek(fd, 0, SEEK_CUR) agrees", sys(NR_lseek, fd, 0, SEEK_CUR, 0, 0) == 1);
  check("_llseek with a bad result pointer is EFAULT", sys(NR__llseek, fd, 0, 0, 16, SEEK_SET) == -EFAULT);
  check("seek to 20 and write \"!\": a hole", sys(NR_lseek, fd, 20, SEEK_SET, 0, 0) == 20 && write_raw(fd, "!", 1) == 1);
  show("size after the hole", kind_of("/tmp/s"));
  char buf[32];
  sys(NR_lseek, fd, 0, SEEK_SET, 0, 0);
  const long n = read_raw(fd, buf, sizeof buf);
  check("21 bytes read back, the hole is zeros",
        n == 21 && memcmp(buf, "hello WORLD", 11) == 0 && buf[11] == 0 && buf[19] == 0 && buf[20] == '!');
  check("ftruncate(fd, 5)", sys(NR_ftruncate, fd, 5, 0, 0, 0) == 0);
  show("after ftruncate", contents("/tmp/s"));
  check("ftruncate to a negative length is EINVAL", sys(NR_ftruncate, fd, -1, 0, 0, 0) == -EINVAL);
  close(fd);
  const int ro = (int)open_raw("/tmp/s", O_RDONLY, 0);
  check("ftruncate of an O_RDONLY descriptor is EINVAL", sys(NR_ftruncate, ro, 0, 0, 0, 0) == -EINVAL);
  close(ro);
  int p[2];
  pipe(p);
  check("lseek on a pipe is ESPIPE", sys(NR_lseek, p[0], 0, SEEK_SET, 0, 0) == -ESPIPE);
  check("lseek on a closed descriptor is EBADF", sys(NR_lseek, 15, 0, SEEK_SET, 0, 0) == -EBADF);
}

static void t_remove(void) {
  put_file("/tmp/gone", "still here");
  sys(NR_mkdir, (long)"/tmp/d", 0755, 0, 0, 0);
  const int fd = (int)open_raw("/tmp/gone", O_RDONLY, 0);
  check("unlink /tmp/gone", sys(NR_unlink, (long)"/tmp/gone", 0, 0, 0, 0) == 0);
  show("stat64 after unlink", kind_of("/tmp/gone"));
  char buf[16] = {0};
  check("a descriptor opened before still reads it", read_raw(fd, buf, 15) == 10 && strcmp(buf, "still here") == 0);
  close(fd);
  check("unlink again is ENOENT", sys(NR_unlink, (long)"/tmp/gone", 0, 0, 0, 0) == -ENOENT);
  check("unlink of a directory is EISDIR", sys(NR_unlink, (long)"/tmp/d", 0, 0, 0, 0) == -EISDIR);
  check("unlink under a missing directory is ENOENT", sys(NR_unlink, (long)"/tmp/nodir/x", 0, 0, 0, 0) == -ENOENT);
  put_file("/tmp/f2", "x");
  check("unlink of \"/tmp/f2/\" is ENOTDIR", sys(NR_unlink, (long)"/tmp/f2/", 0, 0, 0, 0) == -ENOTDIR);
  check("unlink of a mount point's directory is EISDIR", sys(NR_unlink, (long)"/tmp", 0, 0, 0, 0) == -EISDIR);
  check("unlink of a bad pointer is EFAULT", sys(NR_unlink, 16, 0, 0, 0, 0) == -EFAULT);
  check("rename from a bad pointer is EFAULT", sys(NR_rename, 16, (long)"/tmp/x", 0, 0, 0) == -EFAULT);
  check("mknod of a bad pointer is EFAULT", sys(NR_mknod, 16, 0644, 0, 0, 0) == -EFAULT);
  show("/tmp now", listing("/tmp", 1));
}

static void t_rename(void) {
  put_file("/tmp/a", "A");
  put_file("/tmp/other", "O");
  sys(NR_mkdir, (long)"/tmp/dir", 0755, 0, 0, 0);
  sys(NR_mkdir, (long)"/tmp/full", 0755, 0, 0, 0);
  put_file("/tmp/full/x", "x");
  check("rename /tmp/a -> /tmp/b", sys(NR_rename, (long)"/tmp/a", (long)"/tmp/b", 0, 0, 0) == 0);
  show("/tmp/a", kind_of("/tmp/a"));
  show("/tmp/b", contents("/tmp/b"));
  check("rename over an existing file replaces it", sys(NR_rename, (long)"/tmp/b", (long)"/tmp/other", 0, 0, 0) == 0);
  show("/tmp/other", contents("/tmp/other"));
  check("rename of a missing name is ENOENT", sys(NR_rename, (long)"/tmp/a", (long)"/tmp/c", 0, 0, 0) == -ENOENT);
  check("a file over a directory is EISDIR", sys(NR_rename, (long)"/tmp/other", (long)"/tmp/dir", 0, 0, 0) == -EISDIR);
  check("a directory over a file is ENOTDIR", sys(NR_rename, (long)"/tmp/dir", (long)"/tmp/other", 0, 0, 0) == -ENOTDIR);
  check("a directory over a non-empty one is ENOTEMPTY (or EEXIST)",
        sys(NR_rename, (long)"/tmp/dir", (long)"/tmp/full", 0, 0, 0) == -ENOTEMPTY);
  check("a directory into itself is EINVAL", sys(NR_rename, (long)"/tmp/dir", (long)"/tmp/dir/sub", 0, 0, 0) == -EINVAL);
  check("a directory renamed: /tmp/dir -> /tmp/full/moved", sys(NR_rename, (long)"/tmp/dir", (long)"/tmp/full/moved", 0, 0, 0) == 0);
  show("/tmp/full", listing("/tmp/full", 1));
  sys(NR_mkdir, (long)"/tmp/mnt", 0755, 0, 0, 0);
  check("tmpfs on /tmp/mnt", sys(NR_mount, (long)"tmpfs", (long)"/tmp/mnt", (long)"tmpfs", 0, 0) == 0);
  check("rename across mounts is EXDEV", sys(NR_rename, (long)"/tmp/other", (long)"/tmp/mnt/other", 0, 0, 0) == -EXDEV);
  check("rename of a mount point is EBUSY", sys(NR_rename, (long)"/tmp/mnt", (long)"/tmp/mnt2", 0, 0, 0) == -EBUSY);
}

static void t_dirs(void) {
  check("mkdir /tmp/x", sys(NR_mkdir, (long)"/tmp/x", 0755, 0, 0, 0) == 0);
  check("mkdir of it again is EEXIST", sys(NR_mkdir, (long)"/tmp/x", 0755, 0, 0, 0) == -EEXIST);
  check("mkdir under a missing directory is ENOENT", sys(NR_mkdir, (long)"/tmp/no/x", 0755, 0, 0, 0) == -ENOENT);
  put_file("/tmp/x/f", "f");
  check("rmdir of a non-empty directory is ENOTEMPTY", sys(NR_rmdir, (long)"/tmp/x", 0, 0, 0, 0) == -ENOTEMPTY);
  check("rmdir of a file is ENOTDIR", sys(NR_rmdir, (long)"/tmp/x/f", 0, 0, 0, 0) == -ENOTDIR);
  check("rmdir of \"/tmp/x/.\" is EINVAL", sys(NR_rmdir, (long)"/tmp/x/.", 0, 0, 0, 0) == -EINVAL);
  check("rmdir of a mount point is EBUSY", sys(NR_rmdir, (long)"/tmp", 0, 0, 0, 0) == -EBUSY);
  sys(NR_unlink, (long)"/tmp/x/f", 0, 0, 0, 0);
  check("rmdir once empty", sys(NR_rmdir, (long)"/tmp/x", 0, 0, 0, 0) == 0);
  show("/tmp/x", kind_of("/tmp/x"));
}

static void t_mknod(void) {
  check("mknod /tmp/w c 0 0 (a whiteout)", sys(NR_mknod, (long)"/tmp/w", S_IFCHR | 0644, 0, 0, 0) == 0);
  show("stat64 /tmp/w", kind_of("/tmp/w"));
  show("listing", listing("/tmp", 1));
  check("mknod of a regular file (type 0)", sys(NR_mknod, (long)"/tmp/r", 0644, 0, 0, 0) == 0);
  show("stat64 /tmp/r", kind_of("/tmp/r"));
  check("mknod over an existing name is EEXIST", sys(NR_mknod, (long)"/tmp/r", 0644, 0, 0, 0) == -EEXIST);
  check("mknod S_IFDIR is EPERM", sys(NR_mknod, (long)"/tmp/dd", S_IFDIR | 0755, 0, 0, 0) == -EPERM);
  const long child = clone_ns(CLONE_NEWUSER);
  if (child == 0) {
    /* All capabilities in the new user namespace, none in the initial one:
     * a real device needs CAP_MKNOD there, a whiteout does not (Linux 5.8). */
    check("in a new user namespace, mknod c 1 3 is EPERM",
          sys(NR_mknod, (long)"/tmp/null", S_IFCHR | 0666, (1 << 8) | 3, 0, 0) == -EPERM);
    check("but a whiteout (c 0 0) is allowed", sys(NR_mknod, (long)"/tmp/w2", S_IFCHR | 0644, 0, 0, 0) == 0);
    _exit(failures);
  }
  join((int)child);
}

int main(int argc, char **argv) {
  static const struct fs_test tests[] = {{"create", t_create}, {"seek", t_seek},   {"remove", t_remove},
                                         {"rename", t_rename}, {"dirs", t_dirs}, {"mknod", t_mknod}};
  return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
