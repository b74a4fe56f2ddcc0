# Power-on self test: bring the PC/AT's devices into the state DOS-era
# software and boot loaders expect, then boot through INT 19h. The order
# follows the IBM PC/AT Technical Reference's POST: stack, interrupt
# vectors, BIOS data area, interrupt controllers, timer, RTC, serial ports,
# video, keyboard, disks, bootstrap.

post:
        cli
        cld
        xor     %ax, %ax
        mov     %ax, %ss
        mov     $STACK_TOP, %sp
        mov     %ax, %ds
        mov     %ax, %es

        call    enable_a20
        call    init_ivt
        call    init_bda
        call    init_pic
        call    init_lapic
        call    init_pit
        call    init_cmos
        call    init_serial_ports
        call    init_video
        call    init_keyboard
        call    init_disks
        call    init_tick_count
        sti
        int     $0x19                   # bootstrap loader (boot.S); does not return

# A20: QEMU's SeaBIOS hands over with A20 enabled, and so does virtscope:
# port 0x92 bit 1 (PS/2 system control port A). Bit 0 is the fast reset
# line and must be written as 0.
enable_a20:
        in      $SYSCTL_A, %al
        or      $0x02, %al
        and     $0xFE, %al
        out     %al, $SYSCTL_A
        ret

# The interrupt vector table at 0000:0000: all 256 vectors to an IRET, the
# hardware interrupt vectors to handlers that acknowledge the 8259, then
# the BIOS services from ivt_table.
init_ivt:
        xor     %ax, %ax
        mov     %ax, %es
        xor     %di, %di
        mov     $256, %cx
1:      movw    $default_iret, %ax
        stosw
        movw    $0xF000, %ax
        stosw
        loop    1b
        # IRQ 0-7 (vectors 0x08-0x0F) and IRQ 8-15 (0x70-0x77).
        mov     $0x08 * 4, %di
        mov     $8, %cx
1:      movw    $irq_master_default, %es:(%di)
        add     $4, %di
        loop    1b
        mov     $0x70 * 4, %di
        mov     $8, %cx
1:      movw    $irq_slave_default, %es:(%di)
        add     $4, %di
        loop    1b
        # The services: (vector, handler offset) pairs.
        mov     $ivt_table, %si
1:      movzbw  %cs:(%si), %di
        cmp     $0xFF, %di
        je      2f
        shl     $2, %di
        mov     %cs:1(%si), %ax
        mov     %ax, %es:(%di)
        add     $3, %si
        jmp     1b
        # Data pointers, not code (RBIL INT 1Dh, 1Fh, 41h, 43h, 46h): no
        # tables for them, so null; INT 1Eh gets the diskette parameter table.
2:      xor     %ax, %ax
        mov     %ax, %es:0x1D * 4
        mov     %ax, %es:0x1D * 4 + 2
        mov     %ax, %es:0x1F * 4
        mov     %ax, %es:0x1F * 4 + 2
        mov     %ax, %es:0x41 * 4
        mov     %ax, %es:0x41 * 4 + 2
        mov     %ax, %es:0x43 * 4
        mov     %ax, %es:0x43 * 4 + 2
        mov     %ax, %es:0x46 * 4
        mov     %ax, %es:0x46 * 4 + 2
        movw    $diskette_parameters, %es:0x1E * 4
        ret

ivt_table:
        .byte   0x08
        .word   int08_timer
        .byte   0x09
        .word   int09_keyboard
        .byte   0x10
        .word   int10_video
        .byte   0x11
        .word   int11_equipment
        .byte   0x12
        .word   int12_memory_size
        .byte   0x13
        .word   int13_disk
        .byte   0x15
        .word   int15_system
        .byte   0x16
        .word   int16_keyboard
        .byte   0x18
        .word   int18_no_boot
        .byte   0x19
        .word   int19_bootstrap
        .byte   0x1A
        .word   int1a_clock
        .byte   0x70
        .word   int70_rtc
        .byte   0x76
        .word   int76_ata
        .byte   0xFF

# Diskette parameter table (IBM PC/AT Technical Reference; RBIL INT 1Eh,
# "Table 01264"), for a 1.44 MB drive. virtscope has no diskette drives;
# the table exists because DOS copies it.
diskette_parameters:
        .byte   0xAF, 0x02, 0x25, 0x02, 18, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08

# The BIOS data area 0x400-0x4FF. The EBDA (0x9FC00-0x9FFFF) is left alone:
# the Machine has already written the MP tables there.
init_bda:
        DS_BDA
        push    %ds
        pop     %es
        xor     %di, %di
        xor     %ax, %ax
        mov     $0x80, %cx
        rep     stosw
        movw    $COM1, BDA_COM_PORTS
        movw    $COM2, BDA_COM_PORTS + 2
        movw    $0x0101, BDA_COM_TIMEOUT
        movw    $EBDA_SEG, BDA_EBDA_SEG
        # Equipment word (RBIL INT 11h): bits 4-5 = 10b, 80x25 colour;
        # bits 9-11 = 2 serial ports; no diskettes (bit 0), no x87 (bit 1).
        movw    $0x0420, BDA_EQUIPMENT
        movw    $BASE_MEMORY_KIB, BDA_MEMORY_KIB
        movw    $BDA_KB_BUFFER, BDA_KB_HEAD
        movw    $BDA_KB_BUFFER, BDA_KB_TAIL
        movw    $BDA_KB_BUFFER, BDA_KB_START
        movw    $BDA_KB_BUFFER + 32, BDA_KB_END
        movb    $0x10, BDA_KB_FLAGS3    # enhanced (101/102-key) keyboard
        ret

# Two 8259As in cascade (8259A datasheet, "Initialization Command Words";
# IBM PC/AT Technical Reference, "Interrupt Controllers"): edge triggered,
# master vectors 0x08-0x0F, slave 0x70-0x77 on the master's IR2, 8086 mode.
# Unmasked: IRQ0 (timer), IRQ1 (keyboard), IRQ2 (cascade). The disk code
# polls, so IRQ14 stays masked (its handler exists for guests that unmask it).
init_pic:
        mov     $0x11, %al              # ICW1: edge, cascade, ICW4 follows
        out     %al, $PIC1_CMD
        out     %al, $PIC2_CMD
        mov     $0x08, %al              # ICW2: vector base
        out     %al, $PIC1_DATA
        mov     $0x70, %al
        out     %al, $PIC2_DATA
        mov     $0x04, %al              # ICW3 master: a slave on IR2
        out     %al, $PIC1_DATA
        mov     $0x02, %al              # ICW3 slave: its cascade identity is 2
        out     %al, $PIC2_DATA
        mov     $0x01, %al              # ICW4: 8086/88 mode, normal EOI
        out     %al, $PIC1_DATA
        out     %al, $PIC2_DATA
        mov     $0xF8, %al              # OCW1: IRQ0-2 unmasked
        out     %al, $PIC1_DATA
        mov     $0xFF, %al
        out     %al, $PIC2_DATA
        ret

# The local APIC in virtual wire mode, as SeaBIOS leaves it and as the MP
# table the Machine wrote describes it (MP spec §3.6.2.2; Intel SDM Vol. 3
# §10.5.1): software-enabled (SVR bit 8, spurious vector FFh), LINT0 =
# ExtINT (the 8259's INTR passes through; ExtINT is always level
# triggered), LINT1 = NMI. The registers sit at FEE00000h, beyond real
# mode's reach: a moment in protected mode with a flat data segment writes
# them, then FS gets a 64 KiB real-mode segment back before PE is cleared
# (§9.9.2). Interrupts are off (POST).
        .set    LAPIC_SVR, 0xFEE000F0
        .set    LAPIC_LINT0, 0xFEE00350
        .set    LAPIC_LINT1, 0xFEE00360
init_lapic:
        lgdtl   %cs:rom_gdt_pointer
        mov     %cr0, %eax
        or      $1, %al
        mov     %eax, %cr0
        ljmp    $ROM_CODE_SEL, $1f
1:      mov     $ROM_FLAT_SEL, %ax
        mov     %ax, %fs
        mov     $LAPIC_SVR, %ebx
        movl    $0x000001FF, %fs:(%ebx)
        mov     $LAPIC_LINT0, %ebx
        movl    $0x00008700, %fs:(%ebx)
        mov     $LAPIC_LINT1, %ebx
        movl    $0x00000400, %fs:(%ebx)
        mov     $ROM_REAL_SEL, %ax
        mov     %ax, %fs
        mov     %cr0, %eax
        and     $0xFE, %al
        mov     %eax, %cr0
        ljmp    $0xF000, $2f
2:      xor     %ax, %ax
        mov     %ax, %fs
        ret

# The BIOS's own GDT (read-only: every descriptor already has its accessed
# bit set, so loading one needs no write).
        .set    ROM_CODE_SEL, 0x08
        .set    ROM_FLAT_SEL, 0x10
        .set    ROM_REAL_SEL, 0x18
        .balign 8
rom_gdt:
        .quad   0
        .word   0xFFFF, 0x0000          # 08h: 16-bit code, base F0000h, 64 KiB
        .byte   0x0F, 0x9B, 0x00, 0x00
        .word   0xFFFF, 0x0000          # 10h: data, base 0, 4 GiB
        .byte   0x00, 0x93, 0xCF, 0x00
        .word   0xFFFF, 0x0000          # 18h: data, base 0, 64 KiB (real-mode limits)
        .byte   0x00, 0x93, 0x00, 0x00
rom_gdt_pointer:
        .word   rom_gdt_pointer - rom_gdt - 1
        .long   0xF0000 + rom_gdt

# 8254 channel 0: mode 3 (square wave), binary, count 0 = 65536, so IRQ0
# fires at 1193182 / 65536 = 18.2 Hz (IBM PC/AT Technical Reference, "System
# Timer").
init_pit:
        mov     $0x36, %al              # channel 0, lobyte/hibyte, mode 3, binary
        out     %al, $PIT_CMD
        xor     %al, %al
        out     %al, $PIT_CH0
        out     %al, $PIT_CH0
        ret

# MC146818A: register A = 0x26 (32.768 kHz time base, 1024 Hz periodic
# rate), register B = 0x02 (24-hour, BCD, no interrupts), then read C and D
# to clear pending flags — the values the PC/AT BIOS programs.
init_cmos:
        mov     $0x0A, %al
        mov     $0x26, %ah
        call    cmos_write
        mov     $0x0B, %al
        mov     $0x02, %ah
        call    cmos_write
        mov     $0x0C, %al
        call    cmos_read
        mov     $0x0D, %al
        call    cmos_read
        ret

# 16550A (National Semiconductor datasheet): 115200 baud (divisor 1), 8N1,
# no interrupts, DTR and RTS. Nothing is printed on them: the serial console
# belongs to the guest.
init_serial_ports:
        mov     $COM1, %dx
        call    init_uart
        mov     $COM2, %dx
        jmp     init_uart

init_uart:                              # DX = base port
        add     $3, %dx                 # LCR
        mov     $0x80, %al              # DLAB
        out     %al, %dx
        sub     $3, %dx
        mov     $1, %al                 # divisor latch low
        out     %al, %dx
        inc     %dx
        xor     %al, %al                # divisor latch high; then IER = 0
        out     %al, %dx
        add     $2, %dx
        mov     $0x03, %al              # LCR: 8 data bits, no parity, 1 stop bit
        out     %al, %dx
        dec     %dx
        dec     %dx
        xor     %al, %al                # IER: no interrupts
        out     %al, %dx
        add     $3, %dx
        mov     $0x03, %al              # MCR: DTR, RTS (OUT2 clear: no IRQ)
        out     %al, %dx
        ret

# Mode 3 and the banner (VGA only: COM1 stays quiet).
init_video:
        mov     $0x0003, %ax
        int     $0x10
        mov     $banner, %si
        jmp     print_string

banner: .asciz  "virtscope BIOS\r\n"

# The 8042 is already in the state a BIOS leaves (command byte 0x45: IRQ1,
# translation to set 1, keyboard enabled): only drain stale bytes.
init_keyboard:
        mov     $16, %cx
1:      in      $KBD_STATUS, %al
        test    $0x01, %al
        jz      2f
        in      $KBD_DATA, %al
        loop    1b
2:      ret

# ATA master and slave on the primary channel: IDENTIFY DEVICE by polling.
# Present devices become disks 0x80 (master) and 0x81 (slave).
init_disks:
        DS_BDA
        xor     %bl, %bl
1:      push    %bx
        call    ata_identify
        pop     %bx
        jc      2f
        mov     %bl, %cl
        mov     $1, %al
        shl     %cl, %al
        or      %al, BDA_ATA_PRESENT
        incb    BDA_HD_COUNT
2:      inc     %bl
        cmp     $2, %bl
        jb      1b
        ret

# The tick count starts at the RTC's time of day, as on the PC/AT:
# ticks = seconds * 1573040 / 86400 (0x1800B0 ticks a day) = s * 19663 / 1080.
init_tick_count:
        call    rtc_wait_update
        mov     $0x04, %al
        call    cmos_read_bcd
        movzbl  %al, %ebx
        imul    $60, %ebx, %ebx
        mov     $0x02, %al
        call    cmos_read_bcd
        movzbl  %al, %eax
        add     %eax, %ebx
        imul    $60, %ebx, %ebx
        xor     %al, %al
        call    cmos_read_bcd
        movzbl  %al, %eax
        add     %ebx, %eax
        imul    $19663, %eax, %eax
        xor     %edx, %edx
        mov     $1080, %ecx
        div     %ecx
        DS_BDA
        mov     %eax, BDA_TICKS
        ret

# Print the zero-terminated string at CS:SI through INT 10h teletype.
print_string:
        push    %ax
        push    %bx
        push    %si
1:      mov     %cs:(%si), %al
        test    %al, %al
        jz      2f
        mov     $0x0E, %ah
        xor     %bx, %bx
        int     $0x10
        inc     %si
        jmp     1b
2:      pop     %si
        pop     %bx
        pop     %ax
        ret

# Default handlers. Exceptions and unused software interrupts return at
# once; a hardware interrupt nobody claimed still needs its end of
# interrupt, or the 8259 would block that level and everything below it.
default_iret:
        iret

irq_master_default:
        push    %ax
        mov     $PIC_EOI, %al
        out     %al, $PIC1_CMD
        pop     %ax
        iret

irq_slave_default:
        push    %ax
        mov     $PIC_EOI, %al
        out     %al, $PIC2_CMD
        out     %al, $PIC1_CMD
        pop     %ax
        iret

# IRQ14, should a guest unmask it: reading Status clears the drive's INTRQ
# (ATA-6 §5.2.9).
int76_ata:
        push    %ax
        push    %dx
        mov     $ATA_STATUS, %dx
        in      %dx, %al
        pop     %dx
        jmp     1f
# IRQ8, should a guest unmask it: reading register C drops the RTC's line.
int70_rtc:
        push    %ax
        mov     $0x0C, %al
        out     %al, $CMOS_INDEX
        in      $CMOS_DATA, %al
1:      mov     $PIC_EOI, %al
        out     %al, $PIC2_CMD
        out     %al, $PIC1_CMD
        pop     %ax
        iret
