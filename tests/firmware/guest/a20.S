# The A20 gate through INT 15h AX=2400h-2403h, seen by writing above 1 MiB
# and reading below, and AH=87h block moves to 2 MiB and back.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     $0xFFFF, %ax
        mov     %ax, %es                # ES:0610h = 0x100600
        movw    $0x1111, 0x600
        movw    $0x2222, %es:0x610
        PRINT   "on "
        call    status
        mov     0x600, %ax              # A20 on: separate memory
        call    hex16
        PRINT   "\noff "
        mov     $0x2400, %ax
        int     $0x15
        call    status
        movw    $0x3333, %es:0x610      # wraps to 0x600
        mov     0x600, %ax
        call    hex16
        PRINT   "\nagain "
        mov     $0x2401, %ax
        int     $0x15
        call    status
        mov     %es:0x610, %ax
        call    hex16
        PRINT   "\nsupport "
        mov     $0x2403, %ax
        int     $0x15
        mov     %bx, %ax
        call    hex16

        # Block move: this sector (0x7C00) to 0x200000, then back to 0x9000.
        PRINT   "\nmove "
        xor     %ax, %ax
        mov     %ax, %es
        movl    $0x00007C00, gdt + 0x12 # source base 0-23 (and the access byte, next)
        movb    $0x93, gdt + 0x15
        movl    $0x00200000, gdt + 0x1A # destination
        movb    $0x93, gdt + 0x1D
        mov     $gdt, %si
        mov     $0x87, %ah
        mov     $256, %cx
        int     $0x15
        call    result
        movl    $0x00200000, gdt + 0x12
        movb    $0x93, gdt + 0x15
        movl    $0x00009000, gdt + 0x1A
        movb    $0x93, gdt + 0x1D
        mov     $gdt, %si
        mov     $0x87, %ah
        mov     $256, %cx
        int     $0x15
        call    result
        mov     $0x7C00, %si            # the code before the GDT (which changed)
        mov     $0x9000, %di
        mov     $(gdt - _start) / 2, %cx
        repe    cmpsw
        jne     1f
        PRINT   "same\n"
        EXIT    PASS
1:      PRINT   "differ\n"
        EXIT    PASS

# "CF AH " of INT 15h AX=2402h: AL = 1 when A20 is on.
status: push    %ax
        mov     $0x2402, %ax
        int     $0x15
        call    result
        call    hex8
        PUTC    ' '
        pop     %ax
        ret

        .include "lib.inc"
        .include "result.inc"

# The AH=87h GDT: 6 descriptors; the BIOS fills 08h, 20h and 28h. 10h and
# 18h: 64 KiB data segments (limit FFFFh), bases set above.
        .balign 8
gdt:    .quad   0, 0
        .word   0xFFFF, 0, 0, 0
        .word   0xFFFF, 0, 0, 0
        .quad   0, 0

        .org    510
        .word   0xAA55
