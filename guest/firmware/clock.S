# Time: the IRQ0 tick handler (INT 08h), the INT 1Ah time-of-day services
# and the MC146818A CMOS/RTC access helpers (IBM PC/AT Technical
# Reference, "TIMER_INT" and "TIME_OF_DAY"; RBIL INT 08h, INT 1Ah; Motorola
# MC146818A datasheet for the register layout).

        .set    TICKS_PER_DAY, 0x1800B0 # 1193180 / 65536 * 86400, the PC's constant

# IRQ0, 18.2 times a second: count the tick (wrapping at midnight, which
# sets 40:70), call the user hook INT 1Ch, then end the interrupt.
int08_timer:
        push    %ax
        push    %ds
        DS_BDA
        incl    BDA_TICKS
        cmpl    $TICKS_PER_DAY, BDA_TICKS
        jb      1f
        movl    $0, BDA_TICKS
        movb    $1, BDA_MIDNIGHT
1:      int     $0x1C
        mov     $PIC_EOI, %al
        out     %al, $PIC1_CMD
        pop     %ds
        pop     %ax
        iret

# INT 1Ah. Implemented: AH = 00h read ticks (CX:DX, AL = midnight flag,
# which reading clears), 01h set ticks, 02h read RTC time (CH hours, CL
# minutes, DH seconds in BCD, DL daylight saving flag), 03h set RTC time,
# 04h read RTC date (CH century, CL year, DH month, DL day in BCD), 05h
# set RTC date. Others return CF set.
int1a_clock:
        sti
        ENTER_FRAME
        DS_BDA
        cmp     $0x00, %ah
        je      clk_read_ticks
        cmp     $0x01, %ah
        je      clk_set_ticks
        cmp     $0x02, %ah
        je      clk_read_time
        cmp     $0x03, %ah
        je      clk_set_time
        cmp     $0x04, %ah
        je      clk_read_date
        cmp     $0x05, %ah
        je      clk_set_date
        SET_CF
        LEAVE_FRAME
clk_ok:
        CLEAR_CF
        LEAVE_FRAME

clk_read_ticks:
        cli
        mov     BDA_TICKS, %ax
        mov     %ax, F_DX(%bp)
        mov     BDA_TICKS + 2, %ax
        mov     %ax, F_CX(%bp)
        xor     %al, %al
        xchg    %al, BDA_MIDNIGHT
        mov     %al, F_AL(%bp)
        sti
        jmp     clk_ok

clk_set_ticks:
        cli
        mov     %dx, BDA_TICKS
        mov     %cx, BDA_TICKS + 2
        movb    $0, BDA_MIDNIGHT
        sti
        jmp     clk_ok

clk_read_time:
        call    rtc_wait_update
        mov     $0x04, %al
        call    cmos_read
        mov     %al, F_CH(%bp)
        mov     $0x02, %al
        call    cmos_read
        mov     %al, F_CL(%bp)
        xor     %al, %al
        call    cmos_read
        mov     %al, F_DH(%bp)
        mov     $0x0B, %al
        call    cmos_read
        and     $0x01, %al              # register B bit 0: daylight saving enable
        mov     %al, F_DL(%bp)
        jmp     clk_ok

clk_read_date:
        call    rtc_wait_update
        mov     $0x32, %al
        call    cmos_read
        mov     %al, F_CH(%bp)
        mov     $0x09, %al
        call    cmos_read
        mov     %al, F_CL(%bp)
        mov     $0x08, %al
        call    cmos_read
        mov     %al, F_DH(%bp)
        mov     $0x07, %al
        call    cmos_read
        mov     %al, F_DL(%bp)
        jmp     clk_ok

# Writes go in with register B's SET bit up, so the clock does not tick
# between the fields (MC146818A, "Register B", bit 7).
clk_set_time:
        call    rtc_hold
        mov     $0x04, %al
        mov     %ch, %ah
        call    cmos_write
        mov     $0x02, %al
        mov     %cl, %ah
        call    cmos_write
        xor     %al, %al
        mov     %dh, %ah
        call    cmos_write
        mov     %dl, %bl                # DL bit 0: daylight saving
        and     $0x01, %bl
        mov     $0x0B, %al
        call    cmos_read
        and     $0x7E, %al              # SET off, DSE from DL
        or      %bl, %al
        mov     %al, %ah
        mov     $0x0B, %al
        call    cmos_write
        jmp     clk_ok

clk_set_date:
        call    rtc_hold
        mov     $0x32, %al
        mov     %ch, %ah
        call    cmos_write
        mov     $0x09, %al
        mov     %cl, %ah
        call    cmos_write
        mov     $0x08, %al
        mov     %dh, %ah
        call    cmos_write
        mov     $0x07, %al
        mov     %dl, %ah
        call    cmos_write
        call    rtc_release
        jmp     clk_ok

rtc_hold:                               # register B |= SET
        push    %ax
        mov     $0x0B, %al
        call    cmos_read
        or      $0x80, %al
        jmp     1f
rtc_release:                            # register B &= ~SET
        push    %ax
        mov     $0x0B, %al
        call    cmos_read
        and     $0x7F, %al
1:      mov     %al, %ah
        mov     $0x0B, %al
        call    cmos_write
        pop     %ax
        ret

# CMOS RAM: AL = index (bit 7 clear: NMI stays enabled) -> AL = value.
cmos_read:
        out     %al, $CMOS_INDEX
        in      $CMOS_DATA, %al
        ret

# CMOS RAM: index AL = value AH.
cmos_write:
        out     %al, $CMOS_INDEX
        xchg    %al, %ah
        out     %al, $CMOS_DATA
        xchg    %al, %ah
        ret

# CMOS index AL, a BCD value -> AL binary.
cmos_read_bcd:
        call    cmos_read
        push    %cx
        mov     %al, %cl
        shr     $4, %al
        mov     $10, %ch
        mul     %ch
        and     $0x0F, %cl
        add     %cl, %al
        pop     %cx
        ret

# Wait while register A's UIP bit says the clock is updating (the time
# registers are not valid then), a bounded number of polls.
rtc_wait_update:
        push    %ax
        push    %cx
        mov     $0xFFFF, %cx
1:      mov     $0x0A, %al
        call    cmos_read
        test    $0x80, %al
        jz      2f
        loop    1b
2:      pop     %cx
        pop     %ax
        ret
