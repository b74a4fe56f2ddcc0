/* The smallest user program: write(1, msg, len); exit(0). Linux i386
 * int $0x80 ABI: number in EAX, arguments in EBX, ECX, EDX. */
  .globl _start
_start:
  movl $4, %eax
  movl $1, %ebx
  movl $msg, %ecx
  movl $len, %edx
  int $0x80
  movl $1, %eax
  xorl %ebx, %ebx
  int $0x80
  .data
msg: .ascii "hello from ring 3\n"
len = . - msg
