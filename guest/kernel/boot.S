/* Multiboot v1 header and entry point (Multiboot spec 0.6.96 §3.1, §3.2).
 * The loader jumps to _start in 32-bit protected mode, paging off,
 * EAX = 0x2BADB002 and EBX = the physical address of the information
 * structure. ESP is undefined, so the first thing is our own stack. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules, bit 1: memory info */

  .section .multiboot, "a"
  .align 4
  .long MB_MAGIC
  .long MB_FLAGS
  .long -(MB_MAGIC + MB_FLAGS) /* the three fields sum to zero */

  .section .bss
  .globl boot_esi
  .align 4
boot_esi:
  .space 4
  .align 16
boot_stack:
  .space 16384
boot_stack_top:

  .text
  .globl _start
_start:
  movl %esi, boot_esi    /* a hypervisor's start_info (pvops_pv.c); junk otherwise */
  movl $boot_stack_top, %esp
  xorl %ebp, %ebp        /* ends frame-pointer backtraces */
  pushl %ebx             /* kmain(magic, info) */
  pushl %eax
  call kmain
1:jmp 1b                 /* kmain never returns */
