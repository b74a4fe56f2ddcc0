# INT 13h writes on disk 80h, read back: one sector through CHS (AH=03h)
# at LBA 100 and three through an EDD packet (AH=43h) at LBA 200. Each
# written sector holds "WRITTEN" and its LBA; the test also finds them in
# the image file afterwards.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        # Four sectors of data at 0000:1000, each "WRITTEN" + its LBA.
        mov     $0x1000, %di
        mov     $100, %eax
        call    fill
        mov     $200, %eax
        call    fill
        inc     %eax
        call    fill
        inc     %eax
        call    fill
        # CHS for LBA 100: cylinder 0, head 1, sector 100 - 63 + 1 = 38.
        PRINT   "write100 "
        mov     $0x0301, %ax
        mov     $0x0026, %cx
        mov     $0x0180, %dx
        mov     $0x1000, %bx
        int     $0x13
        call    result
        PRINT   "write200 "
        mov     $out_packet, %si
        mov     $0x43, %ah
        mov     $0x80, %dl
        int     $0x13
        call    result
        # Read all four back to 0000:3000 and compare.
        PRINT   "read "
        mov     $0x0201, %ax
        mov     $0x0026, %cx
        mov     $0x0180, %dx
        mov     $0x3000, %bx
        int     $0x13
        call    result
        mov     $in_packet, %si
        mov     $0x42, %ah
        mov     $0x80, %dl
        int     $0x13
        call    result
        mov     $0x1000, %si
        mov     $0x3000, %di
        mov     $4 * 512 / 2, %cx
        repe    cmpsw
        jne     1f
        PRINT   "same\n"
        EXIT    PASS
1:      PRINT   "differ\n"
        EXIT    PASS

# One sector at ES:DI: "WRITTEN", the LBA EAX, then its low byte repeated.
fill:   push    %eax
        mov     $written, %si
        mov     $8, %cx
        rep     movsb
        stosl
        mov     $512 - 12, %cx
        rep     stosb
        pop     %eax
        ret

written:
        .asciz  "WRITTEN"
out_packet:
        .byte   0x10, 0
        .word   3, 0x1200, 0
        .quad   200
in_packet:
        .byte   0x10, 0
        .word   3, 0x3200, 0
        .quad   200

        .include "lib.inc"
        .include "result.inc"
        .org    510
        .word   0xAA55
