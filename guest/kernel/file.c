// Open files: a shared pool of file objects (several descriptors, across
// fork and dup2, can share one, with its offset), each the console, an
// initrd file (read-only, in place), the disk (/dev/disk, disk.c) or one
// end of a pipe.
// Pipes: a 512-byte ring buffer; readers sleep while it is empty, writers
// while it is full (POSIX write(2)/read(2) on pipes, pipe(7)).
#include "kernel.h"
#include "pvops.h"

#define NFILE 128
#define NPIPE 16
#define PIPE_SIZE 512

enum file_type { F_NONE, F_CONSOLE, F_INITRD, F_DISK, F_PIPE_READ, F_PIPE_WRITE };

struct pipe {
  uint8_t data[PIPE_SIZE];
  uint32_t nread, nwrite;  // free-running counts
  int readers, writers;    // open ends
  bool used;
};

struct file {
  enum file_type type;
  int refs;
  const uint8_t* data;  // F_INITRD
  uint32_t size, offset;
  struct pipe* pipe;
};

static struct file files[NFILE];
static struct pipe pipes[NPIPE];

static struct file* file_new(enum file_type type) {
  for (int i = 0; i < NFILE; i++)
    if (files[i].refs == 0) {
      files[i] = (struct file){.type = type, .refs = 1};
      return &files[i];
    }
  return 0;
}

static void file_release(struct file* f) {
  if (--f->refs > 0) return;
  if (f->type == F_PIPE_READ || f->type == F_PIPE_WRITE) {
    struct pipe* pp = f->pipe;
    if (f->type == F_PIPE_READ) pp->readers--;
    else pp->writers--;
    wakeup(pp);  // a blocked peer must see the closed end
    if (pp->readers == 0 && pp->writers == 0) pp->used = false;
  }
  f->type = F_NONE;
}

void file_init_console(struct proc* p) {
  struct file* f = file_new(F_CONSOLE);
  if (!f) panic("no file for the console");
  f->refs = 3;
  p->files[0] = p->files[1] = p->files[2] = f;
}

void files_fork(struct proc* child, struct proc* parent) {
  for (int i = 0; i < NOFILE; i++)
    if ((child->files[i] = parent->files[i])) child->files[i]->refs++;
}

void files_close_all(struct proc* p) {
  for (int i = 0; i < NOFILE; i++)
    if (p->files[i]) file_release(p->files[i]), p->files[i] = 0;
}

static int fd_alloc(struct file* f) {
  for (int fd = 0; fd < NOFILE; fd++)
    if (!current->files[fd]) {
      current->files[fd] = f;
      return fd;
    }
  return -EMFILE;
}

static struct file* fd_get(int fd) { return fd >= 0 && fd < NOFILE ? current->files[fd] : 0; }

int sys_open(uint32_t upath, int flags) {
  char path[128];
  int r = copy_string_from_user(path, upath, sizeof path);
  if (r < 0) return r == -E2BIG ? -ENOENT : r;
  if ((flags & 3) != 0) return -EPERM;  // only O_RDONLY: the initrd and the disk are read-only
  uint32_t size = 0;
  const bool disk = strcmp(path, "/dev/disk") == 0;
  const uint8_t* data = disk ? 0 : initrd_find(path, &size);
  if (!disk && !data) return -ENOENT;
  struct file* f = file_new(disk ? F_DISK : F_INITRD);
  if (!f) return -EMFILE;
  f->data = data;
  f->size = size;
  r = fd_alloc(f);
  if (r < 0) file_release(f);
  return r;
}

static int pipe_read(struct pipe* pp, uint32_t ubuf, uint32_t n) {
  while (pp->nread == pp->nwrite) {
    if (pp->writers == 0) return 0;  // end of file
    sleep_on(pp);
    if (current->killed) return -EINTR;
  }
  uint8_t chunk[PIPE_SIZE];
  uint32_t got = 0;
  while (got < n && pp->nread != pp->nwrite) chunk[got++] = pp->data[pp->nread++ % PIPE_SIZE];
  wakeup(pp);
  return copy_to_user(ubuf, chunk, got) < 0 ? -EFAULT : (int)got;
}

static int pipe_write(struct pipe* pp, uint32_t ubuf, uint32_t n) {
  uint32_t done = 0;
  while (done < n) {
    if (pp->readers == 0) return done ? (int)done : -EPIPE;
    uint32_t room = PIPE_SIZE - (pp->nwrite - pp->nread);
    if (room == 0) {
      wakeup(pp);
      sleep_on(pp);
      if (current->killed) return done ? (int)done : -EINTR;
      continue;
    }
    uint8_t chunk[PIPE_SIZE];
    uint32_t k = n - done < room ? n - done : room;
    if (copy_from_user(chunk, ubuf + done, k) < 0) return done ? (int)done : -EFAULT;
    for (uint32_t i = 0; i < k; i++) pp->data[pp->nwrite++ % PIPE_SIZE] = chunk[i];
    done += k;
    wakeup(pp);
  }
  return (int)done;
}

int sys_read(int fd, uint32_t ubuf, uint32_t n) {
  struct file* f = fd_get(fd);
  if (!f) return -EBADF;
  if (n == 0) return 0;
  switch (f->type) {
    case F_CONSOLE: {
      char line[256];
      int got = console_read(line, n < sizeof line ? n : sizeof line);
      if (got > 0 && copy_to_user(ubuf, line, (uint32_t)got) < 0) return -EFAULT;
      return got;
    }
    case F_INITRD: {
      uint32_t k = f->size - f->offset < n ? f->size - f->offset : n;
      if (copy_to_user(ubuf, f->data + f->offset, k) < 0) return -EFAULT;
      f->offset += k;
      return (int)k;
    }
    case F_DISK: return disk_read_at(&f->offset, ubuf, n);
    case F_PIPE_READ: return pipe_read(f->pipe, ubuf, n);
    default: return -EBADF;
  }
}

int sys_write(int fd, uint32_t ubuf, uint32_t n) {
  struct file* f = fd_get(fd);
  if (!f) return -EBADF;
  if (f->type == F_PIPE_WRITE) return pipe_write(f->pipe, ubuf, n);
  if (f->type != F_CONSOLE) return -EBADF;
  char chunk[128];
  for (uint32_t done = 0; done < n;) {
    uint32_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
    if (copy_from_user(chunk, ubuf + done, k) < 0) return done ? (int)done : -EFAULT;
    uint32_t flags = pv.save_flags_and_disable();  // one write's bytes stay together
    console_write(chunk, k);
    pv.restore_flags(flags);
    done += k;
  }
  return (int)n;
}

int sys_close(int fd) {
  struct file* f = fd_get(fd);
  if (!f) return -EBADF;
  current->files[fd] = 0;
  file_release(f);
  return 0;
}

int sys_pipe(uint32_t ufds) {
  struct pipe* pp = 0;
  for (int i = 0; i < NPIPE && !pp; i++)
    if (!pipes[i].used) pp = &pipes[i];
  if (!pp) return -EMFILE;
  struct file* r = file_new(F_PIPE_READ);
  struct file* w = r ? file_new(F_PIPE_WRITE) : 0;
  if (!w) {
    if (r) r->refs = 0, r->type = F_NONE;
    return -EMFILE;
  }
  *pp = (struct pipe){.used = true, .readers = 1, .writers = 1};
  r->pipe = w->pipe = pp;
  int fds[2] = {fd_alloc(r), -1};
  if (fds[0] >= 0) fds[1] = fd_alloc(w);
  if (fds[1] < 0 || copy_to_user(ufds, fds, sizeof fds) < 0) {
    if (fds[0] >= 0) current->files[fds[0]] = 0;
    if (fds[1] >= 0) current->files[fds[1]] = 0;
    file_release(r);
    file_release(w);
    return fds[1] < 0 ? -EMFILE : -EFAULT;
  }
  return 0;
}

int sys_dup2(int oldfd, int newfd) {
  struct file* f = fd_get(oldfd);
  if (!f || newfd < 0 || newfd >= NOFILE) return -EBADF;
  if (oldfd == newfd) return newfd;
  if (current->files[newfd]) file_release(current->files[newfd]);
  current->files[newfd] = f;
  f->refs++;
  return newfd;
}
