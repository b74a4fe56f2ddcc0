// Processes: the table, the round-robin scheduler, sleep/wakeup, fork,
// exit, wait and kill.
//
// The kernel is not preemptible: it runs with interrupts off (every IDT gate
// is an interrupt gate), and a process gives up the CPU only by sleeping or,
// when the timer interrupts it in user mode, by yielding. The scheduler runs
// on the boot stack; each process has its own kernel stack, and switching is
// swtch() between two saved kernel stack pointers (entry.S).
#include "kernel.h"
#include "pvops.h"

static struct proc procs[NPROC];
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
static uint32_t scheduler_context;
static int next_pid = 1;
struct proc* current;

void proc_init(void) {
  for (int i = 0; i < NPROC; i++) procs[i].kstack = kstacks[i];
}

// The first code a new process runs on its kernel stack (see proc_alloc).
static void forkret(void) { pv.return_to_user(current->tf); }

// A fresh process with a trapframe at the top of its kernel stack and, below
// it, a context that swtch() "returns" into forkret.
static struct proc* proc_alloc(void) {
  struct proc* p = 0;
  for (int i = 0; i < NPROC && !p; i++)
    if (procs[i].state == P_UNUSED) p = &procs[i];
  if (!p) return 0;
  uint8_t* kstack = p->kstack;
  memset(p, 0, sizeof *p);
  p->kstack = kstack;
  p->pd = vm_new_directory();
  if (!p->pd) return 0;
  p->pid = next_pid++;
  uint8_t* sp = kstack + KSTACK_SIZE - sizeof(struct trapframe);
  p->tf = (struct trapframe*)sp;
  uint32_t* ctx = (uint32_t*)sp - 5;
  ctx[0] = ctx[1] = ctx[2] = ctx[3] = 0;  // edi esi ebx ebp
  ctx[4] = (uint32_t)forkret;             // swtch's ret
  p->context = (uint32_t)ctx;
  p->state = P_SLEEPING;  // not runnable until complete
  return p;
}

static void set_name(struct proc* p, const char* path) {
  const char* base = path;
  for (const char* s = path; *s; s++)
    if (*s == '/') base = s + 1;
  size_t n = strlen(base);
  if (n >= sizeof p->name) n = sizeof p->name - 1;
  memcpy(p->name, base, n);
  p->name[n] = 0;
}

// pid 1: `path` with the argument string split at spaces (argv[0] = path).
int proc_spawn_init(const char* path, const char* args) {
  static char argbuf[256];
  char* argv[17];
  int argc = 0;
  size_t n = strlen(args);
  if (n >= sizeof argbuf) n = sizeof argbuf - 1;
  memcpy(argbuf, args, n);
  argbuf[n] = 0;
  for (char* s = argbuf; *s && argc < 16;) {
    while (*s == ' ') *s++ = 0;
    if (!*s) break;
    argv[argc++] = s;
    while (*s && *s != ' ') s++;
  }
  argv[argc] = 0;
  struct proc* p = proc_alloc();
  if (!p) panic("cannot allocate pid 1");
  file_init_console(p);
  current = p;
  vm_activate(p->pd);
  char* envp[] = {0};
  int r = exec_load(path, argv, argc, envp, 0);
  current = 0;
  if (r < 0) return r;
  set_name(p, path);
  p->state = P_RUNNABLE;
  return 0;
}

// Round robin: scan the table from the slot after the last one run; with
// nothing runnable, halt until an interrupt (virtscope skips idle time).
void scheduler(void) {
  int last = NPROC - 1;
  for (;;) {
    struct proc* next = 0;
    for (int k = 1; k <= NPROC && !next; k++) {
      struct proc* p = &procs[(last + k) % NPROC];
      if (p->state == P_RUNNABLE) next = p, last = (int)(p - procs);
    }
    if (!next) {
      pv.halt();
      pv.irq_disable();
      continue;
    }
    current = next;
    next->state = P_RUNNING;
    pv.set_kernel_stack((uint32_t)next->kstack + KSTACK_SIZE);
    vm_activate(next->pd);
    swtch(&scheduler_context, next->context);
    current = 0;
  }
}

static void sched(void) { swtch(&current->context, scheduler_context); }

void yield(void) {
  current->state = P_RUNNABLE;
  sched();
}

void sleep_on(const void* chan) {
  current->chan = chan;
  current->state = P_SLEEPING;
  sched();
  current->chan = 0;
}

void wakeup(const void* chan) {
  for (int i = 0; i < NPROC; i++)
    if (procs[i].state == P_SLEEPING && procs[i].chan == chan) procs[i].state = P_RUNNABLE;
}

int sys_fork(void) {
  struct proc* child = proc_alloc();
  if (!child) return -EAGAIN;
  if (vm_copy_user(child->pd, current->pd) < 0) {
    vm_free_directory(child->pd);
    child->state = P_UNUSED;
    return -ENOMEM;
  }
  memcpy(child->name, current->name, sizeof child->name);
  memcpy(child->regions, current->regions, sizeof child->regions);
  child->brk_base = current->brk_base;
  child->brk = current->brk;
  child->parent = current;
  *child->tf = *current->tf;
  child->tf->eax = 0;  // fork returns 0 in the child
  files_fork(child, current);
  child->state = P_RUNNABLE;
  return child->pid;
}

// Linux wait status (see wait(2), WIFEXITED/WTERMSIG): code << 8 for exit,
// the signal number for a kill.
void proc_exit(int wait_status) {
  struct proc* p = current;
  files_close_all(p);
  vm_free_user(p->pd);
  if (p->pid == 1) {
    int code = (wait_status & 0x7F) ? 128 + (wait_status & 0x7F) : (wait_status >> 8) & 0xFF;
    pv.power_off((uint8_t)code);
  }
  struct proc* init = 0;
  for (int i = 0; i < NPROC; i++)
    if (procs[i].pid == 1 && procs[i].state != P_UNUSED) init = &procs[i];
  for (int i = 0; i < NPROC; i++)
    if (procs[i].parent == p && procs[i].state != P_UNUSED) {
      procs[i].parent = init;  // orphans go to pid 1, which reaps them
      if (procs[i].state == P_ZOMBIE && init) wakeup(init);
    }
  p->status = wait_status;
  p->state = P_ZOMBIE;
  if (p->parent) wakeup(p->parent);
  sched();
  panic("zombie %d ran", p->pid);
}

#define WNOHANG 1
int sys_wait4(int pid, uint32_t ustatus, int options) {
  for (;;) {
    bool have_children = false;
    for (int i = 0; i < NPROC; i++) {
      struct proc* c = &procs[i];
      if (c->state == P_UNUSED || c->parent != current || (pid != -1 && c->pid != pid)) continue;
      have_children = true;
      if (c->state != P_ZOMBIE) continue;
      if (ustatus && copy_to_user(ustatus, &c->status, 4) < 0) return -EFAULT;
      int found = c->pid;
      vm_free_directory(c->pd);
      c->state = P_UNUSED;
      return found;
    }
    if (!have_children) return -ECHILD;
    if (options & WNOHANG) return 0;
    sleep_on(current);
    if (current->killed) return -EINTR;
  }
}

// Every signal terminates (no handlers in this kernel); the target dies the
// next time it would return to user mode (trap.c), waking it if it sleeps.
int sys_kill(int pid, int sig) {
  if (sig < 0 || sig > 64) return -EINVAL;
  for (int i = 0; i < NPROC; i++) {
    struct proc* p = &procs[i];
    if (p->pid != pid || p->state == P_UNUSED || p->state == P_ZOMBIE) continue;
    if (sig == 0) return 0;
    p->killed = sig;
    if (p->state == P_SLEEPING) p->state = P_RUNNABLE;
    return 0;
  }
  return -ESRCH;
}
