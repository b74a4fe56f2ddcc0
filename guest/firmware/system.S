# INT 11h (equipment list), INT 12h (base memory size) and the INT 15h
# system services (IBM PC/AT Technical Reference, "Cassette I/O" = INT 15h;
# RBIL INT 15h; ACPI 3.0 §14 "System Address Map Interfaces" for E820h).
#
# INT 15h implemented: AH=4Fh keyboard intercept (CF set: keep the key),
# 86h wait, 87h block move, 88h extended memory size, 90h/91h device busy /
# interrupt complete (nothing to do), AX=2400h-2403h A20 gate, E801h and
# E820h memory sizes. Everything else (AH=C0h system configuration, C2h
# mouse, 53h APM, ...) returns CF set and AH=86h "function not supported".

        .set    SMAP, 0x534D4150        # "SMAP"
        .set    E820_RAM, 1
        .set    E820_RESERVED, 2
        .set    TICK_US, 54925          # microseconds per 18.2 Hz tick

int11_equipment:
        push    %ds
        DS_BDA
        mov     BDA_EQUIPMENT, %ax
        pop     %ds
        iret

int12_memory_size:
        push    %ds
        DS_BDA
        mov     BDA_MEMORY_KIB, %ax
        pop     %ds
        iret

int15_system:
        ENTER_FRAME
        cld
        DS_BDA
        cmp     $0x4F, %ah
        je      sys_keyboard_intercept
        cmp     $0x86, %ah
        je      sys_wait
        cmp     $0x87, %ah
        je      sys_block_move
        cmp     $0x88, %ah
        je      sys_extended_memory
        cmp     $0x90, %ah
        je      sys_ok
        cmp     $0x91, %ah
        je      sys_ok
        cmp     $0x24, %ah
        je      sys_a20
        cmp     $0xE820, %ax
        je      sys_e820
        cmp     $0xE801, %ax
        je      sys_e801
sys_unsupported:
        movb    $0x86, F_AH(%bp)
        SET_CF
        LEAVE_FRAME
sys_ok:
        movb    $0, F_AH(%bp)
        CLEAR_CF
        LEAVE_FRAME

# AH=4Fh: called by INT 09h with AL = scan code and CF set; a BIOS without
# a hook leaves both as they are: keep processing the key.
sys_keyboard_intercept:
        SET_CF
        LEAVE_FRAME

# AH=88h: AX = KiB of memory from 1 MiB (CMOS 30h/31h, at most 65535).
sys_extended_memory:
        call    cmos_extended_kib
        mov     %ax, F_AX(%bp)
        CLEAR_CF
        LEAVE_FRAME

# AX=E801h: AX = CX = KiB between 1 MiB and 16 MiB (at most 15 MiB), BX =
# DX = 64 KiB blocks above 16 MiB (CMOS 34h/35h).
sys_e801:
        call    cmos_extended_kib
        cmp     $0x3C00, %ax
        jbe     1f
        mov     $0x3C00, %ax
1:      mov     %ax, F_AX(%bp)
        mov     %ax, F_CX(%bp)
        mov     $0x35, %al
        call    cmos_read
        mov     %al, %ah
        mov     $0x34, %al
        call    cmos_read
        mov     %ax, F_BX(%bp)
        mov     %ax, F_DX(%bp)
        CLEAR_CF
        LEAVE_FRAME

# AX=2400h disable, 2401h enable A20 (port 92h bit 1; bit 0 would reset
# the CPU), 2402h status (AL), 2403h support (BX bit 0: keyboard
# controller, bit 1: port 92h — the board has both).
sys_a20:
        cmp     $3, %al
        ja      sys_unsupported
        cmp     $3, %al
        je      3f
        cmp     $2, %al
        je      2f
        mov     %al, %bl
        in      $SYSCTL_A, %al
        and     $0xFC, %al
        shl     %bl
        or      %bl, %al
        out     %al, $SYSCTL_A
        jmp     sys_ok
2:      in      $SYSCTL_A, %al
        shr     %al
        and     $1, %al
        mov     %al, F_AL(%bp)
        jmp     sys_ok
3:      movw    $0x0003, F_BX(%bp)
        jmp     sys_ok

# AX=E820h: EDX = "SMAP", EBX = continuation (entry index), ECX = buffer
# size (>= 20), ES:DI = buffer. Stores one 20-byte entry (base, length,
# type) and returns EAX = "SMAP", ECX = 20, EBX = next index (0 after the
# last). The map (addresses from the board):
#   0 - 9FC00h         RAM (639 KiB base memory)
#   9FC00h - A0000h    reserved: the EBDA, which holds the MP tables
#   F0000h - 100000h   reserved: this ROM
#   1 MiB - top        RAM (CMOS 30h/31h, 34h/35h); absent with no memory above 1 MiB
#   FEC00000h 4 KiB    reserved: I/O APIC
#   FEE00000h 4 KiB    reserved: local APIC
#   FFFF0000h 64 KiB   reserved: this ROM's alias below 4 GiB
sys_e820:
        cmp     $SMAP, %edx
        jne     sys_unsupported
        cmp     $20, %ecx
        jb      sys_unsupported
        cmp     $E820_ENTRIES, %ebx
        jae     sys_unsupported
        mov     %bx, %si                # SI = table offset: index * 12
        imul    $12, %si, %si
        add     $e820_map, %si
        mov     %cs:(%si), %eax
        mov     %eax, %es:(%di)         # base
        movl    $0, %es:4(%di)
        mov     %cs:4(%si), %eax
        cmp     $E820_HIGH_RAM, %bx
        jne     1f
        call    ram_above_1mib
        test    %eax, %eax
        jz      sys_unsupported
1:      mov     %eax, %es:8(%di)        # length
        movl    $0, %es:12(%di)
        mov     %cs:8(%si), %eax
        mov     %eax, %es:16(%di)       # type
        inc     %bx                     # the next index, skipping an empty high-RAM entry
        cmp     $E820_HIGH_RAM, %bx
        jne     2f
        call    ram_above_1mib
        test    %eax, %eax
        jnz     2f
        inc     %bx
2:      cmp     $E820_ENTRIES, %bx
        jb      3f
        xor     %bx, %bx
3:      movzwl  %bx, %ebx
        mov     %ebx, F_EBX(%bp)
        movl    $SMAP, F_EAX(%bp)
        movl    $20, F_ECX(%bp)
        CLEAR_CF
        LEAVE_FRAME

e820_map:
        .long   0x00000000, 0x0009FC00, E820_RAM
        .long   0x0009FC00, 0x00000400, E820_RESERVED
        .long   0x000F0000, 0x00010000, E820_RESERVED
e820_high_ram:
        .long   0x00100000, 0, E820_RAM          # length: ram_above_1mib
        .long   0xFEC00000, 0x00001000, E820_RESERVED
        .long   0xFEE00000, 0x00001000, E820_RESERVED
        .long   0xFFFF0000, 0x00010000, E820_RESERVED
e820_end:
        .set    E820_ENTRIES, (e820_end - e820_map) / 12
        .set    E820_HIGH_RAM, (e820_high_ram - e820_map) / 12

# EAX = bytes of RAM from 1 MiB, from the CMOS sizes the board filled in:
# 34h/35h counts 64 KiB blocks above 16 MiB (when there are any), 30h/31h
# KiB above 1 MiB (at most 65535).
ram_above_1mib:
        mov     $0x35, %al
        call    cmos_read
        mov     %al, %ah
        mov     $0x34, %al
        call    cmos_read
        test    %ax, %ax
        jz      1f
        movzwl  %ax, %eax
        shl     $16, %eax
        add     $15 << 20, %eax
        ret
1:      call    cmos_extended_kib
        movzwl  %ax, %eax
        shl     $10, %eax
        ret

# AX = CMOS 30h/31h: KiB of memory above 1 MiB.
cmos_extended_kib:
        mov     $0x31, %al
        call    cmos_read
        mov     %al, %ah
        mov     $0x30, %al
        jmp     cmos_read

# AH=86h: wait CX:DX microseconds (at least). Whole 18.2 Hz ticks are
# slept through with HLT when IRQ0 is unmasked (the Machine skips idle
# time, so long waits cost no host time); the rest is counted on the DRAM
# refresh bit, port 61h bit 4, which toggles every 15.09 µs (IBM PC/AT
# Technical Reference, "System Timer", channel 1). Interrupts are enabled
# while waiting, as on the PC/AT.
sys_wait:
        sti
        movzwl  %cx, %ebx
        shl     $16, %ebx
        mov     %dx, %bx                # EBX = microseconds
        in      $PIC1_DATA, %al
        test    $0x01, %al
        jnz     2f
        cmp     $TICK_US, %ebx
        jb      2f
        call    wait_tick               # an unknown part of a tick: counts as none
1:      cmp     $TICK_US, %ebx
        jb      2f
        call    wait_tick
        sub     $TICK_US, %ebx
        jmp     1b
2:      mov     %ebx, %eax              # toggles = us / 15.0857 = us * 4345 / 65536
        mov     $4345, %ecx
        mul     %ecx
        shrd    $16, %edx, %eax
        mov     %eax, %ecx
        test    %ecx, %ecx
        jz      4f
        in      $PORT_B, %al
        and     $0x10, %al
        mov     %al, %ah
3:      in      $PORT_B, %al
        and     $0x10, %al
        cmp     %ah, %al
        je      3b
        mov     %al, %ah
        dec     %ecx
        jnz     3b
4:      jmp     sys_ok

# HLT until the BDA tick count changes (DS = BDA, interrupts enabled).
wait_tick:
        mov     BDA_TICKS, %si
1:      cli
        cmp     BDA_TICKS, %si
        jne     2f
        sti
        hlt
        jmp     1b
2:      sti
        ret

# AH=87h: copy CX words between two 24-bit addresses described by the
# caller's GDT at ES:SI (IBM PC/AT Technical Reference, "BLOCK_MOVE"; RBIL
# INT 15h AH=87h): entry 10h the source, 18h the destination. The BIOS
# fills in 08h (the GDT itself), 20h (its code segment) and 28h (its stack
# segment), switches to protected mode, copies with interrupts off and
# returns to real mode. AH = 0 and CF clear on success, AH = 03h and CF
# set when CX exceeds 8000h words.
sys_block_move:
        cmp     $0x8000, %cx
        jbe     1f
        movb    $0x03, F_AH(%bp)
        SET_CF
        LEAVE_FRAME
1:      cli
        in      $SYSCTL_A, %al          # A20 on for the copy, restored after
        push    %ax
        or      $0x02, %al
        and     $0xFE, %al
        out     %al, $SYSCTL_A
        mov     %ss, %dx                # DX = the caller's SS, reloaded after the copy
        mov     %es, %ax                # EBX = linear address of the caller's GDT
        movzwl  %ax, %ebx
        shl     $4, %ebx
        movzwl  %si, %eax
        add     %eax, %ebx
        # 08h: the GDT itself as a data segment (limit 47).
        movw    $47, %es:0x08(%si)
        mov     %ebx, %es:0x0A(%si)
        movb    $0x93, %es:0x0D(%si)
        movw    $0, %es:0x0E(%si)
        # 20h: this ROM, a 16-bit code segment at F0000h, 64 KiB.
        movw    $0xFFFF, %es:0x20(%si)
        movl    $0x9B0F0000, %es:0x22(%si)
        movw    $0, %es:0x26(%si)
        # 28h: the caller's stack segment, so BP and SP keep addressing it.
        movzwl  %dx, %eax
        shl     $4, %eax
        movw    $0xFFFF, %es:0x28(%si)
        mov     %eax, %es:0x2A(%si)
        movb    $0x93, %es:0x2D(%si)
        movw    $0, %es:0x2E(%si)
        pushl   %ebx                    # the LGDT operand: limit, 32-bit base
        pushw   $47
        mov     %sp, %bx
        lgdtl   %ss:(%bx)
        add     $6, %sp
        mov     %cr0, %eax              # protected mode (Intel SDM Vol. 3 §9.9.1)
        or      $1, %al
        mov     %eax, %cr0
        ljmp    $0x20, $2f
2:      mov     $0x28, %ax
        mov     %ax, %ss
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     $0x18, %ax
        mov     %ax, %es
        xor     %si, %si
        xor     %di, %di
        rep     movsw
        # Back to real mode (§9.9.2): the data and stack segments already
        # have 16-bit descriptors; clear PE, reload CS, then SS.
        mov     %cr0, %eax
        and     $0xFE, %al
        mov     %eax, %cr0
        ljmp    $0xF000, $3f
3:      mov     %dx, %ss
        pop     %ax
        and     $0xFE, %al
        out     %al, $SYSCTL_A
        jmp     sys_ok
