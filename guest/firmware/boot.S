# Bootstrap (IBM PC/AT Technical Reference, "BOOT_STRAP", INT 19h): read
# the first sector of the first hard disk to 0000:7C00 and, if it ends in
# the boot signature 55h AAh (offset 510), jump there with DL = 80h, CS:IP =
# 0000:7C00, DS = ES = SS = 0, SP = 7C00h and interrupts enabled.
# Otherwise INT 18h: on the PC/AT, ROM BASIC; here a message on the screen
# and the debug console, then CLI; HLT for good (the Machine stops as idle).

int19_bootstrap:
        cli
        xor     %ax, %ax
        mov     %ax, %ss
        mov     $STACK_TOP, %sp
        mov     %ax, %ds
        mov     %ax, %es
        sti
        testb   $0x01, BDA_SEG * 16 + BDA_ATA_PRESENT
        jz      int18_no_boot
        mov     $0x0201, %ax            # read 1 sector
        mov     $0x0001, %cx            # cylinder 0, sector 1
        mov     $0x0080, %dx            # head 0, disk 80h
        mov     $BOOT_ADDR, %bx
        int     $0x13
        jc      int18_no_boot
        cmpw    $0xAA55, BOOT_ADDR + 510
        jne     int18_no_boot
        xor     %ax, %ax
        xor     %bx, %bx
        xor     %cx, %cx
        xor     %si, %si
        xor     %di, %di
        xor     %bp, %bp
        mov     $0x0080, %dx
        ljmp    $0, $BOOT_ADDR

int18_no_boot:
        mov     $no_boot_message, %si
        call    print_string
1:      mov     %cs:(%si), %al          # the same text on the debug console
        test    %al, %al
        jz      2f
        cmp     $'\r', %al
        je      3f
        out     %al, $DEBUGCON
3:      inc     %si
        jmp     1b
2:      cli
4:      hlt
        jmp     4b

no_boot_message:
        .asciz  "No bootable disk.\r\n"
