# The built-in demo guest: a tour from real mode to a ring-3 program, the
# path every PC operating system walks at boot. Loaded at 0x7C00 like a boot
# sector and entered in real mode at 0000:7C00. It prints through the
# debug-console port 0xE9 and exercises: LGDT and the switch to protected
# mode (Intel SDM Vol. 3 §9.9.1), an IDT with interrupt gates (§6.10-6.11), a
# TSS for the ring-3 -> ring-0 stack switch (§7.2), a divide error, a #GP from
# CLI at CPL 3 (IOPL-sensitive), and a system call gate at int 0x80 (DPL 3).
# It ends with CLI; HLT, which stops the machine.

        .intel_syntax noprefix
        .set CONSOLE, 0xE9
        .set IDT, 0x1000
        .set TSS, 0x2000
        .set KSTACK, 0x90000
        .set USTACK, 0x80000

        .code16
        .globl _start
_start:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 0x7C00
        mov     si, offset msg_real
        call    print16

        # Fill in the TSS descriptor's base, then load the GDT and set CR0.PE.
        mov     ax, TSS
        mov     word ptr [gdt_tss + 2], ax
        lgdt    [gdt_ptr]
        mov     eax, cr0
        or      eax, 1
        mov     cr0, eax
        ljmp    0x08, offset protected_mode

print16:                                # DS:SI -> NUL-terminated string
        mov     dx, CONSOLE
1:      lodsb
        test    al, al
        jz      2f
        out     dx, al
        jmp     1b
2:      ret

        .code32
protected_mode:
        mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     esp, KSTACK
        mov     esi, offset msg_protected
        call    print

        # IDT: #DE (0) and #GP (13) for the kernel, int 0x80 callable from ring 3.
        mov     ecx, 0
        mov     eax, offset divide_error
        mov     bl, 0x8E                # present, DPL 0, 32-bit interrupt gate
        call    set_gate
        mov     ecx, 13
        mov     eax, offset general_protection
        call    set_gate
        mov     ecx, 0x80
        mov     eax, offset system_call
        mov     bl, 0xEE                # present, DPL 3: INT 0x80 allowed from user mode
        call    set_gate
        lidt    [idt_ptr]

        # The TSS tells the CPU which stack ring 0 uses when an interrupt arrives from ring 3.
        mov     dword ptr [TSS + 4], KSTACK     # ESP0
        mov     dword ptr [TSS + 8], 0x10       # SS0
        mov     word ptr [TSS + 0x66], 0x68     # no I/O bitmap: ring 3 may not use ports
        mov     ax, 0x28
        ltr     ax

        # A divide error: the handler reports it and skips the 2-byte DIV.
        xor     edx, edx
        mov     eax, 7
        xor     ecx, ecx
        div     ecx

        # Drop to ring 3 with IRET: SS, ESP, EFLAGS, CS, EIP of the user program.
        # DS/ES must hold user (DPL 3) selectors first: IRET to ring 3 nulls
        # data segment registers the user may not use (SDM Vol. 2 "IRET").
        mov     ax, 0x23
        mov     ds, ax
        mov     es, ax
        push    0x23
        push    USTACK
        push    0x002                   # EFLAGS: IF=0, IOPL=0
        push    0x1B
        push    offset user_program
        iret

print:                                  # DS:ESI -> NUL-terminated string
        push    edx
        mov     dx, CONSOLE
1:      lodsb
        test    al, al
        jz      2f
        out     dx, al
        jmp     1b
2:      pop     edx
        ret

set_gate:                               # ECX = vector, EAX = handler, BL = type byte
        lea     edi, [IDT + ecx * 8]
        mov     word ptr [edi], ax
        mov     word ptr [edi + 2], 0x08
        mov     byte ptr [edi + 4], 0
        mov     byte ptr [edi + 5], bl
        shr     eax, 16
        mov     word ptr [edi + 6], ax
        ret

divide_error:
        mov     esi, offset msg_divide
        call    print
        add     dword ptr [esp], 2      # resume after the DIV
        iret

general_protection:
        mov     esi, offset msg_gp
        call    print
        add     esp, 4                  # drop the error code
        add     dword ptr [esp], 1      # resume after the 1-byte CLI
        iret

system_call:                            # EAX = 1: write string EBX; EAX = 2: exit
        cmp     eax, 1
        jne     1f
        mov     esi, ebx
        call    print
        iret
1:      cmp     eax, 2
        jne     2f
        mov     esi, offset msg_exit
        call    print
        cli
        hlt
2:      mov     eax, -38                # -ENOSYS
        iret

user_program:                           # runs at CPL 3
        mov     eax, 1
        mov     ebx, offset msg_user
        int     0x80
        cli                             # IOPL-sensitive: #GP at CPL 3
        mov     eax, 1
        mov     ebx, offset msg_back
        int     0x80
        mov     eax, 2
        int     0x80
        jmp     .

msg_real:       .asciz "virtscope demo: real mode at 0000:7C00\n"
msg_protected:  .asciz "protected mode: ring 0, flat 4 GiB segments\n"
msg_divide:     .asciz "#DE: the kernel caught a divide error and skipped the DIV\n"
msg_user:       .asciz "ring 3: hello from a user program via int 0x80\n"
msg_gp:         .asciz "#GP: ring 3 tried CLI, which IOPL 0 forbids\n"
msg_back:       .asciz "ring 3: back after the kernel handled the #GP\n"
msg_exit:       .asciz "exit: the kernel halts the machine\n"

        .p2align 3
gdt:    .quad 0
        .quad 0x00CF9A000000FFFF        # 0x08 code, ring 0
        .quad 0x00CF92000000FFFF        # 0x10 data, ring 0
        .quad 0x00CFFA000000FFFF        # 0x18 code, ring 3
        .quad 0x00CFF2000000FFFF        # 0x20 data, ring 3
gdt_tss:.quad 0x0000890000000067        # 0x28 32-bit TSS (base patched above)
gdt_end:
gdt_ptr:.word gdt_end - gdt - 1
        .long gdt
idt_ptr:.word 256 * 8 - 1
        .long IDT
