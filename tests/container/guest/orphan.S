/* An orphan goes to PID 1 (pid_namespaces(7); the teaching kernel's proc.c
 * does the same). pid 1 forks a child, which forks a grandchild and exits
 * at once; the grandchild spins for several ticks, checks that getppid()
 * is now 1, and exits 7 (8 if not). pid 1 reaps both, then wait4 must say
 * -ECHILD; it exits with the grandchild's exit code (99 if anything is off). */
  .globl _start
_start:
  movl $2, %eax          /* fork */
  int $0x80
  testl %eax, %eax
  jnz parent
  movl $2, %eax          /* the child forks the grandchild */
  int $0x80
  testl %eax, %eax
  jnz child_exit
  movl $3000000, %ecx    /* grandchild: outlive the child */
spin:
  decl %ecx
  jnz spin
  movl $64, %eax         /* getppid */
  int $0x80
  cmpl $1, %eax
  jne not_adopted
  movl $1, %eax
  movl $7, %ebx
  int $0x80
not_adopted:
  movl $1, %eax
  movl $8, %ebx
  int $0x80
child_exit:
  movl $1, %eax
  xorl %ebx, %ebx
  int $0x80
parent:
  call reap              /* the child */
  call reap              /* the grandchild, adopted */
  movl status, %edi
  shrl $8, %edi
  call reap              /* nothing left */
  cmpl $-10, %eax        /* -ECHILD */
  jne fail
  movl $1, %eax
  movl %edi, %ebx
  int $0x80
fail:
  movl $1, %eax
  movl $99, %ebx
  int $0x80
reap:                    /* wait4(-1, &status, 0, 0) */
  movl $114, %eax
  movl $-1, %ebx
  movl $status, %ecx
  xorl %edx, %edx
  xorl %esi, %esi
  int $0x80
  ret
  .bss
status: .long 0
