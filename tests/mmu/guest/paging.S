# Guest program for the MMU tests: turns on 32-bit paging and checks what the
# processor does with it (Intel SDM Vol. 3A ch. 4). Loaded at 0x10000 and
# entered in flat 32-bit protected mode at ring 0 with paging off and EAX =
# the scenario to run (0 = all of them in order). It reports through the
# isa-debug-exit port 0xF4: 0 when every check passed, else the number of the
# first check that failed (0xSN: scenario S, check N; 0xEE an unexpected
# exception, 0xEF an unknown scenario). Then CLI; HLT.
#
# Memory (physical = linear in the identity-mapped low 4 MiB):
#   0x02000 IDT, 0x03000 TSS, 0x05000 variables, 0x0E000 ring-0 stack for
#   faults from ring 3, 0x0F000 kernel stack, 0x10000 this program,
#   0x20000 page directory, 0x21000 a second one, 0x22000 the identity page
#   table, 0x23000 the page table for linear 4-8 MiB ("HIGH"), 0x24000 the
#   second directory's table for HIGH, 0x30000/0x31000/0x32000 data pages
#   A/B/C with markers, 0x48000 top of the user stack.

        .intel_syntax noprefix
        .set EXIT_PORT, 0xF4
        .set IDT, 0x2000
        .set TSS, 0x3000
        .set KSTACK, 0xF000
        .set KSTACK_RING3, 0xE000
        .set USTACK, 0x48000
        .set PD, 0x20000
        .set PD2, 0x21000
        .set PT_ID, 0x22000
        .set PT_HIGH, 0x23000
        .set PT_ALT, 0x24000
        .set PAGE_A, 0x30000
        .set PAGE_B, 0x31000
        .set PAGE_C, 0x32000
        .set MARKER_A, 0xAAAA0001
        .set MARKER_B, 0xBBBB0002
        .set MARKER_C, 0xCCCC0003
        .set HIGH, 0x400000            # linear 4 MiB: served by PT_HIGH
        .set LARGE, 0x800000           # linear 8 MiB: the 4 MiB page scenario
        .set SCENARIO_COUNT, 7
        # Entry bits (SDM Vol. 3A Table 4-6): P, R/W, U/S, A, D, PS, G.
        .set P, 1
        .set RW, 2
        .set US, 4
        .set ACCESSED, 0x20
        .set DIRTY, 0x40
        .set PS, 0x80
        .set GLOBAL, 0x100
        .set CR0_PG, 0x80000000
        .set CR0_WP, 0x10000
        .set CR4_PSE, 0x10
        .set CR4_PGE, 0x80
        # Variables.
        .set pf_count, 0x5000          # #PF handled
        .set pf_error, 0x5004          # last error code pushed
        .set pf_cr2, 0x5008            # last CR2
        .set pf_hook, 0x500C           # nonzero: call it, then IRET (restart the access)
        .set pf_esp, 0x5010            # else: continue at pf_resume with ESP = pf_esp
        .set pf_resume, 0x5014
        .set user_read, 0x5018

# Fail with `code` unless the last comparison was equal (or nonzero).
.macro check code
        je      1f
        mov     eax, \code
        jmp     fail
1:
.endm
.macro check_nz code
        jne     1f
        mov     eax, \code
        jmp     fail
1:
.endm
# The next #PF (or INT 0x80) continues at `resume` with the current ESP.
.macro expect_fault resume
        mov     dword ptr [pf_esp], esp
        mov     dword ptr [pf_resume], offset \resume
.endm
# Run `entry` at CPL 3; a #PF or INT 0x80 brings the kernel back at `resume`.
# DS/ES get user selectors first: IRET to ring 3 nulls the others.
.macro to_user entry, resume
        mov     ax, 0x23
        mov     ds, ax
        mov     es, ax
        expect_fault \resume
        push    0x23
        push    USTACK
        push    0x002
        push    0x1B
        push    offset \entry
        iret
.endm

        .code32
        .globl _start
_start:
        mov     ebp, eax                # the scenario the test asked for
        lgdt    [gdt_ptr]
        ljmp    0x08, offset reload
reload: call    kernel_segments
        mov     esp, KSTACK
        call    setup_idt
        mov     dword ptr [TSS + 4], KSTACK_RING3   # ESP0
        mov     dword ptr [TSS + 8], 0x10           # SS0
        mov     word ptr [TSS + 0x66], 0x68         # no I/O bitmap
        mov     ax, 0x28
        ltr     ax
        mov     eax, 0xEF
        cmp     ebp, SCENARIO_COUNT
        ja      report
        call    dword ptr [scenarios + ebp * 4]
report: mov     dx, EXIT_PORT
        out     dx, eax
        cli
        hlt
fail:   mov     esp, KSTACK
        jmp     report

kernel_segments:
        mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     fs, ax
        mov     gs, ax
        ret

run_all:
        mov     ebp, 1
1:      call    dword ptr [scenarios + ebp * 4]
        inc     ebp
        cmp     ebp, SCENARIO_COUNT
        jbe     1b
        xor     eax, eax
        ret

# ------------------------------------------------------------ set-up ----
setup_idt:                              # every vector unexpected, but #PF and INT 0x80
        xor     ecx, ecx
1:      mov     eax, offset unexpected
        mov     bl, 0x8E                # present, DPL 0, 32-bit interrupt gate
        call    set_gate
        inc     ecx
        cmp     ecx, 256
        jb      1b
        mov     ecx, 14
        mov     eax, offset pf_handler
        call    set_gate
        mov     ecx, 0x80
        mov     eax, offset back_to_kernel
        mov     bl, 0xEE                # DPL 3: user code may INT 0x80
        call    set_gate
        lidt    [idt_ptr]
        ret

set_gate:                               # ECX = vector, EAX = handler, BL = type byte
        lea     edi, [IDT + ecx * 8]
        mov     word ptr [edi], ax
        mov     word ptr [edi + 2], 0x08
        mov     byte ptr [edi + 4], 0
        mov     byte ptr [edi + 5], bl
        shr     eax, 16
        mov     word ptr [edi + 6], ax
        ret

# Paging off, fresh tables: the low 4 MiB identity-mapped (user, writable;
# page 0 absent), HIGH through PT_HIGH (empty), CR3 = PD, CR4 = 0, WP = 0.
build_tables:
        mov     eax, cr0
        and     eax, ~(CR0_PG | CR0_WP)
        mov     cr0, eax
        xor     eax, eax
        mov     cr4, eax
        mov     edi, PD
        mov     ecx, 5 * 1024
        cld
        rep stosd
        mov     edi, PT_ID + 4
        mov     eax, 0x1000 | P | RW | US
        mov     ecx, 1023
1:      stosd
        add     eax, 0x1000
        loop    1b
        mov     dword ptr [PD], PT_ID | P | RW | US
        mov     dword ptr [PD + 4], PT_HIGH | P | RW | US
        mov     dword ptr [PD2], PT_ID | P | RW | US
        mov     dword ptr [PD2 + 4], PT_ALT | P | RW | US
        mov     dword ptr [PT_ALT], PAGE_B | P | RW
        mov     dword ptr [PAGE_A], MARKER_A
        mov     dword ptr [PAGE_B], MARKER_B
        mov     dword ptr [PAGE_C + 0x10], MARKER_C
        mov     dword ptr [PAGE_A + 8], 0
        mov     dword ptr [pf_count], 0
        mov     dword ptr [pf_hook], 0
        mov     dword ptr [pf_error], -1
        mov     dword ptr [pf_cr2], 0
        mov     eax, PD
        mov     cr3, eax
        ret

paging_on:
        mov     eax, cr0
        or      eax, CR0_PG
        mov     cr0, eax
        ret

# ----------------------------------------------------------- handlers ----
pf_handler:                             # #PF: record error code and CR2
        push    eax
        mov     eax, [esp + 4]
        mov     [pf_error], eax
        mov     eax, cr2
        mov     [pf_cr2], eax
        inc     dword ptr [pf_count]
        mov     eax, [pf_hook]
        test    eax, eax
        jz      1f
        call    eax                     # the hook fixes the tables ...
        pop     eax
        add     esp, 4                  # ... and the faulting access runs again
        iret
1:      mov     esp, [pf_esp]
        jmp     dword ptr [pf_resume]

back_to_kernel:                         # INT 0x80 from ring 3
        mov     esp, [pf_esp]
        jmp     dword ptr [pf_resume]

unexpected:
        mov     eax, 0xEE
        jmp     fail

# ---------------------------------------------------------- scenarios ----
# 1: a page mapped elsewhere, accessed and dirty bits.
s_remap:
        call    build_tables
        call    paging_on
        mov     dword ptr [PT_HIGH], PAGE_A | P | RW
        cmp     dword ptr [HIGH], MARKER_A
        check   0x11
        mov     dword ptr [HIGH + 4], 0x12345678
        cmp     dword ptr [PAGE_A + 4], 0x12345678  # the same frame through the identity map
        check   0x12
        mov     eax, [PT_HIGH]
        and     eax, ACCESSED | DIRTY
        cmp     eax, ACCESSED | DIRTY
        check   0x13
        test    dword ptr [PD + 4], ACCESSED
        check_nz 0x14
        # Reading sets A only; the first write through the same entry sets D.
        mov     dword ptr [PT_HIGH + 4], PAGE_B | P | RW
        cmp     dword ptr [HIGH + 0x1000], MARKER_B
        check   0x15
        mov     eax, [PT_HIGH + 4]
        and     eax, ACCESSED | DIRTY
        cmp     eax, ACCESSED
        check   0x16
        mov     dword ptr [HIGH + 0x1008], 1
        mov     eax, [PT_HIGH + 4]
        and     eax, ACCESSED | DIRTY
        cmp     eax, ACCESSED | DIRTY
        check   0x17
        xor     eax, eax
        ret

# 2: a #PF handler that reads CR2 and the error code and maps the page on demand.
s_page_fault:
        call    build_tables
        call    paging_on
        mov     dword ptr [pf_hook], offset map_on_demand
        mov     eax, [HIGH + 0x2010]    # not present: #PF, mapped, the MOV runs again
        cmp     eax, MARKER_C
        check   0x21
        cmp     dword ptr [pf_count], 1
        check   0x22
        cmp     dword ptr [pf_cr2], HIGH + 0x2010
        check   0x23
        cmp     dword ptr [pf_error], 0 # read, supervisor, not present
        check   0x24
        mov     dword ptr [pf_hook], 0
        expect_fault s_page_fault.write
        mov     dword ptr [HIGH + 0x3000], 1
        mov     eax, 0x25
        jmp     fail
s_page_fault.write:
        cmp     dword ptr [pf_error], 2 # write, supervisor, not present
        check   0x26
        cmp     dword ptr [pf_cr2], HIGH + 0x3000
        check   0x27
        xor     eax, eax
        ret

map_on_demand:                          # #PF hook: back CR2's page of HIGH with page C
        mov     eax, cr2
        shr     eax, 12
        and     eax, 0x3FF
        mov     dword ptr [PT_HIGH + eax * 4], PAGE_C | P | RW
        ret

# 3: a changed PTE is not seen until INVLPG drops the cached translation.
s_invlpg:
        call    build_tables
        call    paging_on
        mov     dword ptr [PT_HIGH], PAGE_A | P | RW
        cmp     dword ptr [HIGH], MARKER_A
        check   0x31
        mov     dword ptr [PT_HIGH], PAGE_B | P | RW
        cmp     dword ptr [HIGH], MARKER_A  # still the cached (stale) translation
        check   0x32
        invlpg  [HIGH]
        cmp     dword ptr [HIGH], MARKER_B
        check   0x33
        xor     eax, eax
        ret

# 4: CR3 switches address spaces; global pages survive the switch.
s_cr3:
        call    build_tables
        mov     eax, CR4_PGE
        mov     cr4, eax
        call    paging_on
        mov     dword ptr [PT_HIGH], PAGE_A | P | RW
        cmp     dword ptr [HIGH], MARKER_A
        check   0x41
        mov     eax, PD2                # PD2 maps HIGH to page B
        mov     cr3, eax
        cmp     dword ptr [HIGH], MARKER_B
        check   0x42
        mov     eax, PD
        mov     cr3, eax
        cmp     dword ptr [HIGH], MARKER_A
        check   0x43
        mov     dword ptr [PT_HIGH + 4], PAGE_A | P | RW | GLOBAL
        cmp     dword ptr [HIGH + 0x1000], MARKER_A
        check   0x44
        mov     dword ptr [PT_HIGH + 4], PAGE_B | P | RW | GLOBAL
        mov     dword ptr [PT_HIGH], PAGE_B | P | RW
        mov     eax, cr3
        mov     cr3, eax
        cmp     dword ptr [HIGH + 0x1000], MARKER_A # global: the old translation stays
        check   0x45
        cmp     dword ptr [HIGH], MARKER_B          # not global: walked again
        check   0x46
        invlpg  [HIGH + 0x1000]
        cmp     dword ptr [HIGH + 0x1000], MARKER_B
        check   0x47
        xor     eax, eax
        ret

# 5: a 4 MiB page (CR4.PSE), and a reserved bit in a 4 MiB PDE.
s_large:
        mov     eax, 1
        cpuid
        test    edx, 1 << 3             # CPUID.1:EDX.PSE
        check_nz 0x51
        test    edx, 1 << 13            # CPUID.1:EDX.PGE
        check_nz 0x52
        call    build_tables
        mov     eax, CR4_PSE
        mov     cr4, eax
        call    paging_on
        mov     dword ptr [PD + 8], 0 | PS | P | RW   # linear 8-12 MiB -> physical 0-4 MiB
        cmp     dword ptr [LARGE + PAGE_A], MARKER_A
        check   0x53
        mov     dword ptr [LARGE + PAGE_C + 8], 0x5555
        cmp     dword ptr [PAGE_C + 8], 0x5555
        check   0x54
        mov     eax, [PD + 8]
        and     eax, ACCESSED | DIRTY
        cmp     eax, ACCESSED | DIRTY
        check   0x55
        # Without PSE-36, bits 21:13 of a 4 MiB PDE are reserved.
        mov     dword ptr [PD + 12], 0x400000 | 0x2000 | PS | P | RW
        expect_fault s_large.reserved
        mov     eax, [LARGE + 0x400010]
        mov     eax, 0x56
        jmp     fail
s_large.reserved:
        cmp     dword ptr [pf_error], 9 # P | RSVD
        check   0x57
        cmp     dword ptr [pf_cr2], LARGE + 0x400010
        check   0x58
        xor     eax, eax
        ret

# 6: CR0.WP decides whether the supervisor may write a read-only page.
s_wp:
        call    build_tables
        call    paging_on
        mov     dword ptr [PT_HIGH], PAGE_A | P   # read-only, supervisor
        mov     dword ptr [HIGH + 8], 0x77        # WP = 0: allowed
        cmp     dword ptr [PAGE_A + 8], 0x77
        check   0x61
        mov     eax, cr0
        or      eax, CR0_WP
        mov     cr0, eax
        expect_fault s_wp.faulted
        mov     dword ptr [HIGH + 8], 0x88
        mov     eax, 0x62
        jmp     fail
s_wp.faulted:
        cmp     dword ptr [pf_error], 3 # P | W
        check   0x63
        cmp     dword ptr [pf_cr2], HIGH + 8
        check   0x64
        cmp     dword ptr [PAGE_A + 8], 0x77      # the write did not happen
        check   0x65
        mov     eax, cr0
        and     eax, ~CR0_WP
        mov     cr0, eax
        mov     dword ptr [HIGH + 8], 0x99
        cmp     dword ptr [PAGE_A + 8], 0x99
        check   0x66
        xor     eax, eax
        ret

# 7: ring 3 needs U/S = 1 to touch a page and R/W = 1 to write it.
s_user:
        call    build_tables
        call    paging_on
        mov     dword ptr [PT_HIGH], PAGE_A | P | RW      # supervisor page
        mov     dword ptr [PT_HIGH + 4], PAGE_B | P | US  # user, read-only
        mov     dword ptr [PT_HIGH + 8], PAGE_C | P | RW | US
        mov     dword ptr [user_read], 0
        to_user user_reads, s_user.back1
s_user.back1:
        call    kernel_segments
        cmp     dword ptr [user_read], MARKER_B
        check   0x71
        cmp     dword ptr [pf_error], 5 # P | U: a supervisor page
        check   0x72
        cmp     dword ptr [pf_cr2], HIGH
        check   0x73
        to_user user_writes, s_user.back2
s_user.back2:
        call    kernel_segments
        cmp     dword ptr [pf_error], 7 # P | W | U: a read-only page
        check   0x74
        cmp     dword ptr [pf_cr2], HIGH + 0x1004
        check   0x75
        mov     dword ptr [pf_error], -1
        to_user user_writes_ok, s_user.back3
s_user.back3:
        call    kernel_segments
        cmp     dword ptr [pf_error], -1
        check   0x76
        cmp     dword ptr [PAGE_C + 0x20], 0x4242
        check   0x77
        xor     eax, eax
        ret

user_reads:                             # CPL 3
        mov     eax, [HIGH + 0x1000]
        mov     [user_read], eax
        mov     eax, [HIGH]             # #PF
        int     0x80
user_writes:
        mov     dword ptr [HIGH + 0x1004], 1  # #PF
        int     0x80
user_writes_ok:
        mov     dword ptr [HIGH + 0x2020], 0x4242
        int     0x80

# --------------------------------------------------------------- data ----
        .p2align 3
gdt:    .quad 0
        .quad 0x00CF9A000000FFFF        # 0x08 code, ring 0
        .quad 0x00CF92000000FFFF        # 0x10 data, ring 0
        .quad 0x00CFFA000000FFFF        # 0x18 code, ring 3
        .quad 0x00CFF2000000FFFF        # 0x20 data, ring 3
        .quad 0x0000890030000067        # 0x28 32-bit TSS at 0x3000
gdt_end:
gdt_ptr:.word gdt_end - gdt - 1
        .long gdt
idt_ptr:.word 256 * 8 - 1
        .long IDT
        .p2align 2
scenarios:
        .long run_all, s_remap, s_page_fault, s_invlpg, s_cr3, s_large, s_wp, s_user
