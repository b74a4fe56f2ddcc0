# The paging benchmarks' guest (virtscope bench mem|cr3|io). Entered in 32-bit
# flat protected mode, paging off, with EAX = which loop, ECX = iterations.
# It builds page tables identity-mapping the first 16 MiB with 4 KiB pages
# (page directory at 1 MiB, tables after it), turns paging on, then runs:
#   EAX = 0  mem:  sweep an 8 MiB buffer page by page (2048 pages, far more
#                  than the TLB holds), eight loads and stores per page
#   EAX = 1  cr3:  reload CR3 (a TLB flush) in a loop
#   EAX = 2  io:   OUT to port 0x80, which no device answers
#   EAX = 3  base: the same loop with nothing in it (subtracted by the app)
# The guest halts once after building the page tables (the host times only
# what follows) and again at the end.
        .code32
        .globl  _start
        .set    PD, 0x100000            # page directory
        .set    PT, 0x101000            # four page tables: 16 MiB
        .set    BUF, 0x400000
        .set    BUF_END, 0xC00000
_start:
        mov     %eax, %ebp              # the loop to run
        # Page tables: PTE i maps page i (present, writable).
        mov     $PT, %edi
        xor     %ebx, %ebx
1:      lea     3(%ebx), %edx
        mov     %edx, (%edi)
        add     $4, %edi
        add     $0x1000, %ebx
        cmp     $0x1000000, %ebx
        jb      1b
        # Page directory: four tables, the rest not present.
        mov     $PD, %edi
        mov     $PT + 3, %edx
        mov     $4, %ebx
2:      mov     %edx, (%edi)
        add     $0x1000, %edx
        add     $4, %edi
        dec     %ebx
        jnz     2b
        mov     $PD, %eax
        mov     %eax, %cr3
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
        jmp     3f
3:      hlt                             # set-up done: the host starts its clock here
        cmp     $1, %ebp
        je      cr3_loop
        cmp     $2, %ebp
        je      io_loop
        cmp     $3, %ebp
        je      base_loop

mem_loop:
        mov     $BUF, %esi
4:      mov     (%esi), %eax
        add     %ecx, %eax
        mov     %eax, 4(%esi)
        mov     64(%esi), %edx
        xor     %eax, %edx
        mov     %edx, 68(%esi)
        mov     128(%esi), %eax
        mov     %eax, 132(%esi)
        add     $0x1000, %esi
        cmp     $BUF_END, %esi
        jb      4b
        dec     %ecx
        jnz     mem_loop
        hlt

cr3_loop:
        mov     $PD, %eax
5:      mov     %eax, %cr3
        dec     %ecx
        jnz     5b
        hlt

io_loop:
        xor     %eax, %eax
6:      out     %al, $0x80
        dec     %ecx
        jnz     6b
        hlt

base_loop:
7:      nop
        dec     %ecx
        jnz     7b
        hlt
