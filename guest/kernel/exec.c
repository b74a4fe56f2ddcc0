// execve: load a static ELF32 executable from the initrd into a fresh
// address space and build the initial user stack.
//
// ELF: System V ABI gABI ch. 4-5 and the i386 psABI. Only ET_EXEC, EM_386,
// PT_LOAD segments; p_memsz beyond p_filesz is .bss, which is zero because
// every page starts as a fresh zeroed page.
//
// Initial stack (i386 psABI §3.4.1 "Process Initialization", Figure 3-31;
// what Linux's create_elf_tables builds): at ESP, argc; then argv[0..argc-1],
// NULL; envp[...], NULL; the auxiliary vector, here only AT_NULL (0, 0);
// the strings themselves above that.
#include "kernel.h"
#include "pvops.h"

struct elf_header {
  uint8_t ident[16];
  uint16_t type, machine;
  uint32_t version, entry, phoff, shoff, flags;
  uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf_phdr {
  uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1

static int check_image(const uint8_t* image, uint32_t size) {
  const struct elf_header* eh = (const struct elf_header*)image;
  if (size < sizeof *eh || memcmp(eh->ident, "\177ELF", 4) != 0 || eh->ident[4] != 1 /* ELFCLASS32 */ ||
      eh->type != ET_EXEC || eh->machine != EM_386 || eh->phentsize != sizeof(struct elf_phdr) ||
      eh->phoff > size || eh->phnum * sizeof(struct elf_phdr) > size - eh->phoff)
    return -ENOEXEC;
  const struct elf_phdr* ph = (const struct elf_phdr*)(image + eh->phoff);
  for (int i = 0; i < eh->phnum; i++) {
    if (ph[i].type != PT_LOAD) continue;
    if (ph[i].vaddr < USER_BASE || ph[i].memsz > USER_TOP - STACK_MAX - ph[i].vaddr ||
        ph[i].filesz > ph[i].memsz || ph[i].offset > size || ph[i].filesz > size - ph[i].offset)
      return -ENOEXEC;
  }
  return 0;
}

// Pushes the strings and the pointer arrays; returns the new ESP or -errno.
static int build_stack(char* const argv[], int argc, char* const envp[], int envc, uint32_t* esp) {
  uint32_t sp = USER_TOP;
  uint32_t ptrs[64];  // argv then envp addresses
  if (argc + envc > 62) return -E2BIG;
  for (int i = argc + envc - 1; i >= 0; i--) {
    const char* s = i < argc ? argv[i] : envp[i - argc];
    uint32_t n = strlen(s) + 1;
    sp -= n;
    if (copy_to_user(sp, s, n) < 0) return -EFAULT;
    ptrs[i] = sp;
  }
  // argc, argv[argc+1], envp[envc+1], auxv {AT_NULL, 0}
  uint32_t words = 1 + (argc + 1) + (envc + 1) + 2;
  sp = (sp - words * 4) & ~15u;  // 16-byte aligned ESP, as gcc's code expects
  uint32_t w = sp, zero = 0, count = (uint32_t)argc;
  copy_to_user(w, &count, 4), w += 4;
  for (int i = 0; i < argc; i++) copy_to_user(w, &ptrs[i], 4), w += 4;
  copy_to_user(w, &zero, 4), w += 4;
  for (int i = 0; i < envc; i++) copy_to_user(w, &ptrs[argc + i], 4), w += 4;
  copy_to_user(w, &zero, 4), w += 4;
  copy_to_user(w, &zero, 4), w += 4;  // AT_NULL
  copy_to_user(w, &zero, 4);
  *esp = sp;
  return 0;
}

// Replaces the current process's address space. The old one survives until
// the new image is complete, so a failing exec returns to the caller.
int exec_load(const char* path, char* const argv[], int argc, char* const envp[], int envc) {
  uint32_t size;
  const uint8_t* image = initrd_find(path, &size);
  if (!image) return -ENOENT;
  int r = check_image(image, size);
  if (r < 0) return r;
  struct proc* p = current;
  uint32_t old_pd = p->pd, old_brk_base = p->brk_base, old_brk = p->brk;
  struct region old_regions[REGION_MAX];
  memcpy(old_regions, p->regions, sizeof old_regions);

  p->pd = vm_new_directory();
  if (!p->pd) {
    p->pd = old_pd;
    return -ENOMEM;
  }
  memset(p->regions, 0, sizeof p->regions);
  p->brk_base = p->brk = 0;
  vm_activate(p->pd);

  const struct elf_header* eh = (const struct elf_header*)image;
  const struct elf_phdr* ph = (const struct elf_phdr*)(image + eh->phoff);
  uint32_t image_end = USER_BASE;
  uint32_t esp = 0;
  r = 0;
  for (int i = 0; i < eh->phnum && r == 0; i++) {
    if (ph[i].type != PT_LOAD || ph[i].memsz == 0) continue;
    uint32_t start = PAGE_ROUND_DOWN(ph[i].vaddr), end = PAGE_ROUND_UP(ph[i].vaddr + ph[i].memsz);
    for (uint32_t va = start; va < end && r == 0; va += PAGE_SIZE) r = vm_map_zero(p->pd, va);
    if (r == 0) memcpy((void*)ph[i].vaddr, image + ph[i].offset, ph[i].filesz);
    if (r == 0 && !region_add(start, end, REGION_IMAGE)) r = -ENOMEM;
    if (end > image_end) image_end = end;
  }
  p->brk_base = p->brk = image_end;
  if (r == 0) r = build_stack(argv, argc, envp, envc, &esp);
  if (r < 0) {
    // Back to the old address space first: a directory is freed only once
    // CR3 no longer holds it (a hypervisor refuses to unpin a loaded one).
    uint32_t failed = p->pd;
    p->pd = old_pd;
    p->brk_base = old_brk_base;
    p->brk = old_brk;
    memcpy(p->regions, old_regions, sizeof old_regions);
    vm_activate(old_pd);
    vm_free_directory(failed);
    return r;
  }
  if (old_pd) vm_free_directory(old_pd);

  struct trapframe* tf = p->tf;
  memset(tf, 0, sizeof *tf);
  tf->cs = SEL_UCODE;
  tf->ds = tf->es = tf->fs = tf->gs = tf->ss = SEL_UDATA;
  tf->eflags = 0x202;  // IF, and bit 1 which is always 1 (SDM Vol. 1 §3.4.3)
  tf->eip = eh->entry;
  tf->esp = esp;
  return 0;
}

// Copies a NULL-terminated user array of strings into the buffer.
static int copy_vector(uint32_t uvec, char** out, int max, char** buf, char* buf_end) {
  int n = 0;
  if (!uvec) return 0;
  for (;; n++) {
    uint32_t ptr;
    if (copy_from_user(&ptr, uvec + 4 * (uint32_t)n, 4) < 0) return -EFAULT;
    if (!ptr) break;
    if (n == max) return -E2BIG;
    int len = copy_string_from_user(*buf, ptr, (uint32_t)(buf_end - *buf));
    if (len < 0) return len;
    out[n] = *buf;
    *buf += len + 1;
  }
  out[n] = 0;
  return n;
}

int sys_execve(uint32_t upath, uint32_t uargv, uint32_t uenvp) {
  uint32_t page = page_alloc();  // the arguments, while the old space still exists
  if (!page) return -ENOMEM;
  char* buf = (char*)page;
  char* end = buf + PAGE_SIZE;
  char *argv[32], *envp[32];
  char* path = buf;
  int r = copy_string_from_user(path, upath, 128);
  int argc = 0, envc = 0;
  if (r >= 0) {
    buf += r + 1;
    r = argc = copy_vector(uargv, argv, 31, &buf, end);
  }
  if (r >= 0) r = envc = copy_vector(uenvp, envp, 31, &buf, end);
  if (r >= 0) r = exec_load(path, argv, argc, envp, envc);
  if (r >= 0) {
    const char* base = path;
    for (const char* s = path; *s; s++)
      if (*s == '/') base = s + 1;
    size_t n = strlen(base);
    if (n > 15) n = 15;
    memcpy(current->name, base, n);
    current->name[n] = 0;
  }
  page_free(page);
  return r < 0 ? r : 0;
}
