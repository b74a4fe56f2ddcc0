/* crt0: the process entry point.
 *
 * The kernel starts a new program at _start with the System V i386 psABI
 * entry stack (psABI "Process Initialization", figure 3-31):
 *   [esp]            argc
 *   [esp+4 ...]      argv[0] .. argv[argc-1], then a NULL
 *   after that       envp[0] .. , then a NULL
 *   after that       the auxiliary vector (ignored here)
 * No registers carry anything we rely on, so _start computes argv and envp
 * from esp, calls main(argc, argv, envp) and passes its return value to
 * exit(). EBP is cleared first: the psABI says so, and it ends the chain of
 * frame pointers a debugger (or a stack walk in virtscope) follows. */
        .text
        .globl _start
        .type _start, @function
_start:
        xorl %ebp, %ebp
        movl (%esp), %eax               /* argc */
        leal 4(%esp), %ecx              /* argv */
        leal 8(%esp,%eax,4), %edx       /* envp = &argv[argc + 1] */
        movl %edx, environ
        /* gcc assumes a 16-byte-aligned stack at every call (psABI 2.2.2):
         * align, then 4 bytes of padding and 12 of arguments keep it so. */
        andl $-16, %esp
        subl $4, %esp
        pushl %edx
        pushl %ecx
        pushl %eax
        call main
        movl %eax, (%esp)
        call exit
        hlt                             /* not reached: exit does not return */
        .size _start, . - _start

        .section .note.GNU-stack, "", @progbits
