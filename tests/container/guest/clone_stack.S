/* clone(SIGCHLD, child_stack) without CLONE_VM (clone(2), i386 order: EBX
 * flags, ECX child stack, EDX parent_tid, ESI tls, EDI child_tid): the
 * child starts on the given stack, in its own copy of the address space.
 * With CLONE_PARENT_SETTID the parent's word gets the child's PID. The
 * child exits 42 if ESP is the stack it was given, 43 if not; the parent
 * exits with the child's exit code, or 99 if parent_tid is wrong. */
  .globl _start
_start:
  movl $120, %eax              /* clone */
  movl $0x00100011, %ebx       /* CLONE_PARENT_SETTID | SIGCHLD */
  movl $stack_top, %ecx
  movl $parent_tid, %edx
  xorl %esi, %esi
  xorl %edi, %edi
  int $0x80
  testl %eax, %eax
  jz child
  movl %eax, %ebp              /* the child's PID */
  movl $114, %eax              /* wait4(pid, &status, 0, 0) */
  movl %ebp, %ebx
  movl $status, %ecx
  xorl %edx, %edx
  xorl %esi, %esi
  int $0x80
  cmpl parent_tid, %ebp
  jne bad_tid
  movl status, %ebx
  shrl $8, %ebx
  movl $1, %eax
  int $0x80
bad_tid:
  movl $1, %eax
  movl $99, %ebx
  int $0x80
child:
  movl $42, %ebx
  cmpl $stack_top, %esp
  je 1f
  movl $43, %ebx
1:
  movl $1, %eax
  int $0x80
  .bss
status: .long 0
parent_tid: .long 0
  .align 16
stack: .space 4096
stack_top:
