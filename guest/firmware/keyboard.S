# The keyboard: the IRQ1 handler (INT 09h) that turns scan codes into
# keystrokes in the BDA ring, and the INT 16h services that read them.
# IBM PC/AT Technical Reference ("Keyboard", "BIOS: KEYBOARD_IO" and
# "KB_INT"); RBIL INT 09h, INT 16h; scan codes are set 1 (the 8042
# translates the keyboard's set 2).

# Shift flag bits at 40:17 (RBIL MEMORY.LST, "Table M0010").
        .set    KF_RSHIFT, 0x01
        .set    KF_LSHIFT, 0x02
        .set    KF_CTRL, 0x04
        .set    KF_ALT, 0x08
        .set    KF_SCROLL, 0x10
        .set    KF_NUM, 0x20
        .set    KF_CAPS, 0x40
        .set    KF_INSERT, 0x80
# Keys held at 40:18: lock keys down, so a held key toggles only once.
        .set    KF1_SCROLL_DOWN, 0x10
        .set    KF1_NUM_DOWN, 0x20
        .set    KF1_CAPS_DOWN, 0x40
# 40:96 bit 1: the previous byte was the E0 prefix.
        .set    KF3_E0, 0x02

        .set    SC_LAST_KEY, 0x58       # F12: the tables below end there

# IRQ1: one byte from the 8042 per interrupt. INT 15h AH=4Fh sees it first
# (CF clear from a hook: swallow the byte), as on the PC/AT and PS/2.
int09_keyboard:
        pusha
        push    %ds
        cld
        DS_BDA
        in      $KBD_DATA, %al
        mov     $0x4F, %ah
        stc
        int     $0x15
        jnc     9f
        call    kb_process_scan_code
9:      cli
        mov     $PIC_EOI, %al
        out     %al, $PIC1_CMD
        pop     %ds
        popa
        iret

# AL = a set-1 scan code; DS = BDA.
kb_process_scan_code:
        cmp     $0xE0, %al
        jne     1f
        orb     $KF3_E0, BDA_KB_FLAGS3
        ret
1:      mov     BDA_KB_FLAGS3, %ah      # AH bit 1: this key came after E0
        andb    $~KF3_E0, BDA_KB_FLAGS3
        test    $0x80, %al
        jnz     kb_break
        # Make codes of the shift and lock keys change state only.
        test    $KF3_E0, %ah
        jz      1f
        cmp     $0x2A, %al              # E0 2A / E0 36: "fake shifts" around grey keys
        je      kb_ignore
        cmp     $0x36, %al
        je      kb_ignore
1:      cmp     $0x2A, %al
        jne     1f
        orb     $KF_LSHIFT, BDA_KB_FLAGS
        ret
1:      cmp     $0x36, %al
        jne     1f
        orb     $KF_RSHIFT, BDA_KB_FLAGS
        ret
1:      cmp     $0x1D, %al
        jne     1f
        orb     $KF_CTRL, BDA_KB_FLAGS
        ret
1:      cmp     $0x38, %al
        jne     1f
        orb     $KF_ALT, BDA_KB_FLAGS
        ret
1:      mov     $KF_CAPS | (KF1_CAPS_DOWN << 8), %bx
        cmp     $0x3A, %al
        je      kb_toggle
        mov     $KF_NUM | (KF1_NUM_DOWN << 8), %bx
        cmp     $0x45, %al
        je      kb_toggle
        mov     $KF_SCROLL | (KF1_SCROLL_DOWN << 8), %bx
        cmp     $0x46, %al
        je      kb_toggle
        cmp     $SC_LAST_KEY, %al
        ja      kb_ignore
        test    $KF3_E0, %ah
        jnz     kb_grey_key
        cmp     $0x52, %al              # Insert toggles its flag and is also a key
        jne     1f
        xorb    $KF_INSERT, BDA_KB_FLAGS
1:      jmp     kb_translate

# Lock keys: BL = the flag at 40:17, BH = its "held" bit at 40:18.
kb_toggle:
        test    %bh, BDA_KB_FLAGS1
        jnz     kb_ignore               # typematic repeat of a held lock key
        or      %bh, BDA_KB_FLAGS1
        xor     %bl, BDA_KB_FLAGS
kb_ignore:
        ret

kb_break:
        and     $0x7F, %al
        cmp     $0x2A, %al
        jne     1f
        test    $KF3_E0, %ah
        jnz     kb_ignore
        andb    $~KF_LSHIFT, BDA_KB_FLAGS
        ret
1:      cmp     $0x36, %al
        jne     1f
        test    $KF3_E0, %ah
        jnz     kb_ignore
        andb    $~KF_RSHIFT, BDA_KB_FLAGS
        ret
1:      cmp     $0x1D, %al
        jne     1f
        andb    $~KF_CTRL, BDA_KB_FLAGS
        ret
1:      cmp     $0x38, %al
        jne     1f
        andb    $~KF_ALT, BDA_KB_FLAGS
        ret
1:      cmp     $0x3A, %al
        jne     1f
        andb    $~KF1_CAPS_DOWN, BDA_KB_FLAGS1
        ret
1:      cmp     $0x45, %al
        jne     1f
        andb    $~KF1_NUM_DOWN, BDA_KB_FLAGS1
        ret
1:      cmp     $0x46, %al
        jne     kb_ignore
        andb    $~KF1_SCROLL_DOWN, BDA_KB_FLAGS1
        ret

# The grey keys after E0 (arrows, Home, Insert, ..., keypad Enter and /):
# their scan code with no ASCII, except Enter (CR) and / (RBIL INT 16h
# AH=10h returns E0h in AL for these; virtscope returns the AH=00h form).
kb_grey_key:
        mov     %al, %ah
        xor     %al, %al
        cmp     $0x1C, %ah
        jne     1f
        mov     $0x0D, %al
1:      cmp     $0x35, %ah
        jne     kb_store
        mov     $'/', %al
        jmp     kb_store

# AL = make code 01h-58h -> (scan << 8) | ASCII, through the two tables:
# Shift (or Caps Lock for letters, Num Lock for the keypad) selects the
# shifted table; Ctrl makes letters control codes 01h-1Ah; Alt leaves no
# ASCII. F1-F10 with Shift/Ctrl/Alt take the scan codes 54h-71h.
kb_translate:
        movzbw  %al, %bx
        mov     BDA_KB_FLAGS, %cl
        xor     %ch, %ch                # CH = 1: use the shifted table
        test    $KF_LSHIFT | KF_RSHIFT, %cl
        jz      1f
        inc     %ch
1:      mov     %cs:kb_normal(%bx), %dl
        cmp     $'a', %dl
        jb      1f
        cmp     $'z', %dl
        ja      1f
        test    $KF_CAPS, %cl
        jz      2f
        xor     $1, %ch
        jmp     2f
1:      cmp     $0x47, %al              # keypad 7 .. keypad .
        jb      2f
        cmp     $0x53, %al
        ja      2f
        test    $KF_NUM, %cl
        jz      2f
        xor     $1, %ch
2:      test    %ch, %ch
        jz      1f
        mov     %cs:kb_shifted(%bx), %dl
1:      mov     %al, %ah                # AH = scan code, AL = ASCII
        mov     %dl, %al
        cmp     $0x3B, %ah              # F1-F10
        jb      3f
        cmp     $0x44, %ah
        ja      3f
        test    $KF_ALT, %cl
        jz      1f
        add     $0x68 - 0x3B, %ah
        jmp     kb_store
1:      test    $KF_CTRL, %cl
        jz      1f
        add     $0x5E - 0x3B, %ah
        jmp     kb_store
1:      test    $KF_LSHIFT | KF_RSHIFT, %cl
        jz      kb_store
        add     $0x54 - 0x3B, %ah
        jmp     kb_store
3:      test    $KF_ALT, %cl
        jz      1f
        xor     %al, %al
        jmp     kb_store
1:      test    $KF_CTRL, %cl
        jz      kb_store
        mov     %al, %dl                # Ctrl+letter: 01h-1Ah
        or      $0x20, %dl
        cmp     $'a', %dl
        jb      kb_store
        cmp     $'z', %dl
        ja      kb_store
        and     $0x1F, %al
        # fall through

# AX = keystroke -> the BDA ring at 40:80-40:82, head 40:1A, tail 40:1C.
# A full ring drops the key (the PC/AT beeps).
kb_store:
        mov     BDA_KB_TAIL, %bx
        lea     2(%bx), %si
        cmp     BDA_KB_END, %si
        jb      1f
        mov     BDA_KB_START, %si
1:      cmp     BDA_KB_HEAD, %si
        je      2f
        mov     %ax, (%bx)
        mov     %si, BDA_KB_TAIL
2:      ret

# Set-1 make code -> ASCII without and with Shift (0: no ASCII).
kb_normal:
        .byte   0, 0x1B
        .ascii  "1234567890-="
        .byte   0x08, 0x09
        .ascii  "qwertyuiop[]"
        .byte   0x0D, 0
        .ascii  "asdfghjkl;'`"
        .byte   0
        .ascii  "\\zxcvbnm,./"
        .byte   0, '*', 0, ' ', 0
        .byte   0, 0, 0, 0, 0, 0, 0, 0, 0, 0            # F1-F10
        .byte   0, 0                                    # Num Lock, Scroll Lock
        .byte   0, 0, 0, '-', 0, 0, 0, '+', 0, 0, 0, 0, 0   # keypad 47-53
        .byte   0, 0, '\\', 0, 0                        # 54-58 (56: 102nd key)
kb_shifted:
        .byte   0, 0x1B
        .ascii  "!@#$%^&*()_+"
        .byte   0x08, 0
        .ascii  "QWERTYUIOP{}"
        .byte   0x0D, 0
        .ascii  "ASDFGHJKL:\"~"
        .byte   0
        .ascii  "|ZXCVBNM<>?"
        .byte   0, '*', 0, ' ', 0
        .byte   0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        .byte   0, 0
        .ascii  "789-456+1230."
        .byte   0, 0, '|', 0, 0
kb_tables_end:
        .if     kb_shifted - kb_normal != SC_LAST_KEY + 1
        .error  "kb_normal must have one entry per make code 00h-58h"
        .endif
        .if     kb_tables_end - kb_shifted != SC_LAST_KEY + 1
        .error  "kb_shifted must have one entry per make code 00h-58h"
        .endif

# INT 16h. Implemented: AH = 00h/10h read a key (waiting), 01h/11h peek (ZF
# set: none), 02h/12h shift flags, 05h store a keystroke. Others return
# unchanged.
int16_keyboard:
        sti
        ENTER_FRAME
        cld
        DS_BDA
        mov     %ah, %bl
        and     $0xEF, %bl              # 10h-12h are the enhanced forms of 00h-02h
        cmp     $0x00, %bl
        je      kbd_read
        cmp     $0x01, %bl
        je      kbd_peek
        cmp     $0x02, %bl
        je      kbd_flags
        cmp     $0x05, %ah
        je      kbd_push
        LEAVE_FRAME

# Wait for a key: with interrupts on, HLT until IRQ1 has filled the ring.
# CLI between the test and STI;HLT closes the window in which a key could
# arrive unseen (STI takes effect after the next instruction).
kbd_read:
        cli
        mov     BDA_KB_HEAD, %bx
        cmp     BDA_KB_TAIL, %bx
        jne     1f
        sti
        hlt
        jmp     kbd_read
1:      mov     (%bx), %ax
        mov     %ax, F_AX(%bp)
        add     $2, %bx
        cmp     BDA_KB_END, %bx
        jb      2f
        mov     BDA_KB_START, %bx
2:      mov     %bx, BDA_KB_HEAD
        sti
        LEAVE_FRAME

kbd_peek:
        cli
        mov     BDA_KB_HEAD, %bx
        cmp     BDA_KB_TAIL, %bx
        je      1f
        mov     (%bx), %ax
        mov     %ax, F_AX(%bp)
        andw    $~FLAG_ZF, F_FLAGS(%bp)
        sti
        LEAVE_FRAME
1:      orw     $FLAG_ZF, F_FLAGS(%bp)
        sti
        LEAVE_FRAME

# AL = 40:17; for AH=12h also AH = Ctrl/Alt and lock keys held (40:18).
kbd_flags:
        mov     BDA_KB_FLAGS, %al
        mov     %al, F_AL(%bp)
        cmp     $0x12, %ah
        jne     1f
        mov     BDA_KB_FLAGS1, %al
        and     $0x70, %al
        mov     BDA_KB_FLAGS, %ah
        and     $KF_CTRL | KF_ALT, %ah  # bits 2-3 -> "left Ctrl/Alt" bits 0-1 approximated
        shr     $2, %ah
        or      %ah, %al
        mov     %al, F_AH(%bp)
1:      LEAVE_FRAME

# AH=05h: CX = keystroke. Returns AL = 0 stored, 1 ring full.
kbd_push:
        cli
        mov     BDA_KB_TAIL, %bx
        lea     2(%bx), %si
        cmp     BDA_KB_END, %si
        jb      1f
        mov     BDA_KB_START, %si
1:      movb    $1, F_AL(%bp)
        cmp     BDA_KB_HEAD, %si
        je      2f
        mov     %cx, (%bx)
        mov     %si, BDA_KB_TAIL
        movb    $0, F_AL(%bp)
2:      sti
        LEAVE_FRAME
