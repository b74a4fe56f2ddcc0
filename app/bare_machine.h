// A bare CPU with flat RAM and a debug-console port, enough for the demo and
// the benchmark until the full PC platform (devices/, vmm/ Machine) exists.
#pragma once

#include <cstdint>
#include <string>

#include "virtscope/cpu/bus.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/trace/event.h"

namespace vs::app {

// Port 0xE9 (Bochs/QEMU "debugcon"): every byte written is console output.
class DebugConsoleIo final : public cpu::IoBus {
 public:
  uint32_t in(uint16_t port, unsigned size) override { return port == 0xE9 ? 0xE9 : 0xFFFFFFFF >> (32 - 8 * size); }
  void out(uint16_t port, unsigned, uint32_t value) override {
    if (port == 0xE9) output.push_back(char(value & 0xFF));
  }
  std::string output;
};

struct BareMachine {
  explicit BareMachine(uint32_t ram_bytes) : ram(ram_bytes), cpu(ram, io, log) {}
  void load(uint32_t address, const unsigned char* bytes, unsigned size) {
    for (unsigned i = 0; i < size && address + i < ram.size(); ++i) ram.data()[address + i] = bytes[i];
  }
  // 32-bit flat protected mode at CPL 0, interrupts off (the benchmark's start state).
  void enter_flat32(uint32_t eip, uint32_t esp);
  // Real mode at 0000:ip (the demo's start state, like a boot sector).
  void enter_real(uint16_t ip);

  cpu::FlatMemory ram;
  DebugConsoleIo io;
  trace::EventLog log;
  cpu::Cpu cpu;
};

int run_demo(int argc, char** argv);
int run_run(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_disasm(int argc, char** argv);
int run_conformance(int argc, char** argv);
int run_compare(int argc, char** argv);
int run_container(int argc, char** argv);  // container_cmd.cpp
int run_bench_containers(int argc, char** argv);  // bench_containers.cpp

}  // namespace vs::app
