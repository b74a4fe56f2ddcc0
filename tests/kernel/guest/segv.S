/* fork; the child stores to an address outside every region (the kernel
 * must kill it with SIGSEGV); the parent waits and exits with the wait
 * status, so pid 1's exit status is 11 when the child was signalled 11. */
  .globl _start
_start:
  movl $2, %eax          /* fork */
  int $0x80
  testl %eax, %eax
  jnz parent
  movl $0x10000000, %ebx /* mapped by nobody */
  movl $1, (%ebx)
  movl $1, %eax          /* not reached */
  movl $99, %ebx
  int $0x80
parent:
  movl $114, %eax        /* wait4(-1, &status, 0, 0) */
  movl $-1, %ebx
  movl $status, %ecx
  xorl %edx, %edx
  xorl %esi, %esi
  int $0x80
  movl $1, %eax
  movl status, %ebx
  int $0x80
  .bss
status: .long 0
