# Assorted services: INT 16h AH=05h (store a keystroke) read back, INT 1Ah
# set/read of ticks, RTC time and date, INT 13h reset and verify, a short
# INT 15h AH=86h wait, and an E820h call without the "SMAP" signature.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        PRINT   "push "
        mov     $0x05, %ah
        mov     $0x1234, %cx
        int     $0x16
        call    hex8
        PUTC    ' '
        mov     $0x01, %ah
        int     $0x16
        setz    %al
        call    hex8
        PUTC    ' '
        xor     %ah, %ah
        int     $0x16
        call    hex16
        PRINT   "\nticks "
        mov     $0x01, %ah
        mov     $0x0012, %cx
        mov     $0x3456, %dx
        int     $0x1A
        xor     %ah, %ah
        int     $0x1A
        mov     %cx, %ax
        call    hex16
        mov     %dx, %ax
        call    hex16
        PRINT   "\ntime "
        mov     $0x03, %ah
        mov     $0x2359, %cx
        mov     $0x5800, %dx
        int     $0x1A
        mov     $0x02, %ah
        int     $0x1A
        mov     %cx, %ax
        call    hex16
        mov     %dx, %ax
        call    hex16
        PRINT   "\ndate "
        mov     $0x05, %ah
        mov     $0x2030, %cx
        mov     $0x0615, %dx
        int     $0x1A
        mov     $0x04, %ah
        int     $0x1A
        mov     %cx, %ax
        call    hex16
        mov     %dx, %ax
        call    hex16
        PRINT   "\nreset "
        xor     %ah, %ah
        mov     $0x80, %dl
        int     $0x13
        call    result
        PRINT   "\nverify "
        mov     $0x0402, %ax
        mov     $0x0001, %cx
        mov     $0x0080, %dx
        int     $0x13
        call    result
        call    hex8
        PRINT   "\nwait "
        mov     $0x86, %ah
        xor     %cx, %cx
        mov     $1000, %dx
        int     $0x15
        call    result
        PRINT   "\nnosmap "
        mov     $0xE820, %eax
        xor     %edx, %edx
        xor     %ebx, %ebx
        mov     $20, %ecx
        mov     $0x0600, %di
        int     $0x15
        call    result
        PUTC    '\n'
        EXIT    PASS

        .include "lib.inc"
        .include "result.inc"
        .org    510
        .word   0xAA55
