# INT 13h reads from disk 80h, checked against the test image: sector n
# (n >= 1) holds the dword n followed by bytes (n + i) mod 256 at offsets
# i = 4..511. Reads through CHS (AH=02h) across sectors, heads and a
# cylinder, through an EDD packet (AH=42h) into an unaligned buffer, and
# three that must fail: past the end of the disk, sector 0, and a diskette.
        .code16
        .include "macros.inc"
        .text
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        # CHS 0/0/2, 3 sectors = LBA 1-3 at 1000:0000.
        PRINT   "chs3 "
        mov     $0x1000, %ax
        mov     %ax, %es
        xor     %bx, %bx
        mov     $0x0203, %ax
        mov     $0x0002, %cx
        mov     $0x0080, %dx
        int     $0x13
        call    result
        mov     $1, %eax
        mov     $3, %cx
        call    check_sectors
        # CHS 1/2/5 = LBA (1 * 16 + 2) * 63 + 4 = 1138.
        PRINT   "chs1138 "
        xor     %bx, %bx
        mov     $0x0201, %ax
        mov     $0x0105, %cx
        mov     $0x0280, %dx
        int     $0x13
        call    result
        mov     $1138, %eax
        mov     $1, %cx
        call    check_sectors
        # EDD: 4 sectors from LBA 60 (over a head boundary) to 2000:0003.
        PRINT   "lba60 "
        mov     $packet, %si
        mov     $0x42, %ah
        mov     $0x80, %dl
        int     $0x13
        call    result
        mov     packet + 2, %ax         # sectors transferred
        call    hex8
        PUTC    ' '
        mov     $0x2000, %ax
        mov     %ax, %es
        mov     $3, %bx
        mov     $60, %eax
        mov     $4, %cx
        call    check_sectors
        # Past the end of the 4096-sector disk: sector not found (04h).
        PRINT   "past "
        movl    $4095, packet + 8
        mov     $packet, %si
        mov     $0x42, %ah
        mov     $0x80, %dl
        int     $0x13
        call    result
        mov     packet + 2, %ax
        call    hex8
        PUTC    '\n'
        PRINT   "status "
        mov     $0x01, %ah
        mov     $0x80, %dl
        int     $0x13
        call    result
        PUTC    '\n'
        # CHS sector 0 does not exist: bad command (01h).
        PRINT   "sector0 "
        mov     $0x0201, %ax
        mov     $0x0000, %cx
        mov     $0x0080, %dx
        int     $0x13
        call    result
        PUTC    '\n'
        EXIT    PASS

# CX sectors at ES:BX, the first one numbered EAX: print "ok\n" or "bad N\n".
check_sectors:
1:      cmp     %eax, %es:(%bx)
        jne     4f
        mov     $4, %si
2:      mov     %si, %dx
        add     %al, %dl
        cmp     %dl, %es:(%bx, %si)
        jne     4f
        inc     %si
        cmp     $512, %si
        jb      2b
        inc     %eax
        mov     %es, %dx                # next sector: 512 bytes on
        add     $0x20, %dx
        mov     %dx, %es
        loop    1b
        PRINT   "ok\n"
        ret
4:      PRINT   "bad "
        call    hex32
        PUTC    '\n'
        ret

# "CF AH ".
packet: .byte   0x10, 0
        .word   4                       # sectors
        .word   0x0003, 0x2000          # buffer offset, segment
        .quad   60                      # LBA

        .include "lib.inc"
        .include "result.inc"
        .org    510
        .word   0xAA55
