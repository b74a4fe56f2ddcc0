# A Multiboot kernel for the command-line tests: a serial console. It echoes
# every byte received on COM1 with letters upper-cased (so the test can tell
# the guest's echo from a terminal's), turns the '\r' a terminal sends for
# Enter into '\n', and on 'q' exits through isa-debug-exit with status 5
# (process exit status (5 << 1) | 1 = 11). It polls the 16550A's line status
# register: bit 0 data ready, bit 5 transmit holding register empty.
        .code32
        .set    COM1, 0x3F8
        .set    EXIT, 0xF4

        .globl  _start
        .align  4
header: .long   0x1BADB002
        .long   0x00000003
        .long   -(0x1BADB002 + 0x00000003)
_start:
        mov     $0x90000, %esp
        mov     $'>', %al
        call    putc
loop:   mov     $COM1 + 5, %dx
1:      inb     %dx, %al
        testb   $0x01, %al
        jz      1b
        mov     $COM1, %dx
        inb     %dx, %al
        cmp     $'q', %al
        je      quit
        cmp     $'\r', %al
        jne     2f
        mov     $'\n', %al
2:      cmp     $'a', %al
        jb      3f
        cmp     $'z', %al
        ja      3f
        sub     $0x20, %al
3:      call    putc
        jmp     loop

quit:   movb    $5, %al
        outb    %al, $EXIT
        hlt

putc:   mov     %al, %cl
        mov     $COM1 + 5, %dx
1:      inb     %dx, %al
        testb   $0x20, %al
        jz      1b
        mov     $COM1, %dx
        mov     %cl, %al
        outb    %al, %dx
        ret
