/* What the file-system test programs share (fs_files.c, fs_overlay.c): the
 * system calls the tiny libc has no wrapper for (Linux i386 numbers,
 * arch/x86/entry/syscalls/syscall_32.tbl), struct stat64 of i386
 * (arch/x86/include/uapi/asm/stat.h), and a private playground: a mount
 * namespace of our own with a tmpfs on /tmp. The programs run unchanged
 * under container-sim and as i386 processes on Linux; they print no inode
 * or device number, and directory listings sorted, so the outputs can be
 * compared line by line (tests/container/fs_test.cpp). */
#ifndef FS_COMMON_H
#define FS_COMMON_H

#include "ns_common.h"

enum {
  NR_unlink = 10, NR_mknod = 14, NR_chmod = 15, NR_lseek = 19, NR_rename = 38, NR_rmdir = 40, NR_ftruncate = 93,
  NR__llseek = 140, NR_stat64 = 195, NR_lstat64 = 196, NR_fstat64 = 197,
};

#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFREG 0100000
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define ENOTEMPTY 39
#define EXDEV 18
#define EROFS 30

struct stat64 {
  unsigned long long st_dev;
  unsigned char __pad0[4];
  unsigned long __st_ino;
  unsigned int st_mode;
  unsigned int st_nlink;
  unsigned long st_uid;
  unsigned long st_gid;
  unsigned long long st_rdev;
  unsigned char __pad3[4];
  long long st_size;
  unsigned long st_blksize;
  unsigned long long st_blocks;
  unsigned long st_atime, st_atime_nsec, st_mtime;
  unsigned int st_mtime_nsec;
  unsigned long st_ctime, st_ctime_nsec;
  unsigned long long st_ino;
};
_Static_assert(sizeof(struct stat64) == 96, "struct stat64 of i386 is 96 bytes");

/* open(2) with the raw result: -errno on failure. */
static inline long open_raw(const char *path, long flags, long mode) { return sys(5, (long)path, flags, mode, 0, 0); }
static inline long read_raw(int fd, void *buf, long n) { return sys(3, fd, (long)buf, n, 0, 0); }
static inline long write_raw(int fd, const void *buf, long n) { return sys(4, fd, (long)buf, n, 0, 0); }

static inline long stat_of(const char *path, struct stat64 *st) { return sys(NR_stat64, (long)path, (long)st, 0, 0, 0); }

/* "reg 5", "dir", "chr 0/0", or "-ENOENT"-style numbers for a failure. */
static inline const char *kind_of(const char *path) {
  static char buf[48];
  struct stat64 st;
  const long r = stat_of(path, &st);
  if (r < 0) snprintf(buf, sizeof buf, "error %ld", -r);
  else if ((st.st_mode & S_IFMT) == S_IFREG) snprintf(buf, sizeof buf, "reg %lld", st.st_size);
  else if ((st.st_mode & S_IFMT) == S_IFDIR) snprintf(buf, sizeof buf, "dir");
  else if ((st.st_mode & S_IFMT) == S_IFCHR)
    snprintf(buf, sizeof buf, "chr %u/%u", (unsigned)((st.st_rdev >> 8) & 0xfff),
             (unsigned)((st.st_rdev & 0xff) | ((st.st_rdev >> 12) & 0xfff00)));
  else snprintf(buf, sizeof buf, "other %o", st.st_mode & S_IFMT);
  return buf;
}

/* The permission bits, "mode 644", or the error. */
static inline const char *mode_of(const char *path) {
  static char buf[32];
  struct stat64 st;
  const long r = stat_of(path, &st);
  if (r < 0) snprintf(buf, sizeof buf, "error %ld", -r);
  else snprintf(buf, sizeof buf, "mode %o", st.st_mode & 07777);
  return buf;
}

/* The whole of a file ("" and -1 if it cannot be opened). */
static inline const char *contents(const char *path) {
  static char buf[256];
  buf[0] = 0;
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return "(cannot open)";
  int n = 0, k;
  while (n < (int)sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += k;
  buf[n] = 0;
  close(fd);
  return buf;
}

static inline int put_file(const char *path, const char *text) {
  const int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return -1;
  const int n = (int)strlen(text);
  const int w = write(fd, text, n);
  close(fd);
  return w == n ? 0 : -1;
}

static inline int append_file(const char *path, const char *text) {
  const int fd = open(path, O_WRONLY | O_APPEND);
  if (fd < 0) return -1;
  const int n = (int)strlen(text);
  const int w = write(fd, text, n);
  close(fd);
  return w == n ? 0 : -1;
}

/* The names in a directory but "." and "..", sorted, space-separated;
 * `types` appends d_type letters (r regular, d directory, c device). */
static inline const char *listing(const char *path, int types) {
  static char out[512];
  char names[32][64], buf[1024];
  int count = 0;
  out[0] = 0;
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return "(cannot open)";
  long n;
  while ((n = sys(NR_getdents64, fd, (long)buf, sizeof buf, 0, 0)) > 0) {
    for (long at = 0; at < n;) {
      const unsigned short reclen = *(unsigned short *)(buf + at + 16);
      const unsigned char type = (unsigned char)buf[at + 18];
      const char *name = buf + at + 19;
      if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && count < 32) {
        snprintf(names[count], sizeof names[count], "%s%s", name,
                 !types ? "" : type == 4 ? "/" : type == 2 ? "(c)" : "");
        count++;
      }
      at += reclen;
    }
  }
  close(fd);
  for (int i = 1; i < count; i++) /* insertion sort: a handful of names */
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char t[64];
      strcpy(t, names[j]), strcpy(names[j], names[j - 1]), strcpy(names[j - 1], t);
    }
  size_t len = 0;
  for (int i = 0; i < count; i++) {
    if (i) out[len++] = ' ';
    strcpy(out + len, names[i]);
    len += strlen(names[i]);
  }
  out[len] = 0;
  return out;
}

static inline void show(const char *what, const char *value) { printf("%s: %s\n", what, value); }

/* A mount namespace of our own with a tmpfs on /tmp: under container-sim
 * and as root on Linux plain unshare(CLONE_NEWNS); as another user on Linux
 * a user namespace first (overlay mounts there need Linux 5.11), with
 * ourselves mapped to root in it. Nonzero: the host refuses. */
static inline int playground(void) {
  if (sys(NR_unshare, CLONE_NEWNS, 0, 0, 0, 0) != 0) {
    const long uid = sys(NR_geteuid32, 0, 0, 0, 0, 0), gid = sys(NR_getgid32, 0, 0, 0, 0, 0);
    if (sys(NR_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0, 0, 0, 0) != 0) return -1;
    char line[32];
    int fd = open("/proc/self/setgroups", O_WRONLY);
    if (fd >= 0) write(fd, "deny", 4), close(fd);
    snprintf(line, sizeof line, "0 %ld 1\n", uid);
    if ((fd = open("/proc/self/uid_map", O_WRONLY)) < 0 || write(fd, line, strlen(line)) < 0) return -2;
    close(fd);
    snprintf(line, sizeof line, "0 %ld 1\n", gid);
    if ((fd = open("/proc/self/gid_map", O_WRONLY)) < 0 || write(fd, line, strlen(line)) < 0) return -3;
    close(fd);
  }
  if (sys(NR_mount, 0, (long)"/", 0, MS_REC | MS_PRIVATE, 0) != 0) return -4;
  if (sys(NR_mount, (long)"tmpfs", (long)"/tmp", (long)"tmpfs", 0, 0) != 0) return -5;
  return 0;
}

/* main() of both programs: the subcommands named on the command line. */
struct fs_test {
  const char *name;
  void (*fn)(void);
};
static inline int run_tests(int argc, char **argv, const struct fs_test *tests, int count) {
  const int e = playground();
  if (e != 0) {
    printf("skip: no private mount namespace with a tmpfs (step %d)\n", -e);
    return 77;
  }
  for (int i = 1; i < argc; i++)
    for (int t = 0; t < count; t++)
      if (strcmp(argv[i], tests[t].name) == 0) tests[t].fn();
  printf("%d failures\n", failures);
  return failures;
}

#endif
