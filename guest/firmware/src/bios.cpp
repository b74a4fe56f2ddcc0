// The BIOS image embedded by guest/firmware/CMakeLists.txt (cmake/EmbedBlob.cmake).
#include "virtscope/firmware/bios.h"

extern const unsigned char vs_firmware_bios_image[];
extern const unsigned vs_firmware_bios_image_size;

namespace vs::firmware {

std::span<const uint8_t> builtin_bios() {
  return {vs_firmware_bios_image, vs_firmware_bios_image_size};
}

}  // namespace vs::firmware
