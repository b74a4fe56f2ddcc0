// Network devices of a network namespace, and the frames between them
// (network_namespaces(7), veth(4), packet(7); ../shared/SEMANTICS.md §1.5;
// docs/container-sim/network.md).
//
// A namespace's devices are a NetStack (a base of NetNamespace, namespaces.h):
//   lo    ifindex 1 in every namespace; frames sent on it come back on it.
//   eth0  the initial namespace's one "physical" NIC. Its cable goes
//         nowhere: a frame sent on it is counted and dropped.
//   veth  pairs: a frame sent on one end is received on its peer, wherever
//         the peer lives. Deleting either end deletes both.
// ifindex is per namespace (Linux 3.7, "net: Make ifindex generation
// per-net namespace"): each NetStack counts its own, lo takes 1 and a new
// device the next free number after the last one handed out.
//
// When a namespace is freed (its last process and last /proc/PID/ns/net or
// socket are gone; shared_ptr is the reference count) its veth ends and
// their peers are deleted and its physical devices move back to the
// initial namespace (~NetStack), as network_namespaces(7) says.
//
// Packet sockets (AF_PACKET, SOCK_RAW) are the only way a guest sees
// frames; sockets.cpp serves the system calls, this file the delivery.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vs::container_sim {

struct NetNamespace;
struct NetStack;
struct Socket;

// include/uapi/linux/if.h net_device_flags, as ifinfomsg.ifi_flags shows them.
constexpr uint32_t kIFF_UP = 0x1, kIFF_BROADCAST = 0x2, kIFF_LOOPBACK = 0x8, kIFF_RUNNING = 0x40;
constexpr uint32_t kIFF_MULTICAST = 0x1000, kIFF_LOWER_UP = 0x10000;
constexpr uint32_t kIfNameSize = 16;  // IFNAMSIZ, the NUL included
constexpr uint32_t kEthHeader = 14;   // ETH_HLEN: dest, source, ethertype

struct NetDevice {
  enum class Kind : uint8_t { Loopback, Physical, Veth };
  Kind kind = Kind::Veth;
  std::string name;
  uint32_t ifindex = 0;
  bool up = false;                 // IFF_UP: set by the administrator (ifi_flags)
  uint32_t mtu = 1500;             // lo 65536
  uint8_t mac[6] = {};             // lo all zero; others 02:... (locally administered, deterministic)
  NetStack* home = nullptr;        // the namespace it is in now
  std::weak_ptr<NetDevice> peer;   // Veth: the other end
  struct Stats {                   // /proc/net/dev's columns that move here
    uint64_t rx_bytes = 0, rx_packets = 0, rx_dropped = 0, tx_bytes = 0, tx_packets = 0, tx_dropped = 0;
  } stats;

  // netif_carrier_ok(): lo and eth0 when up; a veth end when both ends are up (veth_open).
  bool carrier() const;
  // dev_get_flags() as rtnetlink reports it: the fixed flags, IFF_UP, and
  // IFF_RUNNING | IFF_LOWER_UP while up with a carrier.
  uint32_t flags() const;
  uint16_t arp_type() const { return kind == Kind::Loopback ? 772 : 1; }  // ARPHRD_LOOPBACK, ARPHRD_ETHER
};

// The namespace's devices, in registration order (Linux's dev_base_head,
// the order /proc/net/dev and a link dump list them). `devices[0]` is lo.
struct NetDeviceList {
  std::vector<std::shared_ptr<NetDevice>> all;
  NetDevice& operator[](size_t i) const { return *all[i]; }
  size_t size() const { return all.size(); }
  auto begin() const { return all.begin(); }
  auto end() const { return all.end(); }
};

struct NetStack {
  explicit NetStack(bool initial);  // initial: lo and eth0 (kernel.cpp makes it); else lo only
  ~NetStack();
  NetStack(const NetStack&) = delete;
  NetStack& operator=(const NetStack&) = delete;

  NetDeviceList devices;
  bool is_initial;
  std::weak_ptr<NetNamespace> initial;  // where physical devices go back to (unset in the initial one)
  uint32_t last_ifindex = 0;            // the last index handed out (dev_index_reserve's cyclic cursor)
  bool main_table;                      // the FIB's main table exists: /proc/net/route shows its header
  std::vector<std::weak_ptr<Socket>> packet_sockets;   // AF_PACKET sockets of this namespace
  std::map<int32_t, std::weak_ptr<Socket>> netlink_ports;  // bound netlink sockets by port id
  int32_t netlink_rover = -4096;                        // netlink_autobind()'s next negative id

  NetDevice* find(uint32_t ifindex) const;
  NetDevice* find(const std::string& name) const;
  std::shared_ptr<NetDevice> ref(const NetDevice& d) const;  // the owning pointer of one of ours
  uint32_t new_ifindex();  // the next free index after last_ifindex
  // register_netdevice(): `want` 0 takes a new index; else that one (EBUSY if used).
  int attach(std::shared_ptr<NetDevice> d, uint32_t want);
  // unregister: out of the list, down first; bound packet sockets get ENETDOWN.
  std::shared_ptr<NetDevice> detach(NetDevice& d);
  // dev_open/dev_close: IFF_UP, telling the packet sockets bound to d and to its peer.
  void set_up(NetDevice& d, bool up);
  // A name free here for a template with "%d" (dev_alloc_name: the lowest free number).
  std::string alloc_name(const std::string& pattern) const;
};

// dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or white space.
bool valid_ifname(const std::string& name);

// The deletion of a veth pair (rtnl_delete_link -> veth_dellink): both ends.
void delete_veth(NetDevice& end);
// dev_change_net_namespace(): down, out of `from`, into `to` with the same
// index when it is free there (a new one otherwise). 0 or -errno: EINVAL for lo.
int move_device(NetDevice& d, NetStack& to);
// A new veth pair: `name` in `a`, `peer_name` in `b` (peer registered first,
// as veth_newlink does, so it gets the lower index when a == b). 0 or -errno.
int create_veth(NetStack& a, const std::string& name, uint32_t want_index, NetStack& b,
                const std::string& peer_name, uint32_t peer_index);

// Transmits one whole Ethernet frame on d (dev_queue_xmit): a copy to the
// other packet sockets bound on d (PACKET_OUTGOING), then lo loops it back,
// eth0 drops it at the end of its cable, a veth end hands it to its peer if
// that is up. `sender` is skipped for the outgoing copy (skb_loop_sk()).
void transmit(NetDevice& d, const std::vector<uint8_t>& frame, const Socket* sender);

// A socket (socket(2)): AF_NETLINK NETLINK_ROUTE (netlink.cpp) or AF_PACKET
// SOCK_RAW (sockets.cpp). It holds its namespace, as Linux's sk_net does.
struct Datagram {
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> addr;  // what recvfrom's src_addr gets (sockaddr_nl / sockaddr_ll)
};
struct Socket {
  enum class Family : uint8_t { Netlink, Packet };
  Family family = Family::Packet;
  uint32_t type = 0;                   // SOCK_RAW (3) or SOCK_DGRAM (2, netlink only)
  bool nonblock = false;               // SOCK_NONBLOCK
  std::shared_ptr<NetNamespace> ns;    // the namespace it was made in
  NetStack* stack = nullptr;           // ns's devices
  std::deque<Datagram> queue;          // received, not yet read
  uint32_t queued = 0;                 // bytes in `queue` (sk_rmem_alloc, without the overhead)
  int error = 0;                       // sk_err: the next receive returns -error once
  // AF_PACKET
  uint16_t protocol = 0;               // ethertype in network order; 0 = receive nothing
  int32_t ifindex = 0;                 // bound device; 0 = every device; -1 = it went away
  bool running = false;                // the protocol hook is registered: frames arrive
  // AF_NETLINK
  int32_t portid = 0;                  // 0 until bound (bind, or the first send)
  bool cap_ack = false;                // NETLINK_CAP_ACK: errors carry only the header
  // Queues one datagram unless the receive buffer (net.core.rmem_default) is full.
  bool push(Datagram d);
};
constexpr uint32_t kRcvBuf = 212992;  // net.core.rmem_default

// /proc/net/dev and /proc/net/route of a namespace (exact Linux text).
std::string proc_net_dev(const NetStack& ns);
std::string proc_net_route(const NetStack& ns);

}  // namespace vs::container_sim
