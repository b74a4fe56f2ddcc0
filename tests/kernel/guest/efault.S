/* Bad user pointers must give -EFAULT, not a kernel fault: write() from a
 * kernel address and from an unmapped user address, read() into one.
 * Exits with 0 when all three return -14, else with the first wrong one. */
  .globl _start
_start:
  movl $4, %eax          /* write(1, 0x00100000 (the kernel), 4) */
  movl $1, %ebx
  movl $0x00100000, %ecx
  movl $4, %edx
  int $0x80
  cmpl $-14, %eax
  jne fail1
  movl $4, %eax          /* write(1, 0x10000000 (unmapped), 4) */
  movl $1, %ebx
  movl $0x10000000, %ecx
  movl $4, %edx
  int $0x80
  cmpl $-14, %eax
  jne fail2
  movl $5, %eax          /* open((char*)0xC0001000, 0): above user space */
  movl $0xC0001000, %ebx
  xorl %ecx, %ecx
  int $0x80
  cmpl $-14, %eax
  jne fail3
  xorl %ebx, %ebx
  jmp out
fail1: movl $1, %ebx
  jmp out
fail2: movl $2, %ebx
  jmp out
fail3: movl $3, %ebx
out:
  movl $1, %eax
  int $0x80
