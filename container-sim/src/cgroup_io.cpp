// The io controller (cgroup_io.h): io.max and io.stat, as block/blk-throttle.c
// and block/blk-cgroup.c make them (cgroup-v2.rst "IO"; ../shared/SEMANTICS.md
// §2.5). The device read path that consults it is blockdev.cpp.
#include "cgroup_io.h"

#include <algorithm>
#include <cctype>

#include "cgroup.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

constexpr const char* kKeys[IoLimit::kCount] = {"rbps", "wbps", "riops", "wiops"};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The kernel's vsscanf("%u") / ("%llu") at s[i]: spaces skipped, then at
// least one decimal digit (no sign: the kernel's %u takes none). Too big
// saturates (the kernel's simple_strtoull would wrap; nobody writes that).
bool scan_uint(const std::string& s, size_t& i, uint64_t& v) {
  while (i < s.size() && is_space(s[i])) ++i;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  v = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
    const uint64_t d = uint64_t(s[i] - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return true;
}

void read_stat(const Cgroup& cg, std::string& out) {
  // blkcg_print_one_stat(): a line per device the cgroup's subtree did IO on.
  for (const auto& [dev, s] : cg.io.stat) {
    if (!s.any()) continue;
    out += std::to_string(dev.first) + ":" + std::to_string(dev.second) + " rbytes=" + std::to_string(s.rbytes) +
           " wbytes=" + std::to_string(s.wbytes) + " rios=" + std::to_string(s.rios) +
           " wios=" + std::to_string(s.wios) + " dbytes=" + std::to_string(s.dbytes) +
           " dios=" + std::to_string(s.dios) + "\n";
  }
}

void read_max(const Cgroup& cg, std::string& out) {
  // tg_prfill_limit(): devices with some limit, all four keys, "max" for none.
  for (const auto& [dev, l] : cg.io.limit) {
    if (!l.any()) continue;
    out += std::to_string(dev.first) + ":" + std::to_string(dev.second);
    for (int i = 0; i < IoLimit::kCount; ++i)
      out += std::string(" ") + kKeys[i] + "=" + (l.limited(i) ? std::to_string(l.max[i]) : "max");
    out += "\n";
  }
}

// The interface table cannot reach the kernel's device list: Kernel::cgroup_write
// (cgroupfs.cpp) sends io.max to io_max_write with it. This entry is what
// the table's `write` means (a writable file, mode 0644) and knows no devices.
int write_max(Cgroup& cg, const std::string& text) {
  return io_max_write(cg, text, [](IoDevice) { return false; });
}

void reset(Cgroup& cg) { cg.io = CgroupIo{}; }  // the parent turned io off: its blkcg css goes

}  // namespace

int io_max_write(Cgroup& cg, const std::string& text, const std::function<bool(IoDevice)>& exists) {
  // blkg_conf_open_bdev(): "%u:%u", then a space, then a whole disk that exists.
  size_t i = 0;
  uint64_t major = 0, minor = 0;
  if (!scan_uint(text, i, major) || i >= text.size() || text[i] != ':') return -kEINVAL;
  ++i;
  if (!scan_uint(text, i, minor) || major > UINT32_MAX || minor > UINT32_MAX) return -kEINVAL;
  if (i >= text.size() || !is_space(text[i])) return -kEINVAL;
  const IoDevice dev{uint32_t(major), uint32_t(minor)};
  if (!exists(dev)) return -kENODEV;
  // tg_set_limit(): tokens "key=value" (sscanf "%26s": at most 26 characters
  // a token), a value that is a number or "max"; checked in this order:
  // the value's form (EINVAL), zero (ERANGE), the key (EINVAL).
  IoLimit l = cg.io.limit.count(dev) ? cg.io.limit.at(dev) : IoLimit{};
  for (;;) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    size_t end = i;
    while (end < text.size() && !is_space(text[end]) && end - i < 26) ++end;
    const std::string tok = text.substr(i, end - i);
    i = end;
    const size_t eq = tok.find('=');
    if (eq == std::string::npos) return -kEINVAL;
    const std::string key = tok.substr(0, eq), value = tok.substr(eq + 1);
    uint64_t v = UINT64_MAX;
    size_t at = 0;
    if (!scan_uint(value, at, v) && value != "max") return -kEINVAL;
    if (v == 0) return -kERANGE;
    int k = 0;
    while (k < IoLimit::kCount && key != kKeys[k]) ++k;
    if (k == IoLimit::kCount) return -kEINVAL;
    l.max[k] = k >= IoLimit::kRiops ? std::min(v, kIoIopsUnlimited) : v;
  }
  // tg_conf_updated(): "Restart the slices ... we don't want to account
  // recently dispatched IO with new low rate": the buckets start afresh.
  for (uint64_t& next : l.next_ns) next = 0;
  if (l.any()) {
    cg.io.limit[dev] = l;
  } else {
    cg.io.limit.erase(dev);  // every limit "max": nothing left to show or enforce
  }
  return 0;
}

std::vector<Cgroup*> io_limited_cgroups(Cgroup& cg) {
  // cgroup v2's blk-throttle is hierarchical (cgroup_on_dfl(): "blkcg:
  // blk-throttle becomes properly hierarchical"): a bio passes its own
  // cgroup's limits, then each parent's (__blk_throtl_bio climbs). A cgroup
  // without io enabled has no limits of its own: its IO is its nearest
  // io-enabled ancestor's.
  std::vector<Cgroup*> out;
  for (Cgroup* c = &cg; c && !c->is_root(); c = c->parent)
    if (c->has(kCgIo)) out.push_back(c);
  return out;
}

uint64_t io_throttle(Cgroup& cg, IoDevice dev, bool write, const std::vector<uint32_t>& requests, uint64_t now_ns,
                     Cgroup** limiter) {
  if (limiter) *limiter = nullptr;
  std::vector<std::pair<Cgroup*, IoLimit*>> levels;
  for (Cgroup* c : io_limited_cgroups(cg)) {
    const auto it = c->io.limit.find(dev);
    if (it != c->io.limit.end()) levels.emplace_back(c, &it->second);
  }
  if (levels.empty()) return now_ns;
  const int kinds[2] = {write ? IoLimit::kWbps : IoLimit::kRbps, write ? IoLimit::kWiops : IoLimit::kRiops};
  uint64_t t = now_ns;
  for (const uint32_t bytes : requests) {
    // The request goes once every bucket on the way up allows it ...
    for (const auto& [c, l] : levels)
      for (const int k : kinds) {
        if (!l->limited(k)) continue;
        const uint64_t ready = l->next_ns[k] > kIoBurstNs ? l->next_ns[k] - kIoBurstNs : 0;
        if (ready > t) {
          t = ready;
          if (limiter) *limiter = c;
        }
      }
    // ... and then costs each of them its share of the rate.
    for (const auto& [c, l] : levels)
      for (const int k : kinds) {
        if (!l->limited(k)) continue;
        const uint64_t units = k == kinds[0] ? bytes : 1;  // bytes for bps, one request for iops
        const uint64_t work = units * 1'000'000'000ull;  // at most 2^32 * 10^9: no overflow
        const uint64_t cost = work / l->max[k] + (work % l->max[k] != 0);
        l->next_ns[k] = std::max(l->next_ns[k], t) + cost;
      }
  }
  return t;
}

void io_account(Cgroup& cg, IoDevice dev, bool write, uint64_t bytes, uint64_t ios) {
  // blk_cgroup_bio_start() counts in the bio's blkg; the rstat flush adds
  // it to every ancestor's (blkcg_iostat_update "propagate up"); the
  // root's io.stat is the whole disk's (blkcg_fill_root_iostats).
  for (Cgroup* c = &cg; c; c = c->parent) {
    if (!c->is_root() && !c->has(kCgIo)) continue;
    IoStat& s = c->io.stat[dev];
    (write ? s.wbytes : s.rbytes) += bytes;
    (write ? s.wios : s.rios) += ios;
  }
}

Cgroup& io_owner(Cgroup& cg) {
  Cgroup* c = &cg;
  while (!c->is_root() && !c->has(kCgIo)) c = c->parent;
  return *c;
}

const CgroupControllerOps& io_controller() {
  // io.stat has no CFTYPE_NOT_ON_ROOT in Linux (the root shows the disk's
  // totals), but the table shows no file at the root (cgroup.h CgroupFile):
  // here the root's counts are kept, and only CgroupCharge events show them.
  static const CgroupControllerOps ops = {
      {{"io.max", read_max, write_max}, {"io.stat", read_stat}},
      reset,
  };
  return ops;
}

}  // namespace vs::container_sim
