// Whole-machine snapshots (docs/snapshots.md). A file is a magic, a version,
// and named sections: the machine's own settings, the CPU, the MMU's TLB,
// the scheduler, each device by name, and RAM (zlib-compressed). Loading
// checks everything before anything runs; a damaged or foreign file is
// refused with a reason.
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "board.h"
#include "cpu_state_io.h"
#include "virtscope/vmm/machine.h"
#include "serial_input.h"

namespace vs::vmm {

namespace {

constexpr char kMagic[8] = {'V', 'S', 'S', 'N', 'A', 'P', '\x1a', '\n'};
constexpr uint32_t kVersion = 1;

using devices::StateReader;
using devices::StateWriter;

void save_machine_settings(StateWriter& w, const MachineConfig& c) {
  w.u32(c.ram_bytes);
  w.boolean(c.debug_exit);
  w.u16(c.debug_exit_base);
  w.u16(c.debug_exit_size);
  w.u32(c.tlb_entries);
}

void load_machine_settings(StateReader& r, MachineConfig& c) {
  c.ram_bytes = r.u32();
  c.debug_exit = r.boolean();
  c.debug_exit_base = r.u16();
  c.debug_exit_size = r.u16();
  c.tlb_entries = r.u32();
  r.expect(c.ram_bytes >= (1u << 20) && c.ram_bytes <= 0xE0000000u && (c.ram_bytes & 0xFFF) == 0,
           "snapshot has an impossible RAM size");
  r.expect(c.tlb_entries <= 65536, "snapshot has an impossible TLB size");
}

std::array<uint64_t, 8> stats_fields(const mmu::MmuStats& st) {
  return {st.hits, st.misses, st.walks, st.full_flushes, st.nonglobal_flushes, st.invlpgs, st.evictions, st.page_faults};
}

void save_mmu(StateWriter& w, const mmu::MmuState& s) {
  w.u32(uint32_t(s.tlb.size()));
  for (const mmu::TlbEntry& e : s.tlb) {
    w.u8(uint8_t(e.valid | e.large << 1 | e.global << 2 | e.writable << 3 | e.user << 4 | e.dirty << 5));
    w.u32(e.linear);
    w.u32(e.phys);
    w.u64(e.last_used);
  }
  w.u64(s.tlb_clock);
  for (uint64_t c : stats_fields(s.stats)) w.u64(c);
}

void load_mmu(StateReader& r, mmu::MmuState& s) {
  const uint32_t n = r.u32();
  if (!r.expect(n <= 65536, "snapshot has an impossible TLB size")) return;
  s.tlb.resize(n);
  for (mmu::TlbEntry& e : s.tlb) {
    const uint8_t f = r.u8();
    e.valid = f & 1;
    e.large = f & 2;
    e.global = f & 4;
    e.writable = f & 8;
    e.user = f & 16;
    e.dirty = f & 32;
    e.linear = r.u32();
    e.phys = r.u32();
    e.last_used = r.u64();
  }
  s.tlb_clock = r.u64();
  mmu::MmuStats& st = s.stats;
  for (uint64_t* c : {&st.hits, &st.misses, &st.walks, &st.full_flushes, &st.nonglobal_flushes, &st.invlpgs,
                      &st.evictions, &st.page_faults})
    *c = r.u64();
}

void save_ram(StateWriter& w, const uint8_t* ram, uint32_t size) {
  uLongf packed = compressBound(size);
  std::vector<uint8_t> buf(packed);
  compress2(buf.data(), &packed, ram, size, 1);
  w.u32(size);
  w.u64(packed);
  w.bytes(std::span<const uint8_t>(buf.data(), packed));
}

void load_ram(StateReader& r, uint8_t* ram, uint32_t size) {
  const uint32_t n = r.u32();
  const uint64_t packed = r.u64();
  if (!r.expect(n == size, "snapshot RAM size does not match its settings")) return;
  if (!r.expect(packed <= r.remaining(), "snapshot data ends early")) return;
  std::vector<uint8_t> buf(packed);
  r.bytes(buf);
  uLongf out = size;
  if (uncompress(ram, &out, buf.data(), uLong(packed)) != Z_OK || out != size) r.fail("snapshot RAM is damaged");
}

}  // namespace

bool Machine::save(const std::string& path, std::string& error) const {
  if (!vms_.empty() || kvm_) {
    error = "snapshots of a machine running a VMM are not supported yet";
    return false;
  }
  std::vector<std::pair<std::string, StateWriter>> sections;
  auto section = [&](std::string name) -> StateWriter& {
    sections.emplace_back(std::move(name), StateWriter{});
    return sections.back().second;
  };
  // What the machine is made of (read first by restore() to build it), then
  // where it stands.
  save_machine_settings(section("settings"), config_);
  StateWriter& m = section("machine");
  m.u64(idle_skipped_);
  m.str(serial_input_);
  m.str(keyboard_input_);
  m.boolean(reset_requested_);
  m.boolean(exit_requested_);
  m.u32(uint32_t(exit_status_));
  m.boolean(board_->a20.enabled());
  m.u64(board_input_->lsr_reads_at_delivery);
  save_cpu_state(section("cpu"), cpu_->state(), cpu_->instructions());
  save_mmu(section("mmu"), board_->mmu.save_state());
  board_->scheduler.save(section("scheduler"));
  for (const devices::Device* d : board_->devices) d->save(section("device:" + d->name()));
  save_ram(section("ram"), board_->memory.ram(), board_->memory.ram_size());
  // The BIOS ROM the machine booted from (none for a Multiboot boot).
  StateWriter& rom = section("bios");
  rom.u32(uint32_t(config_.bios_image.size()));
  rom.bytes(config_.bios_image);

  StateWriter file;
  file.bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic));
  file.u32(kVersion);
  file.u32(uint32_t(sections.size()));
  for (const auto& [name, w] : sections) {
    file.str(name);
    file.u64(w.data().size());
    file.bytes(w.data());
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(file.data().data()), std::streamsize(file.data().size()));
    if (!f) {
      error = "cannot write snapshot " + path + ": " + std::strerror(errno);
      return false;
    }
  }
  // Replace the file only once the new one is complete: a failed save never
  // destroys an earlier snapshot.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write snapshot " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

namespace {

struct SnapshotFile {
  std::vector<uint8_t> bytes;
  std::map<std::string, std::span<const uint8_t>> sections;
};

bool read_snapshot(const std::string& path, SnapshotFile& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot open snapshot " + path + ": " + std::strerror(errno);
    return false;
  }
  out.bytes.assign(std::istreambuf_iterator<char>(f), {});
  if (out.bytes.size() < sizeof kMagic + 8 || std::memcmp(out.bytes.data(), kMagic, sizeof kMagic) != 0) {
    error = path + " is not a virtscope snapshot";
    return false;
  }
  StateReader r(std::span<const uint8_t>(out.bytes).subspan(sizeof kMagic));
  const uint32_t version = r.u32();
  if (version != kVersion) {
    error = path + ": snapshot version " + std::to_string(version) + " (this virtscope reads version " +
            std::to_string(kVersion) + ")";
    return false;
  }
  const uint32_t count = r.u32();
  size_t offset = sizeof kMagic + 8;
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    const size_t before = r.remaining();
    const std::string name = r.str();
    const uint64_t length = r.u64();
    if (!r.ok() || length > r.remaining()) {
      error = path + ": snapshot is truncated or damaged";
      return false;
    }
    offset += before - r.remaining();
    out.sections[name] = std::span<const uint8_t>(out.bytes).subspan(offset, length);
    std::vector<uint8_t> skip(length);
    r.bytes(skip);
    offset += length;
  }
  if (!r.ok()) {
    error = path + ": snapshot is truncated or damaged";
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Machine> Machine::restore(const std::string& path, const MachineConfig& outputs, std::string& error) {
  SnapshotFile file;
  if (!read_snapshot(path, file, error)) return nullptr;
  auto need = [&](const std::string& name) -> std::span<const uint8_t> {
    auto it = file.sections.find(name);
    return it == file.sections.end() ? std::span<const uint8_t>() : it->second;
  };
  MachineConfig config = outputs;  // output sinks from the caller, the rest from the file
  config.kernel.clear();
  config.initrd.clear();
  StateReader settings(need("settings"));
  load_machine_settings(settings, config);
  if (settings.ok() && settings.remaining() != 0) settings.fail("snapshot settings have unexpected extra data");
  if (!settings.ok()) {
    error = path + ": " + settings.error();
    return nullptr;
  }
  // Disks are their image files: the caller names the same ones again (as
  // with QEMU's -loadvm); the ATA device refuses a different set.
  config.bios.clear();
  StateReader rom(need("bios"));
  const uint32_t rom_size = rom.u32();
  config.bios_image.resize(rom_size == rom.remaining() && rom_size <= 0x20000 ? rom_size : 0);
  rom.bytes(config.bios_image);
  if (!rom.ok() || rom.remaining() != 0) {
    error = path + ": snapshot BIOS section is damaged";
    return nullptr;
  }
  std::unique_ptr<Machine> m = build(config, error);
  if (!m) return nullptr;
  if (!config.bios_image.empty() && !m->map_bios(error)) {
    error = path + ": " + error;
    return nullptr;
  }
  if (!m->load_sections(file.sections, error)) {
    error = path + ": " + error;
    return nullptr;
  }
  return m;
}

bool Machine::load_sections(const std::map<std::string, std::span<const uint8_t>>& sections, std::string& error) {
  auto reader = [&](const std::string& name, std::unique_ptr<StateReader>& r) {
    auto it = sections.find(name);
    if (it == sections.end()) {
      error = "snapshot has no '" + name + "' section";
      return false;
    }
    r = std::make_unique<StateReader>(it->second);
    return true;
  };
  std::unique_ptr<StateReader> r;
  auto check = [&](const std::string& what) {
    if (r->ok() && r->remaining() != 0) r->fail("snapshot section '" + what + "' has unexpected extra data");
    if (r->ok()) return true;
    error = what + ": " + r->error();
    return false;
  };

  if (!reader("machine", r)) return false;
  idle_skipped_ = r->u64();
  serial_input_ = r->str();
  keyboard_input_ = r->str();
  reset_requested_ = r->boolean();
  exit_requested_ = r->boolean();
  exit_status_ = int(r->u32());
  const bool a20 = r->boolean();
  board_input_->lsr_reads_at_delivery = r->u64();
  if (!check("machine")) return false;

  cpu::CpuState s;
  uint64_t icount = 0;
  if (!reader("cpu", r)) return false;
  load_cpu_state(*r, s, icount);
  if (!check("cpu")) return false;

  mmu::MmuState mmu_state;
  if (!reader("mmu", r)) return false;
  load_mmu(*r, mmu_state);
  if (!check("mmu")) return false;
  if (const char* why = board_->mmu.load_state(mmu_state)) {
    error = std::string("mmu: ") + why;
    return false;
  }

  if (!reader("scheduler", r)) return false;
  board_->scheduler.load(*r);
  if (!check("scheduler")) return false;

  for (devices::Device* d : board_->devices) {
    if (!reader("device:" + d->name(), r)) return false;
    d->load(*r);
    if (!check(d->name())) return false;
  }
  if (!reader("ram", r)) return false;
  load_ram(*r, board_->memory.ram(), board_->memory.ram_size());
  if (!check("ram")) return false;

  cpu_->set_state(s);
  cpu_->set_instructions(icount);
  // The INTR pin follows from the PIC and the LAPIC just loaded.
  board_->router.pic_intr(board_->pic.intr());
  board_->router.update();
  board_->a20.restore(a20);
  return true;
}

}  // namespace vs::vmm
