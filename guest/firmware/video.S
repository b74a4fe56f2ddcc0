# INT 10h video services for VGA colour text mode 3 (80 x 25, 8 pages of
# 4 KiB at B800:0000). Function numbers and registers follow the IBM PC/AT
# Technical Reference ("Video I/O") and RBIL INT 10h. Every mode number
# sets mode 3: the board's VGA only displays text. The hardware cursor
# (CRTC registers 0x0E/0x0F) always follows the active page's cursor.
#
# Implemented: AH = 00h set mode, 01h cursor shape, 02h set cursor, 03h get
# cursor, 05h select page, 06h/07h scroll window up/down, 08h read
# character and attribute, 09h/0Ah write character (and attribute) CX
# times, 0Eh teletype, 0Fh get mode, 12h BL=10h EGA information, 13h write
# string, 1Ah AL=00h display combination. Others return unchanged.

int10_video:
        sti
        ENTER_FRAME
        cld
        DS_BDA
        cmp     $0x1A, %ah
        ja      1f
        movzbw  %ah, %si
        shl     %si
        call    *%cs:video_functions(%si)
1:      LEAVE_FRAME

video_functions:
        .word   vid_set_mode, vid_set_shape, vid_set_cursor, vid_get_cursor        # 00-03
        .word   vid_nop, vid_select_page, vid_scroll_up, vid_scroll_down            # 04-07
        .word   vid_read_cell, vid_write_cells, vid_write_chars, vid_nop            # 08-0B
        .word   vid_nop, vid_nop, vid_teletype, vid_get_mode                        # 0C-0F
        .word   vid_nop, vid_nop, vid_ega_info, vid_write_string                    # 10-13
        .word   vid_nop, vid_nop, vid_nop, vid_nop                                  # 14-17
        .word   vid_nop, vid_nop, vid_display_combination                           # 18-1A

vid_nop:
        ret

# AH=00h: AL = mode (bit 7: keep the screen contents). Returns AL = 30h
# (RBIL: "video mode flag", text mode).
vid_set_mode:
        movb    $3, BDA_VIDEO_MODE
        movw    $COLS, BDA_VIDEO_COLS
        movw    $PAGE_BYTES, BDA_PAGE_SIZE
        movw    $0, BDA_PAGE_START
        movb    $0, BDA_ACTIVE_PAGE
        push    %ax
        push    %ds
        pop     %es
        mov     $BDA_CURSOR, %di
        xor     %ax, %ax
        mov     $8, %cx
        rep     stosw
        pop     %ax
        movw    $CRTC_INDEX, BDA_CRTC_PORT
        movb    $0x29, BDA_CRT_MODE     # 80x25 text, video on, blink
        movb    $0x30, BDA_CRT_PALETTE
        movb    $ROWS - 1, BDA_VIDEO_ROWS
        movw    $16, BDA_CHAR_HEIGHT
        movb    $0x60, BDA_VIDEO_CTL    # 256 KiB of video memory
        movb    $0x09, BDA_VIDEO_SWITCHES
        movb    $0x11, BDA_VGA_FLAGS    # VGA active, 400 scan lines
        test    $0x80, %al
        jnz     1f
        push    $VIDEO_SEG              # clear all 8 pages
        pop     %es
        xor     %di, %di
        mov     $(DEFAULT_ATTR << 8) | ' ', %ax
        mov     $PAGE_BYTES * 8 / 2, %cx
        rep     stosw
1:      mov     $0x0C, %al              # CRTC start address = 0: page 0 shown
        xor     %ah, %ah
        call    crtc_write
        mov     $0x0D, %al
        call    crtc_write
        mov     $0x0607, %cx            # the CGA underline cursor
        call    vid_set_shape
        xor     %bh, %bh
        call    vid_sync_cursor
        movb    $0x30, F_AL(%bp)
        ret

# AH=01h: CH = start scan line (bit 5: cursor off), CL = end scan line.
# Values below 8 are CGA scan lines; like a VGA BIOS's cursor emulation
# they are scaled to the 16-line character cell (6-7 -> 13-14).
vid_set_shape:
        mov     %cx, BDA_CURSOR_SHAPE
        mov     %ch, %ah
        and     $0x1F, %ah
        mov     %cl, %bl
        and     $0x1F, %bl
        cmp     $8, %ah
        jae     1f
        cmp     $8, %bl
        jae     1f
        shl     %bl                     # end: 2n
        test    %ah, %ah
        jz      1f
        shl     %ah                     # start: 2n + 1 (0 stays 0: a block)
        inc     %ah
1:      mov     %ch, %al
        and     $0x20, %al
        or      %al, %ah
        mov     $0x0A, %al
        call    crtc_write
        mov     %bl, %ah
        mov     $0x0B, %al
        jmp     crtc_write

# AH=02h: BH = page, DH = row, DL = column.
vid_set_cursor:
        call    vid_cursor_slot
        mov     %dx, (%si)
        jmp     vid_sync_cursor

# AH=03h: BH = page. Returns DH/DL = row/column, CH/CL = cursor shape, AX = 0.
vid_get_cursor:
        call    vid_cursor_slot
        mov     (%si), %dx
        mov     %dx, F_DX(%bp)
        mov     BDA_CURSOR_SHAPE, %cx
        mov     %cx, F_CX(%bp)
        movw    $0, F_AX(%bp)
        ret

# AH=05h: AL = page 0-7. The CRTC start address (in character cells) moves
# the display to that page.
vid_select_page:
        cmp     $7, %al
        ja      1f
        mov     %al, BDA_ACTIVE_PAGE
        movzbw  %al, %bx
        shl     $12, %bx
        mov     %bx, BDA_PAGE_START
        shr     %bx                     # cells
        mov     $0x0C, %al
        mov     %bh, %ah
        call    crtc_write
        mov     $0x0D, %al
        mov     %bl, %ah
        call    crtc_write
        mov     BDA_ACTIVE_PAGE, %bh
        jmp     vid_sync_cursor
1:      ret

# AH=06h/07h: AL = lines (0: blank the window), BH = blank attribute, CH/CL
# = top row/left column, DH/DL = bottom row/right column; the active page.
vid_scroll_up:
        xor     %si, %si
        jmp     1f
vid_scroll_down:
        mov     $1, %si
1:      mov     BDA_PAGE_START, %di
        jmp     vid_scroll

# AH=08h: BH = page. Returns AL = character, AH = attribute at the cursor.
vid_read_cell:
        push    $VIDEO_SEG
        pop     %es
        call    vid_cursor_slot
        mov     (%si), %dx
        call    vid_cell_offset
        mov     %es:(%di), %ax
        mov     %ax, F_AX(%bp)
        ret

# AH=09h: AL = character, BL = attribute, BH = page, CX = count; AH=0Ah
# the same keeping the attributes. The cursor does not move; the copies
# run on across rows up to the end of the page.
vid_write_cells:
        mov     $1, %ah
        jmp     1f
vid_write_chars:
        xor     %ah, %ah
1:      push    $VIDEO_SEG
        pop     %es
        push    %ax
        call    vid_cursor_slot
        mov     (%si), %dx
        mov     %dh, %al                # AX = row * 80 + column
        mov     $COLS, %ah
        mul     %ah
        movzbw  %dl, %si
        add     %ax, %si
        mov     $ROWS * COLS, %ax
        sub     %si, %ax                # cells to the end of the page
        jbe     3f
        cmp     %ax, %cx
        jbe     2f
        mov     %ax, %cx
2:      pop     %ax
        call    vid_cell_offset
        jcxz    4f
1:      mov     %al, %es:(%di)
        test    %ah, %ah
        jz      2f
        mov     %bl, %es:1(%di)
2:      add     $2, %di
        loop    1b
        ret
3:      pop     %ax
4:      ret

# AH=0Eh: AL = character. Like SeaBIOS, the active page is used whatever
# BH holds (callers often leave it undefined).
vid_teletype:
        mov     BDA_ACTIVE_PAGE, %bh
        xor     %ah, %ah
        jmp     vid_tty

# AH=0Fh: returns AL = mode, AH = columns, BH = active page.
vid_get_mode:
        mov     BDA_VIDEO_MODE, %al
        mov     BDA_VIDEO_COLS, %ah
        mov     %ax, F_AX(%bp)
        mov     BDA_ACTIVE_PAGE, %al
        mov     %al, F_BH(%bp)
        ret

# AH=12h BL=10h: EGA/VGA information: colour, 256 KiB, switches 9.
vid_ega_info:
        cmp     $0x10, %bl
        jne     1f
        movw    $0x0003, F_BX(%bp)
        movw    $0x0009, F_CX(%bp)
1:      ret

# AH=13h: AL = mode (bit 0: leave the cursor after the string; bit 1: the
# string alternates characters and attributes), BH = page, BL = attribute,
# CX = length, DH/DL = row/column, ES:BP = string. BEL, BS, CR and LF act
# as in teletype output.
vid_write_string:
        and     $7, %bh
        call    vid_cursor_slot
        push    (%si)                   # the cursor to restore
        mov     %dx, (%si)
        mov     F_BP(%bp), %di
        mov     %al, %dl                # DL = mode
        jcxz    3f
1:      mov     F_ES(%bp), %es
        mov     %es:(%di), %al
        inc     %di
        test    $0x02, %dl
        jz      2f
        mov     %es:(%di), %bl
        inc     %di
2:      mov     $1, %ah
        call    vid_tty
        loop    1b
3:      pop     %ax
        test    $0x01, %dl
        jnz     4f
        call    vid_cursor_slot
        mov     %ax, (%si)
        jmp     vid_sync_cursor
4:      ret

# AH=1Ah AL=00h: display combination code: VGA with colour display.
vid_display_combination:
        test    %al, %al
        jnz     1f
        movb    $0x1A, F_AL(%bp)
        movw    $0x0008, F_BX(%bp)
1:      ret
