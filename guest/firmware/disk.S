# INT 13h for the hard disks on the ATA primary channel (ata.S) (IBM PC/AT
# Technical Reference, "Fixed Disk BIOS"; RBIL INT 13h; Phoenix "BIOS
# Enhanced Disk Drive Specification" v1.1 for functions 41h-48h).
#
# Disk 0x80 is the master, 0x81 the slave (whether or not the master
# exists). Every transfer uses LBA28 addressing, one sector per command;
# CHS requests are translated through the geometry INT 13h AH=08h reports:
# 16 heads, 63 sectors per track, cylinders = sectors / 1008 capped at 1024.
# The drive's own CHS translation is never used, so a guest driver that
# changes it (INITIALIZE DEVICE PARAMETERS) does not disturb the BIOS.
#
# Implemented: AH = 00h reset, 01h last status, 02h read, 03h write, 04h
# verify, 08h parameters, 09h/0Ch/0Dh/10h/11h/14h (no-ops that succeed),
# 15h type, 41h extensions check, 42h extended read, 43h extended write,
# 44h extended verify, 47h extended seek, 48h extended parameters. No
# diskette drives: DL < 80h fails with "bad command" (AH=01h), as does any
# absent disk; AH=15h reports them as "no drive" (AH=00h, CF clear).

        .set    GEOM_HEADS, 16
        .set    GEOM_SPT, 63
        .set    GEOM_MAX_CYL, 1024      # INT 13h's 10-bit cylinder number

int13_disk:
        sti
        ENTER_FRAME
        cld
        DS_BDA
        cmp     $0x01, %ah
        je      disk_last_status
        cmp     $0x15, %ah
        je      disk_type
        cmp     $0x80, %dl
        jb      disk_bad_command        # no diskette drives
        cmp     $0x81, %dl
        ja      disk_bad_command
        mov     %dl, %bl
        and     $1, %bl                 # BL = ATA device 0/1 from here on
        mov     %bl, %cl
        mov     $1, %al
        shl     %cl, %al
        test    %al, BDA_ATA_PRESENT
        jz      disk_bad_command
        mov     F_CX(%bp), %cx          # restore the inputs used above
        mov     F_AX(%bp), %ax
        cmp     $0x15, %ah
        ja      1f
        movzbw  %ah, %di
        shl     %di
        jmp     *%cs:disk_functions(%di)
1:      cmp     $0x41, %ah
        je      disk_ext_check
        cmp     $0x42, %ah
        je      disk_ext_read
        cmp     $0x43, %ah
        je      disk_ext_write
        cmp     $0x44, %ah
        je      disk_ok
        cmp     $0x47, %ah
        je      disk_ok
        cmp     $0x48, %ah
        je      disk_ext_params
        jmp     disk_bad_command

disk_functions:
        .word   disk_reset, disk_last_status, disk_read, disk_write             # 00-03
        .word   disk_verify, disk_bad_command, disk_bad_command, disk_bad_command # 04-07
        .word   disk_parameters, disk_ok, disk_bad_command, disk_bad_command     # 08-0B
        .word   disk_ok, disk_reset, disk_bad_command, disk_bad_command          # 0C-0F
        .word   disk_ok, disk_ok, disk_bad_command, disk_bad_command             # 10-13
        .word   disk_ok, disk_type                                               # 14-15

# Exits: AH = status, also kept at 40:74 for AH=01h; CF = status != 0.
disk_ok:
        xor     %al, %al
disk_status_exit:
        mov     %al, F_AH(%bp)
        mov     %al, BDA_HD_STATUS
        test    %al, %al
        jnz     1f
        CLEAR_CF
        LEAVE_FRAME
1:      SET_CF
        LEAVE_FRAME
disk_bad_command:
        mov     $DISK_BAD_COMMAND, %al
        jmp     disk_status_exit

# AH=00h/0Dh: software reset of the channel (ATA-6 §9.2: SRST set, then
# cleared; both devices come back ready).
disk_reset:
        mov     $ATA_CONTROL, %dx
        mov     $0x04, %al
        out     %al, %dx
        call    ata_delay
        xor     %al, %al
        out     %al, %dx
        call    ata_delay
        call    ata_wait_not_busy
        mov     $DISK_TIMEOUT, %al
        jc      disk_status_exit
        jmp     disk_ok

# AH=01h: AH = AL = the last status.
disk_last_status:
        mov     BDA_HD_STATUS, %al
        mov     %al, F_AL(%bp)
        jmp     disk_status_exit

# AH=02h/03h: AL = count, CH = cylinder bits 0-7, CL = sector (bits 0-5)
# and cylinder bits 8-9 (bits 6-7), DH = head, ES:BX = buffer. Returns AL =
# sectors transferred.
disk_read:
        mov     $ATA_CMD_READ, %bh
        jmp     1f
disk_write:
        mov     $ATA_CMD_WRITE, %bh
1:      call    chs_to_lba
        jc      disk_bad_command
        movzbw  F_AL(%bp), %cx
        mov     F_BX(%bp), %di
        call    ata_transfer
        mov     %cl, F_AL(%bp)
        mov     %ah, %al
        jmp     disk_status_exit

# AH=04h: verify: the address is checked, nothing is read.
disk_verify:
        call    chs_to_lba
        jc      disk_bad_command
        jmp     disk_ok

# CHS registers of AH=02h-04h (and AL = count) -> EAX = LBA; CF for a
# sector 0, a head over 15 or a count of 0. Clobbers ESI.
chs_to_lba:
        test    %al, %al
        jz      1f
        test    $0x3F, %cl
        jz      1f
        cmp     $GEOM_HEADS - 1, %dh
        ja      1f
        movzbl  %cl, %eax               # cylinder = CL bits 6-7 : CH
        and     $0xC0, %al
        shl     $2, %eax
        mov     %ch, %al
        shl     $4, %eax                # (cylinder * 16 + head) * 63 + sector - 1
        movzbl  %dh, %esi
        add     %esi, %eax
        imul    $GEOM_SPT, %eax, %eax
        movzbl  %cl, %esi
        and     $0x3F, %esi
        dec     %esi
        add     %esi, %eax
        clc
        ret
1:      stc
        ret

# AH=08h: CH/CL = last cylinder and sectors per track, DH = last head, DL
# = number of disks; AX = 0.
disk_parameters:
        call    disk_bios_cylinders
        jc      disk_controller_error
        dec     %ax                     # last cylinder
        mov     %al, F_CH(%bp)
        shl     $6, %ah
        or      $GEOM_SPT, %ah
        mov     %ah, F_CL(%bp)
        movb    $GEOM_HEADS - 1, F_DH(%bp)
        mov     BDA_HD_COUNT, %al
        mov     %al, F_DL(%bp)
        movb    $0, F_AL(%bp)
        jmp     disk_ok

disk_controller_error:
        mov     $DISK_CONTROLLER, %al
        jmp     disk_status_exit

# AH=15h: AH = 03h (fixed disk) and CX:DX = sectors addressable through
# the CHS geometry, or AH = 00h for no drive; CF clear either way.
disk_type:
        cmp     $0x80, %dl
        jb      1f
        cmp     $0x81, %dl
        ja      1f
        mov     %dl, %bl
        and     $1, %bl
        mov     %bl, %cl
        mov     $1, %al
        shl     %cl, %al
        test    %al, BDA_ATA_PRESENT
        jz      1f
        call    disk_bios_cylinders
        jc      1f
        movzwl  %ax, %eax
        imul    $GEOM_HEADS * GEOM_SPT, %eax, %eax
        mov     %ax, F_DX(%bp)
        shr     $16, %eax
        mov     %ax, F_CX(%bp)
        movb    $0x03, F_AH(%bp)
        jmp     2f
1:      movb    $0x00, F_AH(%bp)
2:      movb    $DISK_OK, BDA_HD_STATUS
        CLEAR_CF
        LEAVE_FRAME

# BL = device -> AX = cylinders of the BIOS geometry (1 to 1024), EAX's
# upper half 0; CF if IDENTIFY fails.
disk_bios_cylinders:
        call    ata_identify
        jc      2f
        xor     %edx, %edx
        mov     $GEOM_HEADS * GEOM_SPT, %ecx
        div     %ecx
        cmp     $GEOM_MAX_CYL, %eax
        jbe     1f
        mov     $GEOM_MAX_CYL, %eax
1:      test    %eax, %eax
        jnz     2f
        inc     %eax                    # a disk under 504 KiB: one partial cylinder
2:      ret

# AH=41h: BX = 55AAh. Returns BX = AA55h, AH = 21h (EDD 1.1), CX bit 0:
# the extended disk access functions 42h-44h, 47h, 48h.
disk_ext_check:
        cmpw    $0x55AA, F_BX(%bp)
        jne     disk_bad_command
        movw    $0xAA55, F_BX(%bp)
        movw    $0x0001, F_CX(%bp)
        movb    $0x21, %al
        mov     %al, F_AH(%bp)
        movb    $DISK_OK, BDA_HD_STATUS
        CLEAR_CF
        LEAVE_FRAME

# AH=42h/43h: DS:SI = disk address packet (EDD 1.1 §"Device Address
# Packet"): byte 0 size (>= 10h), word 2 block count, dword 4 buffer
# (offset, segment), qword 8 starting LBA. The count word is updated with
# the sectors transferred. The EDD-3.0 flat 64-bit buffer (segment:offset
# FFFF:FFFF) is not supported.
disk_ext_read:
        mov     $ATA_CMD_READ, %bh
        jmp     1f
disk_ext_write:
        mov     $ATA_CMD_WRITE, %bh
1:      mov     F_DS(%bp), %ds
        cmpb    $0x10, (%si)
        jb      3f
        mov     2(%si), %cx
        mov     4(%si), %di
        mov     6(%si), %es
        mov     8(%si), %eax
        cmpl    $0, 12(%si)
        jne     4f
        mov     %es, %dx
        and     %di, %dx
        cmp     $0xFFFF, %dx
        je      3f
        call    ata_transfer
        mov     %cx, 2(%si)
        DS_BDA
        mov     %ah, %al
        jmp     disk_status_exit
3:      DS_BDA
        jmp     disk_bad_command
4:      movw    $0, 2(%si)              # beyond LBA28: nothing transferred
        DS_BDA
        mov     $DISK_NOT_FOUND, %al
        jmp     disk_status_exit

# AH=48h: DS:SI = result buffer, word 0 = its size (>= 1Ah). Fills the EDD
# 1.1 drive parameters (size 1Ah) and, with room, the EDD 2.0 pointer to
# device parameters (FFFF:FFFF: none; size 1Eh). Geometry: the drive's
# default 16 x 63 translation, cylinders up to 16383 (flag bit 1 only when
# that covers the whole disk).
disk_ext_params:
        push    %si
        call    ata_identify
        pop     %si
        jc      disk_controller_error
        mov     F_DS(%bp), %ds
        mov     (%si), %cx
        cmp     $0x1A, %cx
        jb      3f
        movw    $0x1A, (%si)
        movw    $0x0002, 2(%si)         # CHS information valid
        mov     %eax, 16(%si)           # total sectors, low
        movl    $0, 20(%si)
        movw    $512, 24(%si)           # bytes per sector
        movl    $GEOM_HEADS, 8(%si)
        movl    $GEOM_SPT, 12(%si)
        xor     %edx, %edx
        mov     $GEOM_HEADS * GEOM_SPT, %ebx
        div     %ebx
        cmp     $16383, %eax
        jbe     1f
        mov     $16383, %eax
        movw    $0, 2(%si)              # the geometry does not cover the disk
1:      mov     %eax, 4(%si)
        cmp     $0x1E, %cx
        jb      2f
        movw    $0x1E, (%si)
        movl    $0xFFFFFFFF, 26(%si)
2:      DS_BDA
        jmp     disk_ok
3:      DS_BDA
        jmp     disk_bad_command
