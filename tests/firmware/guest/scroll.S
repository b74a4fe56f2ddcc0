# Teletype output past the last row scrolls the screen: 30 numbered lines
# after the BIOS banner leave "line 06" on the top row and "line 29" on
# row 23, the cursor on the empty row 24.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     $'0', %ch               # tens
        mov     $'0', %cl               # ones
1:      mov     $line, %si
        call    tty_string
        mov     %ch, %al
        call    tty
        mov     %cl, %al
        call    tty
        mov     $'\r', %al
        call    tty
        mov     $'\n', %al
        call    tty
        inc     %cl
        cmp     $'9', %cl
        jbe     2f
        mov     $'0', %cl
        inc     %ch
2:      cmp     $'3', %ch
        jne     1b
        mov     $0x03, %ah
        xor     %bh, %bh
        int     $0x10
        PRINT   "cursor "
        mov     %dx, %ax
        call    hex16
        PUTC    '\n'
        EXIT    PASS

tty:    mov     $0x0E, %ah
        int     $0x10
        ret
tty_string:
        lodsb
        test    %al, %al
        jz      1f
        call    tty
        jmp     tty_string
1:      ret

line:   .asciz  "line "

        .include "lib.inc"
        .org    510
        .word   0xAA55
