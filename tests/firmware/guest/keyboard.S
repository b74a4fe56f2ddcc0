# INT 16h: AH=01h with nothing typed (ZF set), then six keystrokes read
# with AH=00h (AX each: scan code and ASCII), the last one peeked with
# AH=11h first, and the shift flags (AH=02h) at the end.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        PRINT   "peek "
        mov     $0x01, %ah
        int     $0x16
        setz    %al
        call    hex8
        PRINT   "\nkeys"
        mov     $5, %cx
1:      PUTC    ' '
        xor     %ah, %ah
        int     $0x16
        call    hex16
        loop    1b
        PRINT   "\nwait "               # AH=11h until the sixth key is there
2:      mov     $0x11, %ah
        int     $0x16
        jz      2b
        call    hex16
        PUTC    ' '
        mov     $0x10, %ah
        int     $0x16
        call    hex16
        PRINT   "\nflags "
        mov     $0x02, %ah
        int     $0x16
        call    hex8
        PUTC    '\n'
        EXIT    PASS

        .include "lib.inc"
        .org    510
        .word   0xAA55
