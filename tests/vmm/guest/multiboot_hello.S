# A Multiboot (v1) kernel for the Machine's tests: checks the boot state the
# Multiboot specification promises (§3.2), prints its command line on COM1
# and a word on the VGA text screen, then exits through isa-debug-exit with
# status 0x21 (process exit status (0x21 << 1) | 1 = 67).
        .code32
        .set    COM1, 0x3F8
        .set    EXIT, 0xF4

        .section .text
        .globl  _start
        .align  4
header: .long   0x1BADB002              # magic
        .long   0x00000003              # flags: page-aligned modules, memory info
        .long   -(0x1BADB002 + 0x00000003)
_start:
        cmpl    $0x2BADB002, %eax       # the loader's magic
        jne     fail
        mov     %ebx, %esi              # the Multiboot information structure
        testl   $1, (%esi)              # flags bit 0: mem_lower/mem_upper valid
        jz      fail
        cmpl    $640, 4(%esi)
        jne     fail
        testl   $4, (%esi)              # flags bit 2: cmdline valid
        jz      fail
        mov     $0x90000, %esp

        mov     $banner, %ebx
        call    puts
        mov     16(%esi), %ebx          # the command line
        call    puts
        mov     $newline, %ebx
        call    puts

        movl    $0x1F4B1F4F, 0xB8000    # "OK", white on blue, top-left
        movb    $0x21, %al
        outb    %al, $EXIT
        hlt                             # not reached: the machine stops on the write

fail:   movb    $0x7F, %al
        outb    %al, $EXIT
        hlt

# puts: print the zero-terminated string at EBX on COM1, polling the line
# status register's "transmit holding register empty" bit (16550A LSR bit 5).
puts:   movb    (%ebx), %cl
        test    %cl, %cl
        jz      2f
        mov     $COM1 + 5, %dx
1:      inb     %dx, %al
        testb   $0x20, %al
        jz      1b
        mov     $COM1, %dx
        mov     %cl, %al
        outb    %al, %dx
        inc     %ebx
        jmp     puts
2:      ret

banner: .asciz  "multiboot: "
newline: .asciz "\n"
