// Wiring the PC: which device answers which ports and addresses, and where
// interrupt lines and the A20 gate lead (the IBM PC/AT layout).
#include "board.h"

namespace vs::vmm {

namespace {
devices::DebugExitConfig debug_exit_config(const MachineConfig& c) {
  devices::DebugExitConfig d;
  d.iobase = c.debug_exit_base;
  d.iosize = c.debug_exit_size;
  return d;
}
}  // namespace

Board::Board(const MachineConfig& config, trace::EventLog& log, BoardWiring w)
    : memory(config.ram_bytes),
      scheduler(w.clock),
      a20(w.a20),
      pic([this](bool level) { router.pic_intr(level); }, &log, &scheduler),
      lapic(scheduler, [this] { router.update(); }),
      ioapic(lapic),
      router(lapic, pic, w.intr),
      pit(scheduler, *this),
      cmos(scheduler, *this, config.ram_bytes),
      com1("com1", 0x3F8, 4, *this, scheduler, config.serial_out[0]),
      com2("com2", 0x2F8, 3, *this, scheduler, config.serial_out[1]),
      keyboard(*this, a20, w.reset),
      fast_a20(a20, w.reset),
      vga(scheduler),
      ata("ide0", *this, scheduler),
      debugcon(config.debugcon_out ? config.debugcon_out : [](uint8_t) {}),
      mmu(memory, log, w.clock, mmu::MmuConfig{config.tlb_entries}) {
  if (config.debug_exit)
    debug_exit = std::make_unique<devices::DebugExit>(w.guest_exit, &log, &scheduler, debug_exit_config(config));
  lapic.set_eoi_broadcast([this](uint8_t vector) { ioapic.eoi(vector); });
  lapic.set_bsp_virtual_wire_at_reset(true);  // as QEMU's PC (see apic.h)
  lapic.reset();
  com1.set_out2_gates_irq(false);  // as QEMU wires its 16550s (see uart.h)
  com2.set_out2_gates_irq(false);
  devices = {&pic, &lapic, &ioapic, &pit, &cmos, &com1, &com2, &keyboard, &fast_a20, &vga, &ata, &debugcon};
  if (debug_exit) devices.push_back(debug_exit.get());
}

bool Board::wire(std::string& error) {
  bool ok = ports.map(0x20, 0x21, pic) && ports.map(0xA0, 0xA1, pic) && ports.map(0x4D0, 0x4D1, pic) &&
            ports.map(0x40, 0x43, pit) && ports.map(0x61, 0x61, pit) && ports.map(0x70, 0x71, cmos) &&
            ports.map(0x3F8, 0x3FF, com1) && ports.map(0x2F8, 0x2FF, com2) && ports.map(0x60, 0x60, keyboard) &&
            ports.map(0x64, 0x64, keyboard) && ports.map(0x92, 0x92, fast_a20) &&
            ports.map(devices::DebugCon::kDefaultPort, devices::DebugCon::kDefaultPort, debugcon);
  for (const auto& r : devices::VgaText::kPortRanges) ok = ok && ports.map(r.first, r.last, vga);
  ok = ok && ports.map(0x1F0, 0x1F7, ata) && ports.map(0x3F6, 0x3F6, ata);
  ok = ok && memory.map_mmio(devices::VgaText::kWindowBase, devices::VgaText::kWindowSize, vga) &&
       memory.map_mmio(devices::IoApic::kBase, 0x1000, ioapic) && memory.map_mmio(devices::LocalApic::kBase, 0x1000, lapic);
  if (!ok) {
    error = "internal error: the PC's device map collides";
    return false;
  }
  if (debug_exit && !ports.map(debug_exit->first_port(), debug_exit->last_port(), *debug_exit)) {
    error = "isa-debug-exit at iobase " + std::to_string(debug_exit->first_port()) +
            " overlaps another device's ports";
    return false;
  }
  return true;
}

bool Board::attach_drives(const MachineConfig& config, std::string& error) {
  for (unsigned i = 0; i < 2; ++i) {
    if (config.drives[i].empty()) {
      if (i == 0 && !config.disk_image.empty()) ata.attach(0, std::make_unique<devices::MemoryDisk>(config.disk_image));
      continue;
    }
    auto disk = devices::FileDisk::open(config.drives[i], devices::FileDisk::Writes::ToFile, &error);
    if (!disk) return false;
    ata.attach(i, std::move(disk));
  }
  return true;
}

// Laid out as the IBM AT defined them and as QEMU's PC fills them, so a
// third-party BIOS (-bios: the Bochs BIOS, SeaBIOS) finds what it expects:
//   0x14  equipment: no floppy, VGA (bits 5:4 = 0), no x87 yet (bit 1 = 0)
//   0x12  hard-disk types: 0xF0 = disk 0 uses the extended type at 0x19,
//         0x0F = disk 1 at 0x1A; type 47 = "user defined", geometry below
//   0x1B-0x23 disk 0, 0x24-0x2C disk 1: cylinders (2 bytes), heads, write
//         precompensation 0xFFFF (none), control byte (0xC0, bit 3 = more
//         than 8 heads), landing zone (= cylinders), sectors per track
//   0x39  translation, 2 bits a disk: 0 = none (CHS as above), 1 = LBA
//   0x3D  boot order, a nibble a device, first in the low nibble: 2 = hard
//         disk (1 = floppy, 3 = CD-ROM); 0x38 bits 7:4 the third device
//   0x5F  processors minus one
void Board::configure_cmos() {
  cmos.set_byte(0x14, 0x00);
  uint8_t types = 0, translation = 0;
  for (unsigned i = 0; i < 2; ++i) {
    const devices::BlockBackend* disk = ata.disk(i);
    if (!disk) continue;
    const uint32_t cylinders = devices::AtaController::default_cylinders(disk->sectors());
    const uint8_t heads = devices::AtaController::kDefaultHeads;
    const uint8_t base = i == 0 ? 0x1B : 0x24;
    const uint8_t geometry[9] = {uint8_t(cylinders), uint8_t(cylinders >> 8), heads, 0xFF, 0xFF,
                                 uint8_t(0xC0 | (heads > 8 ? 0x08 : 0)), uint8_t(cylinders), uint8_t(cylinders >> 8),
                                 devices::AtaController::kDefaultSectorsPerTrack};
    for (uint8_t k = 0; k < 9; ++k) cmos.set_byte(uint8_t(base + k), geometry[k]);
    cmos.set_byte(uint8_t(0x19 + i), 47);
    types |= i == 0 ? 0xF0 : 0x0F;
    // Past 1024 cylinders CHS cannot reach the whole disk: LBA, as QEMU picks.
    if (cylinders > 1024) translation |= uint8_t(1 << (2 * i));
  }
  cmos.set_byte(0x12, types);
  cmos.set_byte(0x39, translation);
  cmos.set_byte(0x3D, 0x02);
  cmos.set_byte(0x38, 0x00);
  cmos.set_byte(0x5F, 0);
}

bool Board::place_mp_tables(std::string& error) {
  const devices::MpTables mp = devices::build_mp_tables(kMpTablesAddress);
  const uint8_t ebda_kib = 1;
  if (!memory.load(kEbdaAddress, std::span<const uint8_t>(&ebda_kib, 1)) || !memory.load(mp.address, mp.bytes)) {
    error = "guest RAM is too small for the MP tables";
    return false;
  }
  return true;
}

}  // namespace vs::vmm
