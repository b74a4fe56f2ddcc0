// SHA-256 (FIPS 180-4, "Secure Hash Standard", §6.2), written out for
// students: every digest in an OCI image (layer DiffIDs, ChainIDs, the image
// ID, blob names) is a SHA-256 of some bytes, shown as "sha256:<64 hex>".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vs::container_image {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental hashing: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t length);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  Sha256Digest finish();  // pads (FIPS 180-4 §5.1.1) and returns H(0)..H(7) big-endian

 private:
  void compress(const uint8_t block[64]);  // one round of §6.2.2 over a 512-bit block

  std::array<uint32_t, 8> state_;  // H(i-1), the working hash value
  std::array<uint8_t, 64> block_{};  // message bytes not yet compressed
  size_t block_used_ = 0;            // how many of block_ are filled
  uint64_t total_bytes_ = 0;         // message length so far (the padding needs it in bits)
};

Sha256Digest sha256(std::string_view bytes);
// Lower-case hexadecimal, 64 characters.
std::string to_hex(const Sha256Digest& digest);
// "sha256:" + to_hex(sha256(bytes)): the OCI digest string (descriptor.md).
std::string digest_of(std::string_view bytes);
// True for "sha256:" followed by exactly 64 lower-case hex digits.
bool is_digest(std::string_view text);
// The first 8 bytes of a digest string read big-endian (the ImageOp event's
// "digest" field); 0 when `digest` is not a digest string.
uint64_t digest_prefix(std::string_view digest);

}  // namespace vs::container_image
