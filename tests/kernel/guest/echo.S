/* Reads one line from the console (fd 0) and writes it back; exits with
 * the byte count read() returned, to check the line discipline. */
  .globl _start
_start:
  movl $3, %eax
  xorl %ebx, %ebx
  movl $buf, %ecx
  movl $64, %edx
  int $0x80
  movl %eax, %esi
  movl $4, %eax
  movl $1, %ebx
  movl $buf, %ecx
  movl %esi, %edx
  int $0x80
  movl $1, %eax
  movl %esi, %ebx
  int $0x80
  .bss
buf: .space 64
