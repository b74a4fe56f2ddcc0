# INT 13h drive information for disks 80h and 81h: AH=08h geometry, AH=15h
# type and size, AH=41h extensions, AH=48h extended parameters; then the
# answers for a missing disk (82h) and the absent diskette drive (00h).
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     $0x80, %dl
        call    describe
        mov     $0x81, %dl
        call    describe
        PRINT   "82 type "
        mov     $0x15, %ah
        mov     $0x82, %dl
        int     $0x13
        call    result
        PUTC    '\n'
        PRINT   "00 read "
        mov     $0x0201, %ax
        mov     $0x0001, %cx
        xor     %dx, %dx
        mov     $0x8000, %bx
        int     $0x13
        call    result
        PUTC    '\n'
        EXIT    PASS

# Disk DL: "80 geom CX DX / 80 type AH CX DX / 80 ext BX AH CX / 80 edd ...".
describe:
        mov     %dl, %al
        call    hex8
        PRINT   " geom "
        mov     $0x08, %ah
        push    %dx
        int     $0x13
        call    result
        mov     %cx, %ax
        call    hex16
        PUTC    ' '
        mov     %dx, %ax
        call    hex16
        pop     %dx
        PUTC    '\n'

        mov     %dl, %al
        call    hex8
        PRINT   " type "
        mov     $0x15, %ah
        push    %dx
        int     $0x13
        call    result
        mov     %cx, %ax
        call    hex16
        mov     %dx, %ax
        call    hex16
        pop     %dx
        PUTC    '\n'

        mov     %dl, %al
        call    hex8
        PRINT   " ext "
        mov     $0x41, %ah
        mov     $0x55AA, %bx
        int     $0x13
        call    result
        mov     %bx, %ax
        call    hex16
        PUTC    ' '
        mov     %cx, %ax
        call    hex16
        PUTC    '\n'

        mov     %dl, %al
        call    hex8
        PRINT   " edd "
        mov     $0x48, %ah
        mov     $0x0600, %si
        movw    $0x1E, (%si)
        int     $0x13
        call    result
        mov     (%si), %ax              # size
        call    hex16
        PUTC    ' '
        mov     2(%si), %ax             # flags
        call    hex16
        PUTC    ' '
        mov     4(%si), %eax            # cylinders
        call    hex32
        PUTC    ' '
        mov     8(%si), %eax            # heads
        call    hex32
        PUTC    ' '
        mov     12(%si), %eax           # sectors per track
        call    hex32
        PUTC    ' '
        mov     20(%si), %eax           # total sectors, high and low
        call    hex32
        mov     16(%si), %eax
        call    hex32
        PUTC    ' '
        mov     24(%si), %ax            # bytes per sector
        call    hex16
        PUTC    ' '
        mov     26(%si), %eax           # EDD configuration parameters pointer
        call    hex32
        PUTC    '\n'
        ret

        .include "lib.inc"
        .include "result.inc"
        .org    510
        .word   0xAA55
