# A Multiboot kernel that sleeps on the timer: its own GDT and IDT, the 8259
# pair remapped to vectors 0x20-0x2F, the 8254 at 100 Hz, then HLT until ten
# IRQ0 ticks have arrived. Exits through isa-debug-exit with the tick count
# (status (10 << 1) | 1 = 21). The test checks the virtual time it took.
        .include "kernel.inc"
        .set    EXIT, 0xF4

kernel_main:
        mov     $tick, %eax             # IDT entry 0x20: IRQ 0 after the remap
        mov     $0x20, %ebx
        call    set_gate

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

ticks:  .long   0
