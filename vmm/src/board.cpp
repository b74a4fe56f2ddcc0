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
    if (config.drives[i].empty()) continue;
    auto disk = devices::FileDisk::open(config.drives[i], devices::FileDisk::Writes::ToFile, &error);
    if (!disk) return false;
    ata.attach(i, std::move(disk));
  }
  return true;
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
