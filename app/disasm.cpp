// `virtscope disasm`: human-readable disassembly comes from Capstone only; next
// to it virtscope prints what its own opcode table says about each
// instruction (privilege class, the VT-x exit it can cause), which is what the
// virtualization lessons ask about.
#include <capstone/capstone.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bare_machine.h"
#include "virtscope/cpu/opcode_table.h"

namespace vs::app {

namespace {
bool parse_hex(const char* text, std::vector<uint8_t>& out) {
  std::string digits;
  for (const char* p = text; *p; ++p) {
    if (std::isxdigit(static_cast<unsigned char>(*p))) digits.push_back(*p);
    else if (*p != ' ' && *p != ',' && *p != ':') return false;
  }
  if (digits.size() % 2) return false;
  for (size_t i = 0; i < digits.size(); i += 2) out.push_back(uint8_t(std::strtoul(digits.substr(i, 2).c_str(), nullptr, 16)));
  return true;
}
}  // namespace

int run_disasm(int argc, char** argv) {
  bool code32 = true;
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
  const char* file = nullptr;
  for (int i = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--16")) code32 = false;
    else if (!std::strcmp(argv[i], "--32")) code32 = true;
    else if (!std::strcmp(argv[i], "--address") && i + 1 < argc) address = std::strtoull(argv[++i], nullptr, 0);
    else if (!std::strcmp(argv[i], "--hex") && i + 1 < argc) {
      if (!parse_hex(argv[++i], bytes)) {
        std::fprintf(stderr, "virtscope disasm: --hex wants pairs of hex digits, e.g. \"0f 01 d0\"\n");
        return 2;
      }
    } else if (argv[i][0] != '-' && !file) {
      file = argv[i];
    } else {
      std::fprintf(stderr, "usage: virtscope disasm [--16|--32] [--address A] (--hex \"BYTES\" | FILE)\n");
      return 2;
    }
  }
  if (file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "virtscope disasm: cannot read %s\n", file);
      return 1;
    }
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (bytes.empty()) {
    std::fprintf(stderr, "virtscope disasm: nothing to disassemble (give --hex or a file)\n");
    return 2;
  }
  csh handle;
  if (cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &handle) != CS_ERR_OK) {
    std::fprintf(stderr, "virtscope disasm: Capstone failed to open\n");
    return 1;
  }
  size_t offset = 0;
  while (offset < bytes.size()) {
    cs_insn* insn = nullptr;
    const size_t n = cs_disasm(handle, bytes.data() + offset, bytes.size() - offset, address + offset, 1, &insn);
    const auto info = cpu::describe_instruction({bytes.data() + offset, bytes.size() - offset}, code32);
    size_t len = n ? insn->size : (info ? info->length : 1);
    std::string hex;
    for (size_t i = 0; i < len && offset + i < bytes.size(); ++i) {
      char b[4];
      std::snprintf(b, sizeof b, "%02x ", bytes[offset + i]);
      hex += b;
    }
    std::string text = n ? std::string(insn->mnemonic) + " " + insn->op_str : "(bad)";
    std::string table = "undefined: #UD";
    if (info && info->row) {
      table = std::string(cpu::privilege_name(info->row->privilege));
      if (info->row->exit != cpu::ExitClass::NO_EXIT) table += ", VT-x exit " + std::string(cpu::exit_class_name(info->row->exit));
    }
    std::printf("%08llx  %-30s %-36s ; %s\n", (unsigned long long)(address + offset), hex.c_str(), text.c_str(), table.c_str());
    if (n) cs_free(insn, n);
    offset += len;
  }
  cs_close(&handle);
  return 0;
}

}  // namespace vs::app
