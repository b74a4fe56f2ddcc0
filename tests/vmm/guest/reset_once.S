# A boot sector that reboots the PC once through the 8042's reset line
# (command 0xFE to port 0x64) and, booted again, finds the mark it left in
# RAM (a reset keeps RAM) and exits through isa-debug-exit with 0x42
# (status (0x42 << 1) | 1 = 133).
        .code16
        .globl  _start
_start:
        xor     %ax, %ax
        mov     %ax, %ds
        cmpl    $0x54455352, 0x8000     # "RSET": left by the first boot?
        je      second
        movl    $0x54455352, 0x8000
        mov     $0xFE, %al              # pulse the CPU reset line
        outb    %al, $0x64
1:      hlt
        jmp     1b
second:
        mov     $0x42, %al
        outb    %al, $0xF4
        hlt
        .org    510
        .word   0xAA55
