// Boot: check the Multiboot hand-over, copy what we need out of the
// information structure (Multiboot spec 0.6.96 §3.3) before the page
// allocator can reuse its memory, bring up each subsystem, start pid 1.
#include "kernel.h"
#include "pvops.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MBI_MEM 0x001      // mem_lower/mem_upper valid
#define MBI_CMDLINE 0x004
#define MBI_MODS 0x008

struct multiboot_info {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
};
struct multiboot_module {
  uint32_t start, end, string, reserved;
};

extern char kernel_end[];  // kernel.ld
static char cmdline[256];

// The value of `key=` in the command line: for run=, everything after it
// (the program and its arguments); 0 when absent.
static const char* cmdline_value(const char* key) {
  size_t n = strlen(key);
  for (const char* s = cmdline; *s; s++)
    if ((s == cmdline || s[-1] == ' ') && strncmp(s, key, n) == 0) return s + n;
  return 0;
}

void kmain(uint32_t magic, const struct multiboot_info* mbi) {
  pvops_init();
  console_init();
  if (magic != MULTIBOOT_BOOTLOADER_MAGIC) panic("not booted by a Multiboot loader (magic 0x%x)", magic);
  if (mbi->flags & MBI_CMDLINE) {
    const char* s = (const char*)mbi->cmdline;
    size_t n = strlen(s);
    if (n >= sizeof cmdline) n = sizeof cmdline - 1;
    memcpy(cmdline, s, n);
  }
  uint32_t ram_top = (mbi->flags & MBI_MEM) ? 0x100000 + mbi->mem_upper * 1024 : 16u << 20;
  if (ram_top > USER_BASE) ram_top = USER_BASE;  // the kernel maps at most 128 MiB
  uint32_t free_start = (uint32_t)kernel_end, initrd_start = 0, initrd_end = 0;
  if ((mbi->flags & MBI_MODS) && mbi->mods_count > 0) {
    const struct multiboot_module* mod = (const struct multiboot_module*)mbi->mods_addr;
    initrd_start = mod->start;
    initrd_end = mod->end;
    if (initrd_end > free_start) free_start = initrd_end;
  }

  descriptors_init();
  pv.timer_init();
  pmem_init(free_start, ram_top);
  vm_init(ram_top);
  initrd_init(initrd_start, initrd_end);
  proc_init();
  kprintf("virtscope teaching kernel: %u MiB, initrd %d files\n", ram_top >> 20, initrd_count());
  timer_calibrate();

  // A teaching aid: `crash=kernel` makes the kernel touch an unmapped page,
  // to show what a kernel-mode fault looks like.
  const char* crash = cmdline_value("crash=");
  if (crash && strncmp(crash, "kernel", 6) == 0) *(volatile uint32_t*)0 = 0;

  const char* run = cmdline_value("run=");
  static char path[64] = "/bin/";
  const char* args = run ? run : "sh";
  size_t n = 0;
  while (args[n] && args[n] != ' ' && n < sizeof path - 6) n++;
  if (args[0] == '/') path[0] = 0;
  memcpy(path + strlen(path), args, n);
  int r = proc_spawn_init(path, args);
  if (r < 0) panic("cannot run %s (error %d)", path, -r);
  scheduler();
}
