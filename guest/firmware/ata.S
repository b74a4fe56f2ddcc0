# The ATA layer under INT 13h: polled PIO on the primary channel
# (ATA/ATAPI-6, INCITS 361-2002: §7 registers, §8.15 IDENTIFY DEVICE, §8.27
# READ SECTORS, §8.62 WRITE SECTORS, §9.5/§9.6 the PIO data-in and data-out
# protocols; OSDev wiki "ATA PIO Mode"). Interrupts from the drive are not
# used: IRQ14 stays masked and reading Status acknowledges INTRQ. Every
# transfer is LBA28, one sector per command.

# Four reads of Alternate Status: the 400 ns a host waits after selecting a
# device or writing a command before Status is valid (ATA-6 §9.1).
ata_delay:
        push    %ax
        push    %dx
        mov     $ATA_CONTROL, %dx
        in      %dx, %al
        in      %dx, %al
        in      %dx, %al
        in      %dx, %al
        pop     %dx
        pop     %ax
        ret

# Poll Status until BSY clears. Returns AL = status; CF on timeout (or a
# floating bus, which reads FFh).
ata_wait_not_busy:
        push    %ecx
        push    %dx
        mov     $ATA_TIMEOUT, %ecx
        mov     $ATA_STATUS, %dx
1:      in      %dx, %al
        cmp     $0xFF, %al
        je      4f
        test    $ATA_BSY, %al
        jz      2f
        dec     %ecx
        jnz     1b
4:      stc
        jmp     3f
2:      clc
3:      pop     %dx
        pop     %ecx
        ret

# Select device BL (0 master, 1 slave) with LBA addressing and bits 24-27
# of EAX.
ata_select:
        push    %eax
        push    %dx
        shr     $24, %eax
        and     $0x0F, %al
        or      $0xE0, %al              # bit 6 LBA, bits 7 and 5 obsolete ones
        test    %bl, %bl
        jz      1f
        or      $0x10, %al              # DEV
1:      mov     $ATA_DEVICE, %dx
        out     %al, %dx
        pop     %dx
        pop     %eax
        jmp     ata_delay

# IDENTIFY DEVICE on device BL. Returns EAX = its LBA28 capacity (words
# 60-61) or CF if there is no ATA device: Status reads 00h for an absent
# device next to a present one and FFh with no device on the channel
# (OSDev "ATA PIO Mode", "IDENTIFY command"); a device that aborts the
# command (ATAPI) or never asks for the data is not a disk either.
ata_identify:
        push    %ecx
        push    %dx
        push    %si
        push    %di
        call    ata_wait_not_busy
        jc      9f
        xor     %eax, %eax
        call    ata_select
        mov     $ATA_STATUS, %dx
        in      %dx, %al
        test    %al, %al
        jz      9f
        cmp     $0xFF, %al
        je      9f
        call    ata_wait_not_busy
        jc      9f
        mov     $ATA_CMD_IDENTIFY, %al
        out     %al, %dx
        call    ata_delay
        call    ata_wait_not_busy
        jc      9f
        test    $ATA_ERR, %al
        jnz     9f
        test    $ATA_DRQ, %al
        jz      9f
        mov     $ATA_DATA, %dx
        xor     %cx, %cx
1:      in      %dx, %ax
        cmp     $60, %cx
        jne     2f
        mov     %ax, %si
2:      cmp     $61, %cx
        jne     3f
        mov     %ax, %di
3:      inc     %cx
        cmp     $256, %cx
        jb      1b
        movzwl  %di, %eax
        shl     $16, %eax
        mov     %si, %ax
        clc
        jmp     8f
9:      stc
8:      pop     %di
        pop     %si
        pop     %dx
        pop     %ecx
        ret

# Transfer CX sectors from LBA EAX on device BL; BH = READ SECTORS or
# WRITE SECTORS; ES:DI = buffer (any alignment; transfers may exceed 64
# KiB: the pointer is normalised and the segment advanced per sector).
# Returns CX = sectors transferred, AH = INT 13h status, CF = AH != 0.
# Clobbers AL and EAX's upper half; keeps the rest.
        .set    AT_LBA, -4
        .set    AT_COUNT, -6
        .set    AT_DONE, -8
ata_transfer:
        push    %bp
        mov     %sp, %bp
        push    %eax                    # AT_LBA: next sector
        push    %cx                     # AT_COUNT
        pushw   $0                      # AT_DONE
        push    %dx
        push    %si
        push    %di
        push    %es
        mov     %di, %ax                # normalise ES:DI: offset 0-15
        shr     $4, %ax
        mov     %es, %dx
        add     %dx, %ax
        mov     %ax, %es
        and     $0x000F, %di
1:      mov     AT_DONE(%bp), %cx
        cmp     AT_COUNT(%bp), %cx
        jae     7f
        mov     AT_LBA(%bp), %eax
        cmp     $0x0FFFFFFF, %eax
        ja      6f
        call    ata_wait_not_busy
        jc      5f
        mov     AT_LBA(%bp), %eax
        call    ata_select
        mov     $ATA_COUNT, %dx
        mov     $1, %al
        out     %al, %dx
        mov     AT_LBA(%bp), %eax
        inc     %dx                     # LBA 0-7
        out     %al, %dx
        inc     %dx                     # LBA 8-15
        mov     %ah, %al
        out     %al, %dx
        inc     %dx                     # LBA 16-23
        shr     $16, %eax
        out     %al, %dx
        mov     $ATA_STATUS, %dx        # command
        mov     %bh, %al
        out     %al, %dx
        call    ata_delay
        call    ata_wait_not_busy       # data-in: the block is read; data-out: DRQ at once
        jc      5f
        test    $ATA_ERR | ATA_DF, %al
        jnz     4f
        test    $ATA_DRQ, %al
        jz      3f
        mov     $ATA_DATA, %dx
        mov     $256, %cx
        cmp     $ATA_CMD_WRITE, %bh
        je      2f
        push    %di
        rep     insw
        pop     %di
        jmp     8f
2:      push    %ds
        push    %es
        pop     %ds
        mov     %di, %si
        rep     outsw
        pop     %ds
        call    ata_wait_not_busy       # the device stores the block
        jc      5f
        test    $ATA_ERR | ATA_DF, %al
        jnz     4f
8:      incl    AT_LBA(%bp)
        incw    AT_DONE(%bp)
        mov     %es, %ax
        add     $0x20, %ax              # 512 bytes further
        mov     %ax, %es
        jmp     1b

3:      mov     $DISK_CONTROLLER, %ah   # neither data nor an error
        jmp     9f
4:      mov     $DISK_WRITE_FAULT, %ah  # DF: the device could not store the data
        test    $ATA_DF, %al
        jnz     9f
        mov     $ATA_ERROR, %dx
        in      %dx, %al
        mov     $DISK_NOT_FOUND, %ah
        test    $ATA_IDNF, %al
        jnz     9f
        mov     $DISK_ECC, %ah
        test    $ATA_UNC, %al
        jnz     9f
        mov     $DISK_CONTROLLER, %ah
        jmp     9f
5:      mov     $DISK_TIMEOUT, %ah
        jmp     9f
6:      mov     $DISK_NOT_FOUND, %ah
        jmp     9f
7:      xor     %ah, %ah
9:      mov     AT_DONE(%bp), %cx
        pop     %es
        pop     %di
        pop     %si
        pop     %dx
        mov     %bp, %sp
        pop     %bp
        test    %ah, %ah
        jz      1f
        stc
        ret
1:      clc
        ret
