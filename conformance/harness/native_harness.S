/* The i386 tracee of the native lockstep oracle (conformance/src/native_oracle.cpp):
   a static, libc-free Linux i386 program (i386 System V ABI, int $0x80 syscalls, syscall(2)). */

/* The tracer never lets this code run on its own. After execve the tracee
   stops (PTRACE_TRACEME), and the tracer only ever resumes it at
   one of the two gates below, or at the guest code it single-steps. The
   tracer finds the gates from the entry point (where the tracee stands after
   execve): syscall gate = entry + 16, popf gate = entry + 24 (kSyscallGate and
   kPopfGate in native_oracle.cpp), so keep this layout fixed. The program is
   linked far from where streams put their code (ld -Ttext-segment, see
   conformance/native.cmake) and uses no memory of its own. */

        .section .text
        .globl  _start
        .type   _start, @function
_start:
        /* Run by hand, without a tracer: exit(2) says "needs the oracle". */
        movl    $1, %eax                /* __NR_exit */
        movl    $2, %ebx
        int     $0x80
        hlt                             /* not reached */
        .p2align 4, 0xcc                /* pad with int3 up to entry + 16 */

        .globl  vs_syscall_gate
vs_syscall_gate:
        int     $0x80                   /* the tracer's syscall, EAX..EBP set by it */
        int3                            /* report the result: SIGTRAP stop */
        jmp     vs_syscall_gate
        .p2align 3, 0xcc                /* entry + 24 */

        /* Sets EFLAGS bits ptrace cannot (ID): EAX = the new EFLAGS, ESP = the
           kernel-made initial stack of this process. */
        .globl  vs_popf_gate
vs_popf_gate:
        pushl   %eax
        popfl
        int3
        jmp     vs_popf_gate

        .section .note.GNU-stack, "", @progbits
