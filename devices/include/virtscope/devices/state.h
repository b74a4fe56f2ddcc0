// Saving and restoring device state for snapshots (issue 3): every device
// writes its registers with a StateWriter and reads them back, in the same
// order, with a StateReader. Little-endian, no padding, no pointers: a
// snapshot file is the same bytes on every host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vs::devices {

class StateWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void bytes(std::span<const uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  // A length-prefixed string (names, device identities).
  void str(std::string_view s) {
    u32(uint32_t(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  const std::vector<uint8_t>& data() const { return bytes_; }
  std::vector<uint8_t>& data() { return bytes_; }

 private:
  void put(uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) bytes_.push_back(uint8_t(v >> (8 * i)));
  }
  std::vector<uint8_t> bytes_;
};

// Reading past the end, or a value a device rejects, marks the reader failed
// with a reason; reads after a failure return zeros. Callers check ok() once
// at the end rather than after every field.
class StateReader {
 public:
  explicit StateReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint8_t u8() { return uint8_t(get(1)); }
  uint16_t u16() { return uint16_t(get(2)); }
  uint32_t u32() { return uint32_t(get(4)); }
  uint64_t u64() { return get(8); }
  bool boolean() { return u8() != 0; }
  void bytes(std::span<uint8_t> out);
  std::string str();
  // A device found a value it cannot hold (e.g. an index out of range).
  void fail(std::string why);
  // Checks a value read from the file; fails with `what` when it is false.
  bool expect(bool condition, std::string_view what);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  uint64_t get(unsigned n);
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace vs::devices
