#include "virtscope/devices/state.h"

#include <cstring>

namespace vs::devices {

uint64_t StateReader::get(unsigned n) {
  if (!ok()) return 0;
  if (remaining() < n) {
    fail("snapshot data ends early");
    return 0;
  }
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t(bytes_[pos_ + i]) << (8 * i);
  pos_ += n;
  return v;
}

void StateReader::bytes(std::span<uint8_t> out) {
  if (out.empty()) return;  // (an empty span may have no storage at all)
  if (!ok() || remaining() < out.size()) {
    if (ok()) fail("snapshot data ends early");
    std::memset(out.data(), 0, out.size());
    return;
  }
  std::memcpy(out.data(), bytes_.data() + pos_, out.size());
  pos_ += out.size();
}

std::string StateReader::str() {
  const uint32_t n = u32();
  if (!ok() || remaining() < n) {
    if (ok()) fail("snapshot data ends early");
    return {};
  }
  std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
  pos_ += n;
  return s;
}

void StateReader::fail(std::string why) {
  if (ok()) error_ = std::move(why);
}

bool StateReader::expect(bool condition, std::string_view what) {
  if (!condition) fail(std::string(what));
  return condition && ok();
}

}  // namespace vs::devices
