# The interpreter benchmark's guest: a fixed loop of integer ALU operations,
# loads, stores and branches (15 instructions per iteration, the taken/not
# taken mix of a typical inner loop). Entered in 32-bit flat protected mode
# with ECX = iterations, ESI = a 4 KiB data buffer; ends with HLT.
        .intel_syntax noprefix
        .code32
        .globl _start
_start:
        xor     eax, eax
        xor     ebx, ebx
        mov     edx, 1
loop:
        mov     edi, [esi + ebx * 4]            # load
        add     eax, edi
        xor     edx, eax
        lea     ebx, [ebx + 1]
        and     ebx, 255
        mov     [esi + ebx * 4 + 1024], edx     # store
        sub     edi, edx
        shl     edx, 1
        or      edx, 1
        cmp     eax, edx
        jb      1f
        inc     eax
1:      adc     eax, 3
        dec     ecx
        jnz     loop
        hlt
