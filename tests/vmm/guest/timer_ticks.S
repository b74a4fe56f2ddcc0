# A Multiboot kernel that sleeps on the timer: its own GDT and IDT, the 8259
# pair remapped to vectors 0x20-0x2F, the 8254 at 100 Hz, then HLT until ten
# IRQ0 ticks have arrived. Exits through isa-debug-exit with the tick count
# (status (10 << 1) | 1 = 21). The test checks the virtual time it took.
        .code32
        .set    EXIT, 0xF4

        .section .text
        .globl  _start
        .align  4
        .long   0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)
_start:
        mov     $0x90000, %esp
        lgdt    gdt_desc
        ljmp    $0x08, $1f
1:      mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss

        # IDT entry 0x20: a 32-bit interrupt gate to `tick`.
        mov     $tick, %eax
        mov     %ax, idt + 0x20 * 8
        movw    $0x08, idt + 0x20 * 8 + 2
        movw    $0x8E00, idt + 0x20 * 8 + 4
        shr     $16, %eax
        mov     %ax, idt + 0x20 * 8 + 6
        lidt    idt_desc

        # 8259A: ICW1 edge + ICW4, ICW2 vector base, ICW3 cascade, ICW4 8086 mode.
        mov     $0x11, %al
        outb    %al, $0x20
        outb    %al, $0xA0
        mov     $0x20, %al
        outb    %al, $0x21
        mov     $0x28, %al
        outb    %al, $0xA1
        mov     $0x04, %al
        outb    %al, $0x21
        mov     $0x02, %al
        outb    %al, $0xA1
        mov     $0x01, %al
        outb    %al, $0x21
        outb    %al, $0xA1
        mov     $0xFE, %al              # only IRQ0
        outb    %al, $0x21
        mov     $0xFF, %al
        outb    %al, $0xA1

        # 8254 channel 0, mode 2 (rate generator), 1193182 / 11932 = 100 Hz.
        mov     $0x34, %al
        outb    %al, $0x43
        mov     $11932 & 0xFF, %al
        outb    %al, $0x40
        mov     $11932 >> 8, %al
        outb    %al, $0x40

        sti
wait:   hlt
        cmpl    $10, ticks
        jb      wait
        cli
        mov     ticks, %eax
        outb    %al, $EXIT
        hlt

tick:   incl    ticks
        push    %eax
        mov     $0x20, %al              # non-specific EOI
        outb    %al, $0x20
        pop     %eax
        iret

        .align  8
gdt:    .quad   0
        .quad   0x00CF9A000000FFFF      # 0x08: flat 32-bit code, DPL 0
        .quad   0x00CF92000000FFFF      # 0x10: flat 32-bit data, DPL 0
gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   gdt
idt_desc:
        .word   256 * 8 - 1
        .long   idt
ticks:  .long   0
        .align  8
idt:    .fill   256 * 8, 1, 0
