// rtnetlink, the link part (rtnetlink(7), netlink(7); Linux's
// net/netlink/af_netlink.c netlink_rcv_skb()/netlink_ack(), and
// net/core/rtnetlink.c rtnl_getlink/rtnl_dump_ifinfo/rtnl_newlink/
// rtnl_setlink/rtnl_dellink, drivers/net/veth.c veth_newlink): list links,
// create veth pairs, move a device to another namespace, set it up or down,
// rename it, change its MTU, delete a veth pair. Every malformed request
// gets the errno Linux gives, in the order Linux checks; other rtnetlink
// families (addresses, routes, neighbours) answer EOPNOTSUPP.
#include <cstring>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr uint16_t kNLM_F_REQUEST = 1, kNLM_F_MULTI = 2, kNLM_F_ACK = 4, kNLM_F_DUMP = 0x300;
constexpr uint16_t kNLM_F_REPLACE = 0x100, kNLM_F_EXCL = 0x200, kNLM_F_CREATE = 0x400, kNLM_F_CAPPED = 0x100;
constexpr uint16_t kNLMSG_ERROR = 2, kNLMSG_DONE = 3, kNLMSG_MIN_TYPE = 0x10;
constexpr uint16_t kRTM_NEWLINK = 16, kRTM_DELLINK = 17, kRTM_GETLINK = 18, kRTM_SETLINK = 19, kRTM_MAX = 123;
constexpr uint32_t kHdr = 16, kIfinfo = 16;  // sizeof(struct nlmsghdr), sizeof(struct ifinfomsg)
// IFLA_* (include/uapi/linux/if_link.h)
constexpr uint16_t kIFLA_ADDRESS = 1, kIFLA_BROADCAST = 2, kIFLA_IFNAME = 3, kIFLA_MTU = 4, kIFLA_LINK = 5;
constexpr uint16_t kIFLA_MASTER = 10, kIFLA_PROTINFO = 12, kIFLA_TXQLEN = 13, kIFLA_MAP = 14, kIFLA_OPERSTATE = 16;
constexpr uint16_t kIFLA_LINKMODE = 17, kIFLA_LINKINFO = 18, kIFLA_NET_NS_PID = 19, kIFLA_GROUP = 27;
constexpr uint16_t kIFLA_NET_NS_FD = 28, kIFLA_EXT_MASK = 29, kIFLA_TARGET_NETNSID = 46;
constexpr uint16_t kIFLA_INFO_KIND = 1, kIFLA_INFO_DATA = 2, kVETH_INFO_PEER = 1;

uint32_t align4(uint32_t n) { return (n + 3) & ~3u; }

template <typename T>
T get(const std::vector<uint8_t>& b, uint32_t at) {
  T v;
  std::memcpy(&v, &b[at], sizeof v);
  return v;
}
template <typename T>
void put(std::vector<uint8_t>& b, uint32_t at, T v) {
  std::memcpy(&b[at], &v, sizeof v);
}

// One parsed attribute: where its payload is in the buffer.
struct Attr {
  uint32_t at = 0, len = 0;
  bool present = false;
};
using Attrs = std::map<uint16_t, Attr>;

// A policy entry (lib/nlattr.c validate_nla() in liberal mode): integers
// need at least their size, strings a limit without the trailing NUL,
// binaries a maximum, nested attributes 0 or at least a header.
enum class Pol : uint8_t { U8, U32, String, Binary, Nested, MinLen };
struct Policy {
  uint16_t type;
  Pol pol;
  uint32_t len;
};
constexpr Policy kIflaPolicy[] = {
    {kIFLA_ADDRESS, Pol::Binary, 32}, {kIFLA_BROADCAST, Pol::Binary, 32}, {kIFLA_IFNAME, Pol::String, kIfNameSize - 1},
    {kIFLA_MTU, Pol::U32, 0},         {kIFLA_LINK, Pol::U32, 0},          {kIFLA_MASTER, Pol::U32, 0},
    {kIFLA_TXQLEN, Pol::U32, 0},      {kIFLA_OPERSTATE, Pol::U8, 0},      {kIFLA_LINKMODE, Pol::U8, 0},
    {kIFLA_LINKINFO, Pol::Nested, 0}, {kIFLA_NET_NS_PID, Pol::U32, 0},    {kIFLA_GROUP, Pol::U32, 0},
    {kIFLA_NET_NS_FD, Pol::U32, 0},   {kIFLA_EXT_MASK, Pol::U32, 0},      {kIFLA_TARGET_NETNSID, Pol::U32, 0},
};
constexpr Policy kInfoPolicy[] = {{kIFLA_INFO_KIND, Pol::String, 0}, {kIFLA_INFO_DATA, Pol::Nested, 0}};
constexpr Policy kVethPolicy[] = {{kVETH_INFO_PEER, Pol::MinLen, kIfinfo}};

// nla_parse(): attributes in [at, at + len); a later one of a type replaces
// an earlier one, unknown types are skipped, a truncated tail is ignored
// (the deprecated parsers only warn). 0 or -errno.
template <size_t N>
int parse(const std::vector<uint8_t>& b, uint32_t at, uint32_t len, const Policy (&policy)[N], Attrs& out) {
  while (len >= 4) {
    const uint16_t nla_len = get<uint16_t>(b, at), type = get<uint16_t>(b, at + 2) & 0x3FFF;
    if (nla_len < 4 || nla_len > len) break;
    const uint32_t plen = nla_len - 4u;
    for (const Policy& p : policy) {
      if (p.type != type) continue;
      int bad = 0;
      switch (p.pol) {
        case Pol::U8: bad = plen < 1; break;
        case Pol::U32: bad = plen < 4; break;
        case Pol::String: {
          uint32_t n = plen;
          if (n && b[at + 4 + n - 1] == 0) --n;
          bad = plen < 1 || (p.len && n > p.len);
          break;
        }
        case Pol::Binary: bad = p.len && plen > p.len; break;
        case Pol::Nested: bad = plen != 0 && plen < 4; break;
        case Pol::MinLen: bad = plen < p.len; break;
      }
      if (bad) return -kERANGE;
      out[type] = Attr{at + 4, plen, true};
    }
    const uint32_t step = std::min(align4(nla_len), len);
    at += step;
    len -= step;
  }
  return 0;
}

std::string attr_string(const std::vector<uint8_t>& b, const Attr& a) {
  std::string s(reinterpret_cast<const char*>(&b[a.at]), a.len);
  const size_t nul = s.find('\0');
  if (nul != std::string::npos) s.resize(nul);
  return s.substr(0, kIfNameSize - 1);  // nla_strscpy() into IFNAMSIZ
}

void put_attr(std::vector<uint8_t>& m, uint16_t type, const void* data, uint32_t len) {
  const uint32_t at = uint32_t(m.size());
  m.resize(at + align4(4 + len), 0);
  put<uint16_t>(m, at, uint16_t(4 + len));
  put<uint16_t>(m, at + 2, type);
  if (len) std::memcpy(&m[at + 4], data, len);
}
void put_u32(std::vector<uint8_t>& m, uint16_t type, uint32_t v) { put_attr(m, type, &v, 4); }
void put_u8(std::vector<uint8_t>& m, uint16_t type, uint8_t v) { put_attr(m, type, &v, 1); }

std::vector<uint8_t> header(uint16_t type, uint16_t flags, uint32_t seq, int32_t portid) {
  std::vector<uint8_t> m(kHdr, 0);
  put<uint16_t>(m, 4, type);
  put<uint16_t>(m, 6, flags);
  put<uint32_t>(m, 8, seq);
  put<int32_t>(m, 12, portid);
  return m;
}

// rtnl_fill_ifinfo(): one RTM_NEWLINK describing d.
std::vector<uint8_t> link_message(const NetDevice& d, uint16_t flags, uint32_t seq, int32_t portid) {
  std::vector<uint8_t> m = header(kRTM_NEWLINK, flags, seq, portid);
  m.resize(kHdr + kIfinfo, 0);
  put<uint16_t>(m, kHdr + 2, d.arp_type());
  put<int32_t>(m, kHdr + 4, int32_t(d.ifindex));
  put<uint32_t>(m, kHdr + 8, d.flags());
  put_attr(m, kIFLA_IFNAME, d.name.c_str(), uint32_t(d.name.size() + 1));
  put_u32(m, kIFLA_TXQLEN, 1000);
  // IF_OPER_*: lo has no carrier notion (UNKNOWN 0); DOWN 2; a veth whose peer is down LOWERLAYERDOWN 3; UP 6.
  const uint8_t oper = !d.up ? 2 : d.kind == NetDevice::Kind::Loopback ? 0 : d.carrier() ? 6 : d.kind == NetDevice::Kind::Veth ? 3 : 2;
  put_u8(m, kIFLA_OPERSTATE, oper);
  put_u8(m, kIFLA_LINKMODE, 0);
  put_u32(m, kIFLA_MTU, d.mtu);
  if (const auto p = d.peer.lock()) put_u32(m, kIFLA_LINK, p->ifindex);  // dev_get_iflink(): the peer's index
  static const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, zero[6] = {};
  put_attr(m, kIFLA_ADDRESS, d.mac, 6);
  put_attr(m, kIFLA_BROADCAST, d.kind == NetDevice::Kind::Loopback ? zero : bcast, 6);
  if (d.kind == NetDevice::Kind::Veth) {
    std::vector<uint8_t> info;
    put_attr(info, kIFLA_INFO_KIND, "veth", 5);
    put_attr(m, kIFLA_LINKINFO, info.data(), uint32_t(info.size()));
  }
  put<uint32_t>(m, 0, uint32_t(m.size()));
  return m;
}

// rtnl_dev_combine_flags(): ifi_change picks which bits ifi_flags sets (0: all of them).
bool wants_up(const NetDevice& d, uint32_t flags, uint32_t change) {
  const uint32_t f = change ? (flags & change) | (d.flags() & ~change) : flags;
  return f & kIFF_UP;
}
}  // namespace

void Kernel::netlink_input(Process& p, Socket& s, const std::vector<uint8_t>& b) {
  // netlink_rcv_skb(): message by message; a header that does not fit ends
  // the buffer silently; non-requests and control types are only acked.
  uint32_t at = 0;
  while (b.size() - at >= kHdr) {
    const uint32_t len = get<uint32_t>(b, at);
    const uint16_t flags = get<uint16_t>(b, at + 6);
    if (len < kHdr || len > b.size() - at) return;
    int err = 0;
    if ((flags & kNLM_F_REQUEST) && get<uint16_t>(b, at + 4) >= kNLMSG_MIN_TYPE) err = rtnl_link_request(p, s, b, at, len);
    if (err != -kEINTR && (err || (flags & kNLM_F_ACK))) {
      // netlink_ack(): NLMSG_ERROR with the request's header, and on an
      // error the whole request too unless NETLINK_CAP_ACK is set.
      const bool capped = !err || s.cap_ack;
      std::vector<uint8_t> m = header(kNLMSG_ERROR, capped ? kNLM_F_CAPPED : 0, get<uint32_t>(b, at + 8), s.portid);
      m.resize(kHdr + 4, 0);
      put<int32_t>(m, kHdr, err);
      m.insert(m.end(), b.begin() + at, b.begin() + at + (capped ? kHdr : len));
      put<uint32_t>(m, 0, uint32_t(m.size()));
      s.push(Datagram{std::move(m), {}});
    }
    at += std::min<uint32_t>(align4(len), uint32_t(b.size()) - at);
  }
}

int Kernel::rtnl_link_request(Process& p, Socket& s, const std::vector<uint8_t>& b, uint32_t at, uint32_t len) {
  // rtnetlink_rcv_msg(): the type, at least one byte of family, then the
  // privilege for anything but GET: CAP_NET_ADMIN over the socket's namespace.
  const uint16_t type = get<uint16_t>(b, at + 4), flags = get<uint16_t>(b, at + 6);
  const uint32_t seq = get<uint32_t>(b, at + 8);
  if (type > kRTM_MAX) return -kEOPNOTSUPP;
  if (len - kHdr < 1) return 0;
  const uint32_t kind = (type - kRTM_NEWLINK) & 3;  // NEW, DEL, GET, SET
  if (kind != 2 && !capable(p, *s.ns->owner)) return -kEPERM;
  if (type < kRTM_NEWLINK || type > kRTM_SETLINK) return -kEOPNOTSUPP;  // addresses, routes...: not modelled
  NetStack& net = *s.stack;
  if (type == kRTM_GETLINK && (flags & kNLM_F_DUMP) == kNLM_F_DUMP) {
    // rtnl_dump_ifinfo(): every link in one datagram, then NLMSG_DONE in
    // the next; a dump is never acked (netlink_dump_start() says -EINTR).
    std::vector<uint8_t> all;
    for (const auto& d : net.devices) {
      const std::vector<uint8_t> m = link_message(*d, kNLM_F_MULTI, seq, s.portid);
      all.insert(all.end(), m.begin(), m.end());
    }
    s.push(Datagram{std::move(all), {}});
    std::vector<uint8_t> done = header(kNLMSG_DONE, kNLM_F_MULTI, seq, s.portid);
    done.resize(kHdr + 4, 0);
    put<uint32_t>(done, 0, kHdr + 4);
    s.push(Datagram{std::move(done), {}});
    return -kEINTR;
  }
  // nlmsg_parse(): a whole ifinfomsg, then the attributes.
  if (len < kHdr + kIfinfo) return -kEINVAL;
  const uint32_t ifm = at + kHdr;
  const int32_t ifi_index = get<int32_t>(b, ifm + 4);
  const uint32_t ifi_flags = get<uint32_t>(b, ifm + 8), ifi_change = get<uint32_t>(b, ifm + 12);
  Attrs tb;
  if (const int e = parse(b, ifm + kIfinfo, len - kHdr - kIfinfo, kIflaPolicy, tb)) return e;
  // rtnl_ensure_unique_netns(): one way to name a namespace at most.
  if (tb.count(kIFLA_NET_NS_PID) + tb.count(kIFLA_NET_NS_FD) + tb.count(kIFLA_TARGET_NETNSID) > 1) return -kEINVAL;
  if (tb.count(kIFLA_TARGET_NETNSID)) return -kEINVAL;  // no namespace ids are assigned here
  NetDevice* dev = nullptr;
  bool named = false;
  if (ifi_index > 0) {
    dev = net.find(uint32_t(ifi_index));
    named = true;
  } else if (ifi_index == 0 && tb.count(kIFLA_IFNAME)) {
    dev = net.find(attr_string(b, tb[kIFLA_IFNAME]));
    named = true;
  } else if (ifi_index < 0 && type == kRTM_NEWLINK) {
    return -kEINVAL;  // "ifindex can't be negative"
  }

  // The namespace IFLA_NET_NS_PID / IFLA_NET_NS_FD name, with CAP_NET_ADMIN over it.
  auto target_ns = [&](const Attrs& t, std::shared_ptr<NetNamespace>& out, bool need_cap) {
    int e = 0;
    if (t.count(kIFLA_NET_NS_PID)) {
      out = net_by_pid(p, get<uint32_t>(b, t.at(kIFLA_NET_NS_PID).at));
      if (!out) return -kESRCH;
    } else if (t.count(kIFLA_NET_NS_FD)) {
      out = net_by_fd(p, get<uint32_t>(b, t.at(kIFLA_NET_NS_FD).at), e);
      if (!out) return e;
    } else {
      out = s.ns;
    }
    return need_cap && !capable(p, *out->owner) ? -kEPERM : 0;
  };

  if (type == kRTM_GETLINK) {  // rtnl_getlink()
    if (!named) return -kEINVAL;
    if (!dev) return -kENODEV;
    s.push(Datagram{link_message(*dev, 0, seq, s.portid), {}});
    return 0;
  }
  if (type == kRTM_DELLINK) {  // rtnl_dellink(): only veth has a dellink
    if (!named) return -kEINVAL;
    if (!dev) return -kENODEV;
    if (dev->kind != NetDevice::Kind::Veth) return -kEOPNOTSUPP;
    delete_veth(*dev);
    return 0;
  }

  // RTM_NEWLINK / RTM_SETLINK. The link info first (rtnl_newlink()).
  Attrs linfo;
  std::string kind_name;
  if (type == kRTM_NEWLINK && tb.count(kIFLA_LINKINFO)) {
    const Attr& li = tb[kIFLA_LINKINFO];
    if (const int e = parse(b, li.at, li.len, kInfoPolicy, linfo)) return e;
    if (linfo.count(kIFLA_INFO_KIND)) kind_name = attr_string(b, linfo[kIFLA_INFO_KIND]);
  }
  const bool veth = kind_name == "veth";  // the only kind this kernel has
  if (type == kRTM_SETLINK && !named) return -kEINVAL;
  if (type == kRTM_SETLINK && !dev) return -kENODEV;
  if (dev) {
    if (type == kRTM_NEWLINK) {
      if (flags & kNLM_F_EXCL) return -kEEXIST;
      if (flags & kNLM_F_REPLACE) return -kEOPNOTSUPP;
      if (linfo.count(kIFLA_INFO_DATA)) return -kEOPNOTSUPP;  // veth has no changelink
    }
    // do_setlink(), in its order: namespace, MTU, name (by index only), flags.
    std::shared_ptr<NetDevice> keep = dev->home->ref(*dev);
    if (tb.count(kIFLA_NET_NS_PID) || tb.count(kIFLA_NET_NS_FD)) {
      std::shared_ptr<NetNamespace> to;
      if (const int e = target_ns(tb, to, true)) return e;
      // __dev_change_net_namespace(): the same namespace is nothing to do
      // (even for lo); lo never leaves its own (NETIF_F_NETNS_LOCAL).
      if (to.get() != dev->home && dev->kind == NetDevice::Kind::Loopback) return -kEINVAL;
      if (to.get() != dev->home && to->find(dev->name)) {
        if (!tb.count(kIFLA_IFNAME)) return -kEEXIST;
        const std::string n = attr_string(b, tb[kIFLA_IFNAME]);
        if (!valid_ifname(n)) return -kEINVAL;
        if (to->find(n)) return -kEEXIST;
        dev->name = n;
      }
      if (const int e = move_device(*dev, *to)) return e;
    }
    if (tb.count(kIFLA_MTU)) {
      const uint32_t mtu = get<uint32_t>(b, tb[kIFLA_MTU].at);
      if (mtu < 68 || mtu > 65535) return -kEINVAL;  // ETH_MIN_MTU..ETH_MAX_MTU
      dev->mtu = mtu;
    }
    if (ifi_index > 0 && tb.count(kIFLA_IFNAME)) {
      std::string n = attr_string(b, tb[kIFLA_IFNAME]);
      if (n != dev->name) {  // dev_change_name(): an UP device may be renamed since Linux 6.2
        if (!valid_ifname(n)) return -kEINVAL;
        // A "%d" template takes the first free number; another '%' is EINVAL (dev_alloc_name_ns()).
        const size_t pc = n.find('%');
        if (pc != std::string::npos) {
          if (n.compare(pc, 2, "%d") != 0 || n.find('%', pc + 1) != std::string::npos) return -kEINVAL;
          n = dev->home->alloc_name(n);
          if (n.empty()) return -kENFILE;
        }
        if (dev->home->find(n)) return -kEEXIST;
        dev->name = n;
      }
    }
    if (ifi_flags || ifi_change) dev->home->set_up(*dev, wants_up(*dev, ifi_flags, ifi_change));
    return 0;
  }
  if (!(flags & kNLM_F_CREATE)) return -kENODEV;
  if (tb.count(kIFLA_MAP) || tb.count(kIFLA_PROTINFO)) return -kEOPNOTSUPP;
  if (!veth) return -kEOPNOTSUPP;  // "Unknown device type"
  // rtnl_newlink_create() + veth_newlink().
  std::shared_ptr<NetNamespace> dest, peer_ns;
  if (const int e = target_ns(tb, dest, true)) return e;
  const std::string name = tb.count(kIFLA_IFNAME) ? attr_string(b, tb[kIFLA_IFNAME]) : "veth%d";
  std::string peer_name = "veth%d";
  uint32_t peer_index = 0;
  Attrs peer_tb;
  if (linfo.count(kIFLA_INFO_DATA)) {
    Attrs data;
    const Attr& d = linfo[kIFLA_INFO_DATA];
    if (const int e = parse(b, d.at, d.len, kVethPolicy, data)) return e;
    if (data.count(kVETH_INFO_PEER)) {
      const Attr& pa = data[kVETH_INFO_PEER];
      if (const int e = parse(b, pa.at + kIfinfo, pa.len - kIfinfo, kIflaPolicy, peer_tb)) return e;
      if (peer_tb.count(kIFLA_IFNAME)) peer_name = attr_string(b, peer_tb[kIFLA_IFNAME]);
      if (ifi_index > 0) peer_index = uint32_t(std::max(get<int32_t>(b, pa.at + 4), 0));
    }
  }
  if (const int e = target_ns(peer_tb, peer_ns, true)) return e;
  if (!valid_ifname(name) || !valid_ifname(peer_name)) return -kEINVAL;
  if (const int e = create_veth(*dest, name, uint32_t(std::max(ifi_index, 0)), *peer_ns, peer_name, peer_index))
    return e;
  // rtnl_configure_link(): the new device takes ifi_flags (the peer stays down).
  NetDevice* made = ifi_index > 0 ? dest->find(uint32_t(ifi_index)) : nullptr;
  if (!made) made = dest->devices.all.back().get();
  if (ifi_flags || ifi_change) dest->set_up(*made, wants_up(*made, ifi_flags, ifi_change));
  return 0;
}

std::shared_ptr<NetNamespace> Kernel::net_by_pid(Process& caller, uint32_t pid) {
  // get_net_ns_by_pid(): a live process the caller's PID namespace can name.
  Process* t = find(caller, pid);
  return t && t->state != ProcState::Zombie ? t->ns.net : nullptr;
}

std::shared_ptr<NetNamespace> Kernel::net_by_fd(Process& caller, uint32_t fd, int& error) {
  // get_net_ns_by_fd(): an open /proc/PID/ns/net (EBADF: no descriptor; EINVAL: another file).
  const FileRef f = caller.files.get(int(fd));
  if (!f) {
    error = -kEBADF;
    return nullptr;
  }
  if (f->kind != OpenFile::Kind::Namespace || f->ns.type != kNsNet) {
    error = -kEINVAL;
    return nullptr;
  }
  return std::static_pointer_cast<NetNamespace>(f->ns.ns);
}

int Kernel::net_attach_veth(uint32_t pid, std::string& host_name) {
  Process* t = process_in(*init_ns_.pid, pid);
  if (!t || t->state == ProcState::Zombie) return -kESRCH;
  NetNamespace& host = *init_ns_.net;
  NetNamespace& inner = *t->ns.net;
  if (&inner == &host) return -kEINVAL;  // the process shares the host's network
  if (inner.find("eth0")) return -kEEXIST;
  host_name = host.alloc_name("veth%d");
  if (const int e = create_veth(host, host_name, 0, inner, "eth0", 0)) return e;
  host.set_up(*host.find(host_name), true);
  inner.set_up(*inner.find("eth0"), true);
  return 0;
}

}  // namespace vs::container_sim
