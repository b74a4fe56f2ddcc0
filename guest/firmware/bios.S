# virtscope's PC BIOS: one 64 KiB ROM image for physical 0xF0000-0xFFFFF
# (the Machine also aliases it at 0xFFFF0000-0xFFFFFFFF).
#
# Layout (ROM offsets = IP values in segment F000):
#   0x0000 ...     code and tables of the files included below
#   0xFFF0         reset vector: the CPU starts at F000:FFF0 with CS base
#                  0xFFFF0000 (Intel SDM Vol. 3 §9.1.4), so the first
#                  instruction is a far jump that reloads CS = F000 and
#                  moves execution into the low alias.
#   0xFFF5         ROM date "MM/DD/YY" (IBM PC/AT Technical Reference, "System
#                  BIOS": F000:FFF5)
#   0xFFFE         model byte 0xFC = PC/AT (RBIL INT 15h AH=C0h, "Table 00515")
#
# Assembled with `as --32` and linked at 0 as a flat binary
# (guest/firmware/CMakeLists.txt). Each file holds one area: POST, video
# (INT 10h and the text-mode mechanics), keyboard, disk (INT 13h and the ATA
# layer), bootstrap, system services and the clock; defs.inc the constants.
        .code16
        .include "defs.inc"

        .section .text
        .globl  _start
_start:
rom_start:
        .include "post.S"
        .include "video.S"
        .include "textmode.S"
        .include "keyboard.S"
        .include "disk.S"
        .include "ata.S"
        .include "boot.S"
        .include "system.S"
        .include "clock.S"
rom_code_end:

        # Pad to the fixed tail (.org fails to assemble if the code above
        # ever grows into it).
        .org    0xFFF0, 0xFF
reset_vector:
        ljmp    $0xF000, $post          # 5 bytes: FFF0-FFF4
        .ascii  "01/01/26"              # FFF5-FFFC: ROM date
        .byte   0x00                    # FFFD
        .byte   0xFC                    # FFFE: model byte, PC/AT
        .byte   0x00                    # FFFF: submodel
