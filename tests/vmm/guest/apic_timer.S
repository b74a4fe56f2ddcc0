# A Multiboot kernel that takes its interrupts through the APICs, as SMP-era
# kernels (xv6 among them) do: the 8259 pair masked, the local APIC timer
# periodic at 100 Hz on vector 0x40, and the 8254's IRQ 0 routed by the
# IOAPIC (pin 2, as the MP table says) to vector 0x41. It sleeps until five
# of each have arrived, then exits through isa-debug-exit with 0x55
# (status (0x55 << 1) | 1 = 171). Intel SDM Vol. 3 ch. 10; 82093AA datasheet.
        .include "kernel.inc"
        .set    EXIT, 0xF4
        .set    LAPIC, 0xFEE00000
        .set    IOAPIC, 0xFEC00000

kernel_main:
        mov     $lapic_tick, %eax
        mov     $0x40, %ebx
        call    set_gate
        mov     $pit_tick, %eax
        mov     $0x41, %ebx
        call    set_gate

        mov     $0xFF, %al              # mask both 8259s: the APICs deliver
        outb    %al, $0x21
        outb    %al, $0xA1

        movl    $0x1FF, LAPIC + 0xF0    # SVR: APIC on, spurious vector 0xFF
        movl    $0x0B, LAPIC + 0x3E0    # divide by 1
        movl    $0x20040, LAPIC + 0x320 # LVT timer: periodic, vector 0x40
        movl    $1000000, LAPIC + 0x380 # initial count: 10 ms at a 100 MHz bus

        movl    $0x14, IOAPIC           # redirection entry 2, low half
        movl    $0x41, IOAPIC + 0x10    # vector 0x41, fixed, edge, unmasked
        movl    $0x15, IOAPIC           # high half: destination APIC 0
        movl    $0, IOAPIC + 0x10

        mov     $0x34, %al              # 8254 channel 0, mode 2, 100 Hz
        outb    %al, $0x43
        mov     $11932 & 0xFF, %al
        outb    %al, $0x40
        mov     $11932 >> 8, %al
        outb    %al, $0x40

        sti
wait:   hlt
        cmpl    $5, lapic_ticks
        jb      wait
        cmpl    $5, pit_ticks
        jb      wait
        cli
        mov     $0x55, %al
        outb    %al, $EXIT
        hlt

lapic_tick:
        incl    lapic_ticks
        movl    $0, LAPIC + 0xB0        # EOI
        iret
pit_tick:
        incl    pit_ticks
        movl    $0, LAPIC + 0xB0
        iret

lapic_ticks: .long 0
pit_ticks:   .long 0
