// Option values shared by the subcommands, spelled as QEMU spells them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vs::app {

// "128", "128M", "1G", "65536K" (QEMU's -m: a bare number is MiB), at least
// 2 MiB and below the device region under 4 GiB.
std::optional<uint32_t> parse_memory_size(const std::string& s);
// "virtscope COMMAND: MSG" and the command's usage on stderr; returns 2,
// the exit status of every usage error.
int report_usage_error(const char* command, const std::string& msg, const char* usage);
// A whole number (decimal, or 0x hex), nothing after it.
std::optional<uint64_t> parse_count(const std::string& s);
// A file of the build tree, found from this program's place in it: the
// build puts the guest programs in build/guest/... and this one in build/app.
std::string beside_this_program(const std::string& relative);

}  // namespace vs::app
