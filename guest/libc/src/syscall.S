/* The one way into the kernel: long __vs_syscall(nr, a1, a2, a3, a4, a5, a6).
 *
 * Linux i386 system call convention (arch/x86 "int $0x80" entry): the number
 * in EAX, arguments in EBX, ECX, EDX, ESI, EDI, EBP; the result comes back in
 * EAX, a value in -4095..-1 meaning -errno. All other registers are
 * preserved by the kernel.
 *
 * EBX, ESI, EDI and EBP are callee-saved in the C calling convention, and EBP
 * is the frame pointer gcc will not hand to inline asm, so this is written in
 * assembly: save them, load all six arguments, trap, restore. Unused
 * arguments are passed as 0 by the C wrappers. The raw result is returned;
 * turning -errno into errno is done in C (syscalls.c). */
        .text
        .globl __vs_syscall
        .type __vs_syscall, @function
__vs_syscall:
        pushl %ebp
        pushl %edi
        pushl %esi
        pushl %ebx
        /* 4 saved registers + return address = 20 bytes above the arguments */
        movl 20(%esp), %eax
        movl 24(%esp), %ebx
        movl 28(%esp), %ecx
        movl 32(%esp), %edx
        movl 36(%esp), %esi
        movl 40(%esp), %edi
        movl 44(%esp), %ebp
        int $0x80
        popl %ebx
        popl %esi
        popl %edi
        popl %ebp
        ret
        .size __vs_syscall, . - __vs_syscall

        .section .note.GNU-stack, "", @progbits
