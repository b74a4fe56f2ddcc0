# INT 15h memory sizes: every E820h entry ("base length type"), then
# E801h (AX BX CX DX) and AH=88h (AX).
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        xor     %ebx, %ebx
        mov     $16, %si                # at most this many entries
1:      mov     $0xE820, %eax
        mov     $0x534D4150, %edx
        mov     $24, %ecx
        mov     $0x0600, %di
        int     $0x15
        jc      3f
        cmp     $0x534D4150, %eax
        jne     3f
        PRINT   "e820 "
        mov     4(%di), %eax
        call    hex32
        mov     (%di), %eax
        call    hex32
        PUTC    ' '
        mov     12(%di), %eax
        call    hex32
        mov     8(%di), %eax
        call    hex32
        PUTC    ' '
        mov     16(%di), %eax
        call    hex8
        PUTC    ' '
        mov     %cx, %ax
        call    hex8
        PUTC    '\n'
        test    %ebx, %ebx
        jz      2f
        dec     %si
        jnz     1b
2:      PRINT   "e801 "
        mov     $0xE801, %ax
        int     $0x15
        call    hex16
        PUTC    ' '
        mov     %bx, %ax
        call    hex16
        PUTC    ' '
        mov     %cx, %ax
        call    hex16
        PUTC    ' '
        mov     %dx, %ax
        call    hex16
        PRINT   "\n88 "
        mov     $0x88, %ah
        int     $0x15
        call    hex16
        # An unsupported function: CF set, AH = 86h.
        PRINT   "\nc0 "
        mov     $0xC0, %ah
        int     $0x15
        setc    %al
        call    hex8
        PUTC    ' '
        mov     %ah, %al
        call    hex8
        PUTC    '\n'
        EXIT    PASS
3:      PRINT   "e820 failed\n"
        EXIT    PASS

        .include "lib.inc"
        .org    510
        .word   0xAA55
