# What INT 19h hands a boot sector, and what POST left in the BIOS data
# area. Prints (one line each): the boot drive and CS:IP, IF, then BDA
# fields, INT 11h/12h, and where the MP floating pointer is in the EBDA.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        mov     %dl, %bl                # the boot drive, before anything changes DL
        pushf
        pop     %cx                     # the flags at entry
        call    after_call              # CS:IP of the next instruction
after_call:
        pop     %si
        PRINT   "dl "
        mov     %bl, %al
        call    hex8
        PRINT   "\ncs:ip "
        mov     %cs, %ax
        call    hex16
        PUTC    ':'
        mov     %si, %ax
        sub     $after_call - _start, %ax  # back to _start
        call    hex16
        PRINT   "\nif "
        mov     %cx, %ax
        shr     $9, %ax
        and     $1, %al
        call    hex8
        xor     %ax, %ax
        mov     %ax, %ds
        PRINT   "\nebda "
        mov     0x40E, %ax
        call    hex16
        PRINT   "\nbase "
        mov     0x413, %ax
        call    hex16
        PRINT   "\nint12 "
        int     $0x12
        call    hex16
        PRINT   "\nint11 "
        int     $0x11
        call    hex16
        PRINT   "\ndisks "
        mov     0x475, %al
        call    hex8
        PRINT   "\nvideo "
        mov     0x449, %al
        call    hex8
        PUTC    ' '
        mov     0x44A, %ax
        call    hex16
        PUTC    ' '
        mov     0x463, %ax
        call    hex16
        PUTC    ' '
        mov     0x484, %al
        call    hex8
        PRINT   "\nkbd "
        mov     0x41A, %ax
        call    hex16
        PUTC    ' '
        mov     0x41C, %ax
        call    hex16
        PUTC    ' '
        mov     0x480, %ax
        call    hex16
        PUTC    ' '
        mov     0x482, %ax
        call    hex16
        PRINT   "\ncom1 "
        mov     0x400, %ax
        call    hex16
        # The MP floating pointer: "_MP_" on a 16-byte boundary in the EBDA.
        PRINT   "\nmp "
        mov     $0x9FC0, %ax
        mov     %ax, %es
        xor     %di, %di
2:      cmpl    $0x5F504D5F, %es:(%di)
        je      3f
        add     $16, %di
        cmp     $0x400, %di
        jb      2b
        PRINT   "none"
        jmp     4f
3:      mov     %di, %ax
        call    hex16
        # The vectors the BIOS owns point into its ROM segment.
4:      PRINT   "\nvectors "
        mov     $vectors, %si
5:      movzbw  %cs:(%si), %bx
        test    %bx, %bx
        jz      6f
        shl     $2, %bx
        mov     2(%bx), %ax
        call    hex16
        PUTC    ' '
        inc     %si
        jmp     5b
6:      PUTC    '\n'
        EXIT    PASS

vectors:
        .byte   0x08, 0x09, 0x10, 0x13, 0x15, 0x16, 0x19, 0x1A, 0

        .include "lib.inc"
        .org    510
        .word   0xAA55
