# Time: the BDA tick count (INT 1Ah AH=00h) across a one-second INT 15h
# AH=86h wait, and the RTC's time and date (INT 1Ah AH=02h, 04h) after it.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ah, %ah
        int     $0x1A
        mov     %cx, %si                # SI:DI = ticks before
        mov     %dx, %di
        mov     $0x86, %ah
        mov     $0x000F, %cx            # 1 000 000 µs
        mov     $0x4240, %dx
        int     $0x15
        PRINT   "wait "
        setc    %al
        call    hex8
        xor     %ah, %ah
        int     $0x1A
        sub     %di, %dx
        sbb     %si, %cx
        PRINT   "\nticks "
        mov     %cx, %ax
        call    hex16
        mov     %dx, %ax
        call    hex16
        PRINT   "\ntime "
        mov     $0x02, %ah
        int     $0x1A
        mov     %cx, %ax
        call    hex16
        mov     %dx, %ax
        call    hex16
        PRINT   "\ndate "
        mov     $0x04, %ah
        int     $0x1A
        mov     %cx, %ax
        call    hex16
        mov     %dx, %ax
        call    hex16
        PUTC    '\n'
        EXIT    PASS

        .include "lib.inc"
        .org    510
        .word   0xAA55
