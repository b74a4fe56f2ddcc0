# INT 10h text output: teletype (0Eh) with CR/LF/BS, the cursor (02h/03h)
# against the CRTC's hardware cursor, write string (13h), write character
# and attribute (09h), read it back (08h), get mode (0Fh) and scrolling a
# window (06h/07h). The test reads the screen; the debug console gets the
# values read back.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     $hello, %si
        call    tty_string
        # Cursor after "Hello, BIOS\r\n": row 2, column 0, and the CRTC agrees.
        mov     $0x03, %ah
        xor     %bh, %bh
        int     $0x10
        PRINT   "cursor "
        mov     %dx, %ax
        call    hex16
        PUTC    ' '
        call    crtc_cursor
        call    hex16
        # "XYZ" at row 5, column 10 in yellow on blue, cursor moved after it.
        mov     $0x1301, %ax
        mov     $0x001E, %bx
        mov     $3, %cx
        mov     $0x050A, %dx
        mov     $xyz, %bp
        int     $0x10
        # Five '*' in white on red at the cursor (row 5, column 13).
        mov     $0x092A, %ax
        mov     $0x004F, %bx
        mov     $5, %cx
        int     $0x10
        mov     $0x08, %ah              # read back: '*' in 4Fh
        int     $0x10
        PRINT   "\ncell "
        call    hex16
        PRINT   "\nhw "
        call    crtc_cursor
        call    hex16
        # Row 7: "A", backspace, "B" leaves "B".
        mov     $0x02, %ah
        mov     $0x0700, %dx
        int     $0x10
        mov     $ab, %si
        call    tty_string
        # Rows 10-12 hold "one", "two", "three"; scrolling rows 10-12 up by
        # one leaves "two", "three", "" and down by two then gives "", "",
        # "two".
        mov     $0x02, %ah
        mov     $0x0A00, %dx
        int     $0x10
        mov     $words, %si
        call    tty_string
        mov     $0x0601, %ax
        mov     $0x07, %bh
        mov     $0x0A00, %cx
        mov     $0x0C4F, %dx
        int     $0x10
        mov     $0x0702, %ax
        int     $0x10
        mov     $0x0F, %ah
        int     $0x10
        PRINT   "\nmode "
        call    hex16
        PUTC    ' '
        mov     %bh, %al
        call    hex8
        PUTC    '\n'
        EXIT    PASS

# DS:SI -> teletype.
tty_string:
        lodsb
        test    %al, %al
        jz      1f
        mov     $0x0E, %ah
        int     $0x10
        jmp     tty_string
1:      ret

# AX = the CRTC cursor location (registers 0Eh/0Fh).
crtc_cursor:
        mov     $0x3D4, %dx
        mov     $0x0E, %al
        out     %al, %dx
        inc     %dx
        in      %dx, %al
        mov     %al, %ah
        dec     %dx
        mov     $0x0F, %al
        out     %al, %dx
        inc     %dx
        in      %dx, %al
        ret

hello:  .asciz  "Hello, BIOS\r\n"
xyz:    .ascii  "XYZ"
ab:     .asciz  "A\bB"
words:  .asciz  "one\r\ntwo\r\nthree"

        .include "lib.inc"
        .org    510
        .word   0xAA55
