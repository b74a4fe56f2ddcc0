// Network devices and the frames between them (net.h). Each rule names the
// Linux function whose behaviour it follows (net/core/dev.c,
// drivers/net/veth.c, net/packet/af_packet.c, net/core/net-procfs.c).
#include "net.h"

#include <algorithm>
#include <cstdio>

#include "linux_abi.h"
#include "namespaces.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr uint16_t kEthPAll = 0x0300;  // htons(ETH_P_ALL): every frame
constexpr uint8_t kPacketHost = 0, kPacketBroadcast = 1, kPacketMulticast = 2, kPacketOtherHost = 3;
constexpr uint8_t kPacketOutgoing = 4;

void set_mac(NetDevice& d, uint32_t serial) {
  // Linux gives veth ends random addresses (eth_hw_addr_random); here they
  // are locally administered (bit 1 of the first byte) and deterministic.
  const uint8_t mac[6] = {0x02, 0x76, 0x73, uint8_t(serial >> 16), uint8_t(serial >> 8), uint8_t(serial)};
  std::copy(mac, mac + 6, d.mac);
}

// A device number for set_mac that differs between the ends of a pair.
uint32_t mac_serial(const NetStack& s, uint32_t salt) { return (uint32_t(s.devices.size()) << 8) ^ (s.last_ifindex << 12) ^ salt; }

// The sockaddr_ll a packet socket's recvfrom gets (packet(7)): family,
// protocol, ifindex, hatype, pkttype, halen 6, the source address; 20 bytes.
std::vector<uint8_t> sockaddr_ll(const NetDevice& d, uint16_t proto_be, uint8_t pkttype, const uint8_t* src) {
  std::vector<uint8_t> a(20, 0);
  a[0] = 17;  // AF_PACKET
  std::copy_n(reinterpret_cast<const uint8_t*>(&proto_be), 2, &a[2]);
  const int32_t index = int32_t(d.ifindex);
  std::copy_n(reinterpret_cast<const uint8_t*>(&index), 4, &a[4]);
  const uint16_t hatype = d.arp_type();
  std::copy_n(reinterpret_cast<const uint8_t*>(&hatype), 2, &a[8]);
  a[10] = pkttype;
  a[11] = 6;
  std::copy_n(src, 6, &a[12]);
  return a;
}

// eth_type_trans(): skb->protocol (network order) and the packet type as seen by `d`.
uint16_t frame_protocol(const std::vector<uint8_t>& f) {
  const uint16_t type = uint16_t(f[12] << 8 | f[13]);
  if (type >= 0x600) return uint16_t(f[13] << 8 | f[12]);  // as stored: network order
  // 802.3 length field: raw IPX (0xFFFF) is ETH_P_802_3, else 802.2 LLC.
  const bool raw = f.size() >= 16 && f[14] == 0xFF && f[15] == 0xFF;
  return raw ? 0x0100 : 0x0400;
}
// eth_type_trans(): our address is HOST; else a group address is BROADCAST
// only if it is the device's broadcast address (lo's is all zero, so
// ff:ff:ff:ff:ff:ff is MULTICAST there), else MULTICAST; else OTHERHOST.
uint8_t packet_type(const NetDevice& d, const std::vector<uint8_t>& f) {
  if (std::equal(f.begin(), f.begin() + 6, d.mac)) return kPacketHost;
  if (!(f[0] & 1)) return kPacketOtherHost;
  const uint8_t bcast = d.kind == NetDevice::Kind::Loopback ? 0x00 : 0xFF;
  for (int i = 0; i < 6; ++i)
    if (f[size_t(i)] != bcast) return kPacketMulticast;
  return kPacketBroadcast;
}

// The bytes a device counts: lo counts after eth_type_trans() took the
// header off (loopback_xmit()); the others the whole frame.
uint64_t counted(const NetDevice& d, const std::vector<uint8_t>& f) {
  return d.kind == NetDevice::Kind::Loopback ? f.size() - kEthHeader : f.size();
}

// Hands `f` to the packet sockets of d's namespace listening on d: every
// running socket bound to d or to all devices, ETH_P_ALL ones always, others
// when the ethertype matches (outgoing copies go only to ETH_P_ALL taps,
// dev_queue_xmit_nit()).
void deliver(NetDevice& d, const std::vector<uint8_t>& f, uint8_t pkttype, const Socket* skip) {
  const uint16_t proto = frame_protocol(f);
  for (const std::weak_ptr<Socket>& w : d.home->packet_sockets) {
    const std::shared_ptr<Socket> s = w.lock();
    if (!s || s.get() == skip || !s->running) continue;
    if (s->ifindex != 0 && s->ifindex != int32_t(d.ifindex)) continue;
    if (s->protocol != kEthPAll && (pkttype == kPacketOutgoing || s->protocol != proto)) continue;
    s->push(Datagram{f, sockaddr_ll(d, proto, pkttype, &f[6])});
  }
}

void receive(NetDevice& r, const std::vector<uint8_t>& f) {
  r.stats.rx_packets++;
  r.stats.rx_bytes += counted(r, f);
  deliver(r, f, packet_type(r, f), nullptr);
}
}  // namespace

bool NetDevice::carrier() const {
  if (!up) return false;
  if (kind != Kind::Veth) return true;
  const std::shared_ptr<NetDevice> p = peer.lock();
  return p && p->up;
}

uint32_t NetDevice::flags() const {
  uint32_t f = kind == Kind::Loopback ? kIFF_LOOPBACK : kIFF_BROADCAST | kIFF_MULTICAST;
  if (up) f |= kIFF_UP;
  if (carrier()) f |= kIFF_RUNNING | kIFF_LOWER_UP;
  return f;
}

bool Socket::push(Datagram d) {
  if (queued >= kRcvBuf) return false;  // packet_rcv(): sk_rmem_alloc >= sk_rcvbuf drops
  queued += uint32_t(d.bytes.size());
  queue.push_back(std::move(d));
  return true;
}

NetStack::NetStack(bool initial) : is_initial(initial), main_table(initial) {
  auto lo = std::make_shared<NetDevice>();
  lo->kind = NetDevice::Kind::Loopback;
  lo->name = "lo";
  lo->mtu = 65536;
  attach(lo, 0);  // ifindex 1 (LOOPBACK_IFINDEX) in every namespace
  if (!initial) return;
  auto eth = std::make_shared<NetDevice>();
  eth->kind = NetDevice::Kind::Physical;
  eth->name = "eth0";
  eth->up = true;  // a booted host's NIC is up, its cable plugged in
  const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::copy(mac, mac + 6, eth->mac);
  attach(eth, 0);
}

NetStack::~NetStack() {
  // cleanup_net(): veth ends go (veth_dellink takes the peer with it, in
  // whatever namespace it lives), physical devices go back to the initial
  // namespace (default_device_exit_net), lo goes with the namespace.
  const std::vector<std::shared_ptr<NetDevice>> list = std::move(devices.all);
  devices.all.clear();
  // Linux's order (ops_exit_list() before ops_exit_batch()): physical
  // devices move first, while the veth peers elsewhere still hold their
  // indexes; then the veth pairs go.
  const std::shared_ptr<NetNamespace> init = initial.lock();
  for (const std::shared_ptr<NetDevice>& d : list) {
    d->home = nullptr;
    d->up = false;
    if (d->kind != NetDevice::Kind::Physical || !init) continue;
    NetStack& to = *init;
    // A name taken there: "devIFINDEX", or the first free devN.
    if (to.find(d->name)) {
      d->name = "dev" + std::to_string(d->ifindex);
      if (to.find(d->name)) d->name = to.alloc_name("dev%d");
    }
    to.attach(d, to.find(d->ifindex) ? 0 : d->ifindex);
  }
  for (const std::shared_ptr<NetDevice>& d : list) {
    if (d->kind != NetDevice::Kind::Veth) continue;
    const std::shared_ptr<NetDevice> p = d->peer.lock();
    if (p && p->home && p->home != this) p->home->detach(*p);
    if (p) p->peer.reset();
    d->peer.reset();
  }
}

NetDevice* NetStack::find(uint32_t ifindex) const {
  for (const auto& d : devices.all)
    if (d->ifindex == ifindex) return d.get();
  return nullptr;
}

NetDevice* NetStack::find(const std::string& name) const {
  for (const auto& d : devices.all)
    if (d->name == name) return d.get();
  return nullptr;
}

std::shared_ptr<NetDevice> NetStack::ref(const NetDevice& d) const {
  for (const auto& p : devices.all)
    if (p.get() == &d) return p;
  return nullptr;
}

uint32_t NetStack::new_ifindex() {
  // dev_index_reserve(): xa_alloc_cyclic over 1..INT_MAX from the last one.
  for (uint32_t i = last_ifindex + 1;; ++i) {
    if (i == 0 || i > 0x7FFFFFFFu) i = 1;
    if (!find(i)) return last_ifindex = i;
  }
}

int NetStack::attach(std::shared_ptr<NetDevice> d, uint32_t want) {
  if (want && find(want)) return -kEBUSY;
  d->ifindex = want ? want : new_ifindex();
  d->home = this;
  if (d->kind != NetDevice::Kind::Loopback && d->mac[0] == 0) set_mac(*d, mac_serial(*this, d->ifindex));
  devices.all.push_back(std::move(d));
  return 0;
}

std::shared_ptr<NetDevice> NetStack::detach(NetDevice& d) {
  set_up(d, false);  // dev_close() first: NETDEV_DOWN
  // NETDEV_UNREGISTER (packet_notifier): sockets bound to it lose it.
  for (const std::weak_ptr<Socket>& w : packet_sockets)
    if (const auto s = w.lock(); s && s->ifindex == int32_t(d.ifindex)) s->ifindex = -1;
  std::shared_ptr<NetDevice> keep;
  for (auto it = devices.all.begin(); it != devices.all.end(); ++it) {
    if (it->get() != &d) continue;
    keep = *it;
    devices.all.erase(it);
    break;
  }
  d.home = nullptr;
  return keep;
}

void NetStack::set_up(NetDevice& d, bool up) {
  if (d.up == up) return;
  d.up = up;
  // Bringing lo up gives it 127.0.0.1, which makes the FIB's tables: from
  // then on /proc/net/route has its header (fib_route_seq_start()).
  if (up && d.kind == NetDevice::Kind::Loopback) main_table = true;
  // packet_notifier(): NETDEV_UP registers the hooks of sockets bound to d
  // that have a protocol; NETDEV_DOWN unregisters them with sk_err ENETDOWN.
  for (const std::weak_ptr<Socket>& w : packet_sockets) {
    const std::shared_ptr<Socket> s = w.lock();
    if (!s || s->ifindex != int32_t(d.ifindex)) continue;
    if (up && s->protocol && !s->running) s->running = true;
    if (!up && s->running) {
      s->running = false;
      s->error = kENETDOWN;
    }
  }
}

std::string NetStack::alloc_name(const std::string& pattern) const {
  const size_t at = pattern.find("%d");
  for (unsigned n = 0; n < 32768; ++n) {
    const std::string name = pattern.substr(0, at) + std::to_string(n) + pattern.substr(at + 2);
    if (name.size() < kIfNameSize && !find(name)) return name;
  }
  return "";
}

bool valid_ifname(const std::string& name) {
  if (name.empty() || name.size() >= kIfNameSize || name == "." || name == "..") return false;
  for (const char c : name)
    if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r') || c == '\0') return false;
  return true;
}

void delete_veth(NetDevice& end) {
  const std::shared_ptr<NetDevice> peer = end.peer.lock();
  const std::shared_ptr<NetDevice> keep = end.home ? end.home->detach(end) : nullptr;
  if (peer && peer->home) peer->home->detach(*peer);
  end.peer.reset();
  if (peer) peer->peer.reset();
}

int move_device(NetDevice& d, NetStack& to) {
  if (d.home == &to) return 0;
  if (d.kind == NetDevice::Kind::Loopback) return -kEINVAL;  // NETIF_F_NETNS_LOCAL
  if (to.find(d.name)) return -kEEXIST;
  const std::shared_ptr<NetDevice> keep = d.home->detach(d);
  // The same index when it is free there (dev_change_net_namespace()).
  to.attach(keep, to.find(keep->ifindex) ? 0 : keep->ifindex);
  return 0;
}

int create_veth(NetStack& a, const std::string& name, uint32_t want_index, NetStack& b, const std::string& peer_name,
                uint32_t peer_index) {
  // veth_newlink(): the peer is registered first, then the device; a
  // failure of the second unregisters the first.
  auto resolve = [](const NetStack& s, const std::string& n, std::string& out) {
    // dev_alloc_name_ns(): one "%d" takes the first free number; any other '%' is EINVAL.
    const size_t pc = n.find('%');
    if (pc != std::string::npos && (n.compare(pc, 2, "%d") != 0 || n.find('%', pc + 1) != std::string::npos))
      return -kEINVAL;
    out = pc != std::string::npos ? s.alloc_name(n) : n;
    if (out.empty()) return -kENFILE;
    return s.find(out) ? -kEEXIST : 0;
  };
  std::string pn, dn;
  if (const int e = resolve(b, peer_name, pn)) return e;
  auto peer = std::make_shared<NetDevice>();
  peer->name = pn;
  if (const int e = b.attach(peer, peer_index)) return e;
  auto dev = std::make_shared<NetDevice>();
  int e = resolve(a, name, dn);
  if (!e) {
    dev->name = dn;
    e = a.attach(dev, want_index);
  }
  if (e) {
    b.detach(*peer);
    return e;
  }
  dev->peer = peer;
  peer->peer = dev;
  return 0;
}

void transmit(NetDevice& d, const std::vector<uint8_t>& frame, const Socket* sender) {
  deliver(d, frame, kPacketOutgoing, sender);  // taps see what leaves (PACKET_OUTGOING)
  switch (d.kind) {
    case NetDevice::Kind::Loopback:  // loopback_xmit(): straight back in
      d.stats.tx_packets++;
      d.stats.tx_bytes += counted(d, frame);
      receive(d, frame);
      return;
    case NetDevice::Kind::Physical:  // the cable ends here: sent, never answered
      d.stats.tx_packets++;
      d.stats.tx_bytes += frame.size();
      return;
    case NetDevice::Kind::Veth: {  // veth_xmit(): to the peer if it is up, else dropped
      const std::shared_ptr<NetDevice> p = d.peer.lock();
      if (!p || !p->up) {
        d.stats.tx_dropped++;
        return;
      }
      d.stats.tx_packets++;
      d.stats.tx_bytes += frame.size();
      receive(*p, frame);
      return;
    }
  }
}

std::string proc_net_dev(const NetStack& ns) {
  // dev_seq_show() / dev_seq_printf_stats(), net/core/net-procfs.c.
  std::string text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier "
      "compressed\n";
  char line[256];
  for (const auto& d : ns.devices) {
    const NetDevice::Stats& s = d->stats;
    std::snprintf(line, sizeof line,
                  "%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu %7llu %4llu %4llu %4llu %5llu %7llu "
                  "%10llu\n",
                  d->name.c_str(), (unsigned long long)s.rx_bytes, (unsigned long long)s.rx_packets, 0ull,
                  (unsigned long long)s.rx_dropped, 0ull, 0ull, 0ull, 0ull, (unsigned long long)s.tx_bytes,
                  (unsigned long long)s.tx_packets, 0ull, (unsigned long long)s.tx_dropped, 0ull, 0ull, 0ull, 0ull);
    text += line;
  }
  return text;
}

std::string proc_net_route(const NetStack& ns) {
  // fib_route_seq_show(): the header padded to 127 columns, then one line a
  // route. No IPv4 routes are modelled, and a namespace whose main table
  // was never made (nothing brought up yet) shows nothing at all.
  if (!ns.main_table) return "";
  char line[160];
  std::snprintf(line, sizeof line, "%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT");
  return line;
}

}  // namespace vs::container_sim
