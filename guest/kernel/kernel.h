// Declarations shared by the kernel's subsystems: one section per file.
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Segment selectors (descriptors.c): index << 3 | RPL (SDM Vol. 3 §3.4.2).
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS 0x28

#define PAGE_SIZE 4096u
#define PAGE_ROUND_DOWN(a) ((uint32_t)(a) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_UP(a) (((uint32_t)(a) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

// The user part of every address space; below is the kernel's identity map.
#define USER_BASE 0x08000000u
#define USER_TOP 0xC0000000u
#define STACK_MAX (8u << 20)
#define MMAP_BASE 0x40000000u

// Linux errno values (include/uapi/asm-generic/errno-base.h numbers).
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EINVAL 22
#define EMFILE 24
#define EPIPE 32
#define ENOSYS 38
#define EIO 5
#define ENODEV 19

// The registers a trap saves, in the order entry.S pushes them (the CPU
// pushes the last five; esp/ss only on a privilege change, SDM Vol. 3 §6.12.1).
struct trapframe {
  uint32_t edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;  // pushal order
  uint32_t gs, fs, es, ds;
  uint32_t vector, error;
  uint32_t eip, cs, eflags, esp, ss;
};

// lib.c
void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
void kprintf(const char* fmt, ...);
void kvprintf(const char* fmt, va_list ap);
void panic(const char* fmt, ...) __attribute__((noreturn));

// console.c (the line discipline; the UART driver natively)
void console_init(void);
void console_putc(char c);
void console_write(const char* s, uint32_t n);
void uart_init(void);
void uart_write(const char* s, uint32_t n);
int uart_getc(void);
void console_irq(void);
int console_read(char* dst, uint32_t n);  // kernel buffer; blocks for a line

// disk.c (/dev/disk; the ATA driver natively)
#define SECTOR_SIZE 512u
int ata_read(uint32_t sector, uint32_t count, void* buffer);
int disk_read_at(uint32_t* offset, uint32_t ubuf, uint32_t n);  // read(2) on /dev/disk

// descriptors.c
void descriptors_init(void);
void tss_set_esp0(uint32_t esp0);

// timer.c (8259 PIC + 8254 PIT)
extern volatile uint32_t ticks;
void pic_init(void);
void pic_eoi(int irq);
void pit_init(void);
void timer_calibrate(void);  // Linux-style delay calibration with interrupts on
extern uint32_t loops_per_tick;

// pmem.c
void pmem_init(uint32_t start, uint32_t end);
uint32_t page_alloc(void);  // physical address of a zeroed page, 0 when none
void page_free(uint32_t pa);
uint32_t pmem_free_pages(void);

// vm.c
#define REGION_MAX 24
enum region_kind { REGION_NONE, REGION_IMAGE, REGION_HEAP, REGION_STACK, REGION_MMAP };
struct region {
  uint32_t start, end;
  enum region_kind kind;
};
void vm_init(uint32_t ram_top);
uint32_t vm_new_directory(void);
void vm_activate(uint32_t pd);  // load it into CR3 unless already loaded
void vm_free_user(uint32_t pd);     // user pages and page tables
void vm_free_directory(uint32_t pd);
int vm_copy_user(uint32_t dst_pd, uint32_t src_pd);
int vm_map_zero(uint32_t pd, uint32_t va);  // map a fresh zeroed user page
void vm_unmap_range(uint32_t pd, uint32_t start, uint32_t end);
int vm_handle_fault(uint32_t addr);  // demand-zero: 0 when resolved
int copy_from_user(void* dst, uint32_t usrc, uint32_t n);
int copy_to_user(uint32_t udst, const void* src, uint32_t n);
int copy_string_from_user(char* dst, uint32_t usrc, uint32_t max);
struct region* region_find(uint32_t addr);
struct region* region_add(uint32_t start, uint32_t end, enum region_kind kind);

// initrd.c
void initrd_init(uint32_t start, uint32_t end);
const uint8_t* initrd_find(const char* path, uint32_t* size);
int initrd_count(void);

// proc.c
#define NPROC 64
#define NOFILE 16
#define KSTACK_SIZE 8192
enum proc_state { P_UNUSED, P_RUNNABLE, P_RUNNING, P_SLEEPING, P_ZOMBIE };
struct file;
struct proc {
  enum proc_state state;
  int pid;
  struct proc* parent;
  char name[16];
  uint32_t pd;               // physical address of the page directory
  uint8_t* kstack;
  uint32_t context;          // saved kernel esp (switch.S)
  struct trapframe* tf;
  const void* chan;          // what a sleeping process waits for
  int killed;                // pending fatal signal
  int status;                // Linux wait status once a zombie
  uint32_t brk_base, brk;
  struct region regions[REGION_MAX];
  struct file* files[NOFILE];
};
extern struct proc* current;
void proc_init(void);
void scheduler(void) __attribute__((noreturn));
void yield(void);
void sleep_on(const void* chan);
void wakeup(const void* chan);
int proc_spawn_init(const char* path, const char* args);
int sys_fork(void);
void proc_exit(int wait_status) __attribute__((noreturn));
int sys_wait4(int pid, uint32_t ustatus, int options);
int sys_kill(int pid, int sig);
void swtch(uint32_t* save_esp, uint32_t new_esp);  // switch.S

// exec.c
int exec_load(const char* path, char* const argv[], int argc, char* const envp[], int envc);
int sys_execve(uint32_t upath, uint32_t uargv, uint32_t uenvp);

// file.c
void file_init_console(struct proc* p);
void files_fork(struct proc* child, struct proc* parent);
void files_close_all(struct proc* p);
int sys_open(uint32_t upath, int flags);
int sys_read(int fd, uint32_t ubuf, uint32_t n);
int sys_write(int fd, uint32_t ubuf, uint32_t n);
int sys_close(int fd);
int sys_pipe(uint32_t ufds);
int sys_dup2(int oldfd, int newfd);

// syscall.c / trap.c
void syscall_dispatch(struct trapframe* tf);
void trap(struct trapframe* tf);
void irq_dispatch(int irq, bool from_user);  // IRQ 0 timer, 4 console
// The vector a hypervisor's event upcall arrives on (pvops_pv.c).
#define VECTOR_EVENT_UPCALL 0x30
