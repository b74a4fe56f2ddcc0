# Text-mode mechanics under INT 10h (video.S): cursor slots in the BDA,
# cell addresses in B800:0000, the CRTC (FreeVGA "CRT Controller
# Registers"), teletype output and window scrolling. DS = BDA throughout.

# BH = page -> SI = its cursor word in the BDA (DS = BDA). Pages wrap at 8.
vid_cursor_slot:
        movzbw  %bh, %si
        and     $7, %si
        shl     %si
        add     $BDA_CURSOR, %si
        ret

# BH = page, DH = row, DL = column -> DI = byte offset in video memory.
vid_cell_offset:
        push    %ax
        mov     %dh, %al
        mov     $COLS, %ah
        mul     %ah
        movzbw  %dl, %di
        add     %ax, %di
        shl     %di
        movzbw  %bh, %ax
        and     $7, %ax
        shl     $12, %ax
        add     %ax, %di
        pop     %ax
        ret

# BH = page: if it is displayed, move the hardware cursor to its cursor
# (CRTC 0x0E/0x0F hold the cell index in video memory; FreeVGA "CRT
# Controller Registers").
vid_sync_cursor:
        cmp     BDA_ACTIVE_PAGE, %bh
        jne     1f
        pusha
        call    vid_cursor_slot
        mov     (%si), %dx
        call    vid_cell_offset
        shr     %di
        mov     $0x0E, %al
        mov     %di, %bx
        mov     %bh, %ah
        call    crtc_write
        mov     $0x0F, %al
        mov     %bl, %ah
        call    crtc_write
        popa
1:      ret

# CRTC register AL = AH.
crtc_write:
        push    %dx
        push    %ax
        mov     $CRTC_INDEX, %dx
        out     %al, %dx
        inc     %dx
        mov     %ah, %al
        out     %al, %dx
        pop     %ax
        pop     %dx
        ret

# Teletype output of AL on page BH, the way IBM's WRITE_TTY does it: BEL
# (no speaker tone here), BS (left, not past column 0), CR, LF; other
# characters are stored (with attribute BL if AH = 1) and advance the
# cursor, wrapping at column 80; past the last row the page scrolls up,
# the new row blank in the attribute of the cell at the cursor. DS = BDA.
vid_tty:
        pusha
        push    %es
        push    $VIDEO_SEG
        pop     %es
        and     $7, %bh
        call    vid_cursor_slot
        mov     (%si), %dx
        cmp     $0x07, %al
        je      9f
        cmp     $0x08, %al
        jne     1f
        test    %dl, %dl
        jz      8f
        dec     %dl
        jmp     8f
1:      cmp     $0x0D, %al
        jne     1f
        xor     %dl, %dl
        jmp     8f
1:      cmp     $0x0A, %al
        jne     1f
        inc     %dh
        jmp     7f
1:      call    vid_cell_offset
        mov     %al, %es:(%di)
        test    %ah, %ah
        jz      2f
        mov     %bl, %es:1(%di)
2:      inc     %dl
        cmp     $COLS, %dl
        jb      8f
        xor     %dl, %dl
        inc     %dh
7:      cmp     $ROWS, %dh
        jb      8f
        mov     $ROWS - 1, %dh
        push    %bx
        push    %dx
        call    vid_cell_offset
        mov     %es:1(%di), %al         # blank attribute: the cell at the cursor
        movzbw  %bh, %di
        shl     $12, %di                # the page's start
        mov     %al, %bh
        mov     $1, %al
        xor     %cx, %cx
        mov     $((ROWS - 1) << 8) | (COLS - 1), %dx
        xor     %si, %si
        call    vid_scroll
        pop     %dx
        pop     %bx
8:      call    vid_cursor_slot
        mov     %dx, (%si)
        call    vid_sync_cursor
9:      pop     %es
        popa
        ret

# Scroll a window: AL = lines (0 or more than the window: blank it), BH =
# blank attribute, CH/CL = top row/left column, DH/DL = bottom row/right
# column (clamped to the screen), SI = 0 up / 1 down, DI = the page's byte
# offset in video memory. DS = BDA. Preserves all registers.
        .set    SC_LINES, -2
        .set    SC_WIDTH, -4
        .set    SC_BLANK, -6
        .set    SC_PAGE, -8
        .set    SC_LEFT, -10
        .set    SC_TOP, -11
vid_scroll:
        push    %bp
        mov     %sp, %bp
        sub     $12, %sp
        pusha
        push    %es
        push    $VIDEO_SEG
        pop     %es
        mov     %di, SC_PAGE(%bp)
        cmp     $ROWS - 1, %dh
        jbe     1f
        mov     $ROWS - 1, %dh
1:      cmp     $COLS - 1, %dl
        jbe     1f
        mov     $COLS - 1, %dl
1:      cmp     %dh, %ch
        ja      9f
        cmp     %dl, %cl
        ja      9f
        mov     %dh, %ah                # window height
        sub     %ch, %ah
        inc     %ah
        test    %al, %al
        jz      1f
        cmp     %ah, %al
        jbe     2f
1:      mov     %ah, %al
2:      xor     %ah, %ah
        mov     %ax, SC_LINES(%bp)
        mov     %dl, %al
        sub     %cl, %al
        inc     %al
        mov     %ax, SC_WIDTH(%bp)
        mov     %bh, %ah
        mov     $' ', %al
        mov     %ax, SC_BLANK(%bp)
        mov     %cl, SC_LEFT(%bp)
        mov     %ch, SC_TOP(%bp)
        test    %si, %si
        jnz     5f

        mov     %ch, %bl                # up: row r takes row r + lines
3:      mov     %bl, %al
        call    scroll_row_offset
        mov     %ax, %di
        mov     %bl, %al
        add     SC_LINES(%bp), %al
        cmp     %dh, %al
        ja      4f
        call    scroll_row_offset
        mov     %ax, %si
        mov     SC_WIDTH(%bp), %cx
        rep     movsw %es:(%si), %es:(%di)
        jmp     1f
4:      mov     SC_BLANK(%bp), %ax
        mov     SC_WIDTH(%bp), %cx
        rep     stosw
1:      inc     %bl
        cmp     %dh, %bl
        jbe     3b
        jmp     9f

5:      mov     %dh, %bl                # down: row r takes row r - lines
6:      mov     %bl, %al
        call    scroll_row_offset
        mov     %ax, %di
        mov     %bl, %al
        sub     SC_LINES(%bp), %al
        jb      7f
        cmp     SC_TOP(%bp), %al
        jb      7f
        call    scroll_row_offset
        mov     %ax, %si
        mov     SC_WIDTH(%bp), %cx
        rep     movsw %es:(%si), %es:(%di)
        jmp     1f
7:      mov     SC_BLANK(%bp), %ax
        mov     SC_WIDTH(%bp), %cx
        rep     stosw
1:      cmp     SC_TOP(%bp), %bl
        je      9f
        dec     %bl
        jmp     6b

9:      pop     %es
        popa
        mov     %bp, %sp
        pop     %bp
        ret

# For vid_scroll: AL = row -> AX = byte offset of (row, SC_LEFT) in the
# page at SC_PAGE(%bp).
scroll_row_offset:
        push    %bx
        mov     $COLS * 2, %ah
        mul     %ah
        movzbw  SC_LEFT(%bp), %bx
        shl     %bx
        add     %bx, %ax
        add     SC_PAGE(%bp), %ax
        pop     %bx
        ret
