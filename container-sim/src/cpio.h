// Reading a cpio "newc" archive (Linux Documentation/driver-api/
// early-userspace/buffer-format.rst), the teaching kernel's initrd format,
// so container-sim can start from the very same files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vs::container_sim {

struct CpioFile {
  std::string name;  // as stored ("bin/hello")
  uint32_t mode = 0;
  std::vector<uint8_t> data;
};

// Every regular file of `archive`; false with a reason when it is not a
// well-formed newc archive.
bool read_cpio(const std::vector<uint8_t>& archive, std::vector<CpioFile>& files, std::string& error);

}  // namespace vs::container_sim
