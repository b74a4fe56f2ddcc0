# INT 10h cursor shape (01h) and display pages (05h): the CRTC registers
# that follow, teletype on the active page, write string with attributes
# in the string (13h, mode 2: the cursor stays), read back (08h).
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        PRINT   "shape "
        mov     $0x01, %ah              # CGA block cursor 0-7 -> scan lines 0-14
        mov     $0x0007, %cx
        int     $0x10
        call    crtc_shape
        mov     $0x01, %ah              # bit 5: cursor off
        mov     $0x2000, %cx
        int     $0x10
        call    crtc_shape
        PRINT   "\npage "
        mov     $0x0501, %ax
        int     $0x10
        mov     $0x0F, %ah
        int     $0x10
        mov     %bh, %al
        call    hex8
        PUTC    ' '
        mov     $0x0C, %al              # CRTC start address: page 1 = cell 800h
        call    crtc_read
        mov     %al, %ah
        mov     $0x0D, %al
        call    crtc_read
        call    hex16
        mov     $text, %si
1:      lodsb
        test    %al, %al
        jz      2f
        mov     $0x0E, %ah
        int     $0x10
        jmp     1b
2:      mov     $0x1302, %ax            # "Hi" with attributes, row 3 of page 1
        mov     $0x0100, %bx
        mov     $2, %cx
        mov     $0x0300, %dx
        mov     $pairs, %bp
        int     $0x10
        mov     $0x03, %ah              # the cursor stayed after "page one"
        int     $0x10
        PRINT   "\ncursor "
        mov     %dx, %ax
        call    hex16
        mov     $0x02, %ah
        mov     $0x0301, %dx
        int     $0x10
        mov     $0x08, %ah
        int     $0x10
        PRINT   "\ncell "
        call    hex16
        PUTC    '\n'
        EXIT    PASS

# "start end " of the CRTC cursor shape (registers 0Ah/0Bh).
crtc_shape:
        mov     $0x0A, %al
        call    crtc_read
        call    hex8
        PUTC    ' '
        mov     $0x0B, %al
        call    crtc_read
        call    hex8
        PUTC    ' '
        ret

# AL = CRTC register AL.
crtc_read:
        push    %dx
        mov     $0x3D4, %dx
        out     %al, %dx
        inc     %dx
        in      %dx, %al
        pop     %dx
        ret

text:   .asciz  "page one"
pairs:  .byte   'H', 0x1F, 'i', 0x2F

        .include "lib.inc"
        .org    510
        .word   0xAA55
