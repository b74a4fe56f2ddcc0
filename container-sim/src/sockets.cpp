// The socket system calls (socket(2), bind(2), sendto(2), recvfrom(2),
// sendmsg(2), recvmsg(2), getsockname(2), setsockopt(2), and i386's
// multiplexer socketcall(2)) over the two families modelled: AF_NETLINK
// NETLINK_ROUTE (requests go to netlink.cpp) and AF_PACKET SOCK_RAW (whole
// Ethernet frames on one device, packet(7); delivery in net.cpp).
// docs/container-sim/network.md lists what is not modelled.
#include <algorithm>
#include <cstring>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr uint32_t kAF_UNSPEC = 0, kAF_NETLINK = 16, kAF_PACKET = 17, kNPROTO = 46;
constexpr uint32_t kSOCK_DGRAM = 2, kSOCK_RAW = 3, kSOCK_MAX = 11, kSOCK_NONBLOCK = 0x800, kSOCK_CLOEXEC = 0x80000;
constexpr uint32_t kMSG_OOB = 1, kMSG_PEEK = 2, kMSG_TRUNC = 0x20, kMSG_DONTWAIT = 0x40;
constexpr uint32_t kSOL_SOCKET = 1, kSOL_NETLINK = 270;
constexpr uint32_t kSockaddrStorage = 128, kSockaddrNl = 12, kSockaddrLl = 20;
constexpr uint32_t kMaxIov = 1024;  // UIO_MAXIOV

// The socket behind descriptor fd: EBADF, or ENOTSOCK for another file (sockfd_lookup_light()).
Socket* socket_of(Process& p, uint32_t fd, int& error) {
  const FileRef f = p.files.get(int(fd));
  error = !f ? -kEBADF : f->kind != OpenFile::Kind::Socket ? -kENOTSOCK : 0;
  return error ? nullptr : f->socket.get();
}

std::vector<uint8_t> sockaddr_nl(int32_t portid) {
  std::vector<uint8_t> a(kSockaddrNl, 0);
  a[0] = uint8_t(kAF_NETLINK);
  std::memcpy(&a[4], &portid, 4);
  return a;
}

// move_addr_to_kernel(): 0..128 bytes from the user.
int addr_in(Process& p, uint32_t uaddr, uint32_t len, std::vector<uint8_t>& out) {
  if (int32_t(len) < 0 || len > kSockaddrStorage) return -kEINVAL;
  out.resize(len);
  return len && p.mm->copy_in(out.data(), uaddr, len) < 0 ? -kEFAULT : 0;
}

// move_addr_to_user(): at most *ulen bytes of the address; *ulen becomes its real length.
int addr_out(Process& p, const std::vector<uint8_t>& a, uint32_t uaddr, uint32_t ulen_ptr) {
  int32_t ulen = 0;
  if (p.mm->copy_in(&ulen, ulen_ptr, 4) < 0) return -kEFAULT;
  if (ulen < 0) return -kEINVAL;
  const uint32_t n = std::min<uint32_t>(uint32_t(ulen), uint32_t(a.size()));
  if (n && p.mm->copy_out(uaddr, a.data(), n) < 0) return -kEFAULT;
  const int32_t klen = int32_t(a.size());
  return p.mm->copy_out(ulen_ptr, &klen, 4) < 0 ? -kEFAULT : 0;
}
}  // namespace

SysResult Kernel::sys_socket(Process& p, const SyscallArgs& args) {
  const uint32_t family = args.a[0], protocol = args.a[2];
  uint32_t type = args.a[1];
  // __sys_socket(): only SOCK_CLOEXEC and SOCK_NONBLOCK beside the type.
  if (type & ~(0xFu | kSOCK_CLOEXEC | kSOCK_NONBLOCK)) return SysResult::done(-kEINVAL);
  const bool nonblock = type & kSOCK_NONBLOCK;
  type &= 0xF;
  if (family >= kNPROTO) return SysResult::done(-kEAFNOSUPPORT);
  if (type >= kSOCK_MAX) return SysResult::done(-kEINVAL);
  auto s = std::make_shared<Socket>();
  s->ns = p.ns.net;
  s->stack = p.ns.net.get();
  s->type = type;
  s->nonblock = nonblock;
  if (family == kAF_NETLINK) {
    // netlink_create(): raw or datagram; only NETLINK_ROUTE is modelled.
    if (type != kSOCK_RAW && type != kSOCK_DGRAM) return SysResult::done(-kESOCKTNOSUPPORT);
    if (protocol != 0) return SysResult::done(-kEPROTONOSUPPORT);
    s->family = Socket::Family::Netlink;
  } else if (family == kAF_PACKET) {
    // packet_create(): CAP_NET_RAW over the namespace; SOCK_DGRAM and
    // SOCK_PACKET (cooked frames) are not modelled.
    if (!capable(p, *p.ns.net->owner)) return SysResult::done(-kEPERM);
    if (type != kSOCK_RAW) return SysResult::done(-kESOCKTNOSUPPORT);
    s->family = Socket::Family::Packet;
    s->protocol = uint16_t(protocol);  // "weird, but documented": already in network order
    s->running = s->protocol != 0;     // a protocol hooks it on every device at once
    auto& list = s->stack->packet_sockets;
    list.erase(std::remove_if(list.begin(), list.end(), [](const auto& w) { return w.expired(); }), list.end());
    list.push_back(s);
  } else {
    return SysResult::done(-kEAFNOSUPPORT);  // AF_UNIX, AF_INET... are not modelled
  }
  auto f = std::make_shared<OpenFile>(OpenFile::Kind::Socket);
  f->socket = std::move(s);
  f->writable = true;
  return SysResult::done(p.files.add(std::move(f)));
}

SysResult Kernel::sys_bind(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  std::vector<uint8_t> a;
  if ((e = addr_in(p, args.a[1], args.a[2], a))) return SysResult::done(e);
  if (s->family == Socket::Family::Packet) {
    // packet_bind(): a whole sockaddr_ll of AF_PACKET; an index that exists.
    if (a.size() < kSockaddrLl || a[0] != kAF_PACKET || a[1] != 0) return SysResult::done(-kEINVAL);
    uint16_t proto;
    int32_t ifindex;
    std::memcpy(&proto, &a[2], 2);
    std::memcpy(&ifindex, &a[4], 4);
    NetDevice* d = ifindex ? s->stack->find(uint32_t(ifindex)) : nullptr;
    if (ifindex && !d) return SysResult::done(-kENODEV);
    s->protocol = proto ? proto : s->protocol;
    s->ifindex = ifindex;
    s->running = false;
    if (s->protocol) {  // packet_do_bind(): hooked if the device is up, else ENETDOWN at once
      if (!d || d->up)
        s->running = true;
      else
        s->error = kENETDOWN;
    }
    return SysResult::done(0);
  }
  // netlink_bind(): groups are accepted (no notifications are sent);
  // nl_pid 0 picks one, another one must be free.
  if (a.size() < kSockaddrNl || a[0] != kAF_NETLINK || a[1] != 0) return SysResult::done(-kEINVAL);
  int32_t want;
  std::memcpy(&want, &a[4], 4);
  if (s->portid) return SysResult::done(want && want != s->portid ? -kEINVAL : 0);
  NetStack& st = *s->stack;
  if (want) {
    if (const auto it = st.netlink_ports.find(want); it != st.netlink_ports.end() && !it->second.expired())
      return SysResult::done(-98);  // EADDRINUSE
    s->portid = want;
  } else {
    s->portid = netlink_autobind(p, *s);
  }
  st.netlink_ports[s->portid] = p.files.get(int(args.a[0]))->socket;
  return SysResult::done(0);
}

int32_t Kernel::netlink_autobind(Process& p, Socket& s) {
  // netlink_autobind(): the caller's PID (as its PID namespace numbers
  // it), or else negative numbers counting down from -4096.
  NetStack& st = *s.stack;
  auto taken = [&](int32_t id) {
    const auto it = st.netlink_ports.find(id);
    return it != st.netlink_ports.end() && !it->second.expired();
  };
  int32_t id = int32_t(p.pids.back());
  while (taken(id)) id = st.netlink_rover--;
  return id;
}

SysResult Kernel::sys_connect(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  if (s->family == Socket::Family::Packet) return SysResult::done(-kEOPNOTSUPP);  // sock_no_connect
  std::vector<uint8_t> a;
  if ((e = addr_in(p, args.a[1], args.a[2], a))) return SysResult::done(e);
  // netlink_connect(): AF_UNSPEC disconnects; only the kernel (port 0) is a peer here.
  if (a.size() < 2) return SysResult::done(-kEINVAL);
  if (a[0] == kAF_UNSPEC && a[1] == 0) return SysResult::done(0);
  if (a[0] != kAF_NETLINK || a[1] != 0 || a.size() < kSockaddrNl) return SysResult::done(-kEINVAL);
  int32_t dst;
  std::memcpy(&dst, &a[4], 4);
  if (dst != 0) return SysResult::done(-kECONNREFUSED);
  if (!s->portid) {
    s->portid = netlink_autobind(p, *s);
    s->stack->netlink_ports[s->portid] = p.files.get(int(args.a[0]))->socket;
  }
  return SysResult::done(0);
}

SysResult Kernel::sys_getsockname(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  std::vector<uint8_t> a;
  if (s->family == Socket::Family::Netlink) {
    a = sockaddr_nl(s->portid);
  } else {
    // packet_getname(): family, protocol, index, and the device's type and address if it exists.
    a.assign(kSockaddrLl, 0);
    a[0] = uint8_t(kAF_PACKET);
    std::memcpy(&a[2], &s->protocol, 2);
    std::memcpy(&a[4], &s->ifindex, 4);
    const NetDevice* d = s->ifindex > 0 ? s->stack->find(uint32_t(s->ifindex)) : nullptr;
    if (d) {
      const uint16_t hatype = d->arp_type();
      std::memcpy(&a[8], &hatype, 2);
      a[11] = 6;
      std::memcpy(&a[12], d->mac, 6);
    }
    a.resize(12 + a[11]);
  }
  return SysResult::done(addr_out(p, a, args.a[1], args.a[2]));
}

SysResult Kernel::sys_setsockopt(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  const uint32_t level = args.a[1], name = args.a[2], len = args.a[4];
  int32_t val = 0;
  if (len >= 4 && p.mm->copy_in(&val, args.a[3], 4) < 0) return SysResult::done(-kEFAULT);
  if (level == kSOL_SOCKET) {
    // Buffer sizes are accepted and change nothing (the model's limits stay).
    if (name == 7 || name == 8 || name == 32 || name == 33) return SysResult::done(len < 4 ? -kEINVAL : 0);
    return SysResult::done(-kENOPROTOOPT);
  }
  if (level == kSOL_NETLINK && s->family == Socket::Family::Netlink) {
    // netlink_setsockopt(): membership (1, 2), pktinfo 3, broadcast_error 4,
    // no_enobufs 5, listen_all_nsid 8, cap_ack 10, ext_ack 11, get_strict_chk 12.
    if (name == 1 || name == 2 || name == 3 || name == 4 || name == 5 || name == 8 || name == 10 || name == 11 ||
        name == 12) {
      if (len < 4) return SysResult::done(name == 1 || name == 2 ? -kEINVAL : 0);
      if (name == 10) s->cap_ack = val != 0;
      return SysResult::done(0);
    }
  }
  return SysResult::done(-kENOPROTOOPT);
}

// --- sending and receiving -------------------------------------------------------------

SysResult Kernel::socket_send(Process& p, Socket& s, const std::vector<uint8_t>& data, uint32_t flags, uint32_t uaddr,
                              uint32_t addrlen) {
  std::vector<uint8_t> a;
  if (uaddr) {
    if (const int e = addr_in(p, uaddr, addrlen, a)) return SysResult::done(e);
  }
  if (s.family == Socket::Family::Netlink) {
    // netlink_sendmsg(): to the kernel (port 0); another port or a group
    // needs CAP_NET_ADMIN for NETLINK_ROUTE, and reaches nothing here.
    if (flags & kMSG_OOB) return SysResult::done(-kEOPNOTSUPP);
    if (uaddr) {
      if (a.size() < kSockaddrNl || a[0] != kAF_NETLINK) return SysResult::done(-kEINVAL);
      int32_t dst;
      uint32_t groups;
      std::memcpy(&dst, &a[4], 4);
      std::memcpy(&groups, &a[8], 4);
      if ((dst || groups) && !capable(p, *s.ns->owner)) return SysResult::done(-kEPERM);
      if (dst || groups) return SysResult::done(groups && !dst ? int32_t(data.size()) : -kECONNREFUSED);
    }
    if (!s.portid) {
      s.portid = netlink_autobind(p, s);
      for (const FileRef& f : p.files.fds)
        if (f && f->socket.get() == &s) s.stack->netlink_ports[s.portid] = f->socket;
    }
    if (data.size() > kRcvBuf - 32) return SysResult::done(-kEMSGSIZE);  // sk_sndbuf - 32
    netlink_input(p, s, data);
    return SysResult::done(int32_t(data.size()));
  }
  // packet_snd(): the device from the address, else the bound one.
  int32_t ifindex = s.ifindex;
  if (uaddr) {
    if (a.size() < kSockaddrLl || a.size() < 12u + a[11]) return SysResult::done(-kEINVAL);
    std::memcpy(&ifindex, &a[4], 4);
  }
  NetDevice* d = ifindex > 0 ? s.stack->find(uint32_t(ifindex)) : nullptr;
  if (!d) return SysResult::done(-kENXIO);
  if (!d->up) return SysResult::done(-kENETDOWN);
  if (data.size() > d->mtu + kEthHeader) return SysResult::done(-kEMSGSIZE);
  if (data.size() < kEthHeader) return SysResult::done(-kEINVAL);  // dev_validate_header()
  transmit(*d, data, &s);
  return SysResult::done(int32_t(data.size()));
}

SysResult Kernel::socket_recv(Process& p, Socket& s, std::vector<uint8_t>& data, uint32_t want, uint32_t flags,
                              std::vector<uint8_t>* from) {
  if (flags & kMSG_OOB) return SysResult::done(-kEOPNOTSUPP);
  // __skb_try_recv_datagram(): a pending error first, once; then the queue.
  if (s.error) {
    const int e = s.error;
    s.error = 0;
    return SysResult::done(-e);
  }
  if (s.queue.empty()) return s.nonblock || (flags & kMSG_DONTWAIT) ? SysResult::done(-kEAGAIN) : SysResult::block();
  const Datagram& d = s.queue.front();
  data.assign(d.bytes.begin(), d.bytes.begin() + std::min<size_t>(want, d.bytes.size()));
  if (from) *from = d.addr.empty() && s.family == Socket::Family::Netlink ? sockaddr_nl(0) : d.addr;  // from the kernel
  // MSG_TRUNC asks for the real length even when the buffer was shorter.
  const int32_t result = int32_t((flags & kMSG_TRUNC) ? d.bytes.size() : data.size());
  return SysResult::done(result);
}

namespace {
// Takes the head datagram off once the copy to the user worked (MSG_PEEK leaves it).
void consume(Socket& s, uint32_t flags) {
  if (flags & kMSG_PEEK || s.queue.empty()) return;
  s.queued -= uint32_t(s.queue.front().bytes.size());
  s.queue.pop_front();
}
}  // namespace

SysResult Kernel::sys_sendto(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  const uint32_t len = std::min<uint32_t>(args.a[2], 0x7FFFFFFF);
  if (len > kRcvBuf) return SysResult::done(-kEMSGSIZE);  // beyond any buffer or MTU modelled
  std::vector<uint8_t> data(len);
  if (len && p.mm->copy_in(data.data(), args.a[1], len) < 0) return SysResult::done(-kEFAULT);
  return socket_send(p, *s, data, args.a[3], args.a[4], args.a[4] ? args.a[5] : 0);
}

SysResult Kernel::sys_recvfrom(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  std::vector<uint8_t> data, from;
  const SysResult r = socket_recv(p, *s, data, args.a[2], args.a[3], args.a[4] ? &from : nullptr);
  if (r.kind != SysResult::Kind::Done || r.value < 0) return r;
  if (!data.empty() && p.mm->copy_out(args.a[1], data.data(), uint32_t(data.size())) < 0)
    return SysResult::done(-kEFAULT);
  if (args.a[4] && (e = addr_out(p, from, args.a[4], args.a[5]))) return SysResult::done(e);
  consume(*s, args.a[3]);
  return r;
}

SysResult Kernel::socket_read(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n) {
  std::vector<uint8_t> data;
  const SysResult r = socket_recv(p, *f.socket, data, n, 0, nullptr);
  if (r.kind != SysResult::Kind::Done || r.value < 0) return r;
  if (!data.empty() && p.mm->copy_out(ubuf, data.data(), uint32_t(data.size())) < 0) return SysResult::done(-kEFAULT);
  consume(*f.socket, 0);
  return r;
}

SysResult Kernel::socket_write(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n) {
  if (n > kRcvBuf) return SysResult::done(-kEMSGSIZE);
  std::vector<uint8_t> data(n);
  if (n && p.mm->copy_in(data.data(), ubuf, n) < 0) return SysResult::done(-kEFAULT);
  return socket_send(p, *f.socket, data, 0, 0, 0);
}

// struct msghdr (i386): name, namelen, iov, iovlen, control, controllen, flags.
SysResult Kernel::sys_sendmsg(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  uint32_t m[7];
  if (p.mm->copy_in(m, args.a[1], sizeof m) < 0) return SysResult::done(-kEFAULT);
  if (m[3] > kMaxIov) return SysResult::done(-kEMSGSIZE);
  std::vector<uint8_t> data;
  for (uint32_t i = 0; i < m[3]; ++i) {
    uint32_t iov[2];
    if (p.mm->copy_in(iov, m[2] + 8 * i, 8) < 0) return SysResult::done(-kEFAULT);
    if (int32_t(iov[1]) < 0 || data.size() + iov[1] > kRcvBuf) return SysResult::done(int32_t(iov[1]) < 0 ? -kEINVAL : -kEMSGSIZE);
    const size_t at = data.size();
    data.resize(at + iov[1]);
    if (iov[1] && p.mm->copy_in(data.data() + at, iov[0], iov[1]) < 0) return SysResult::done(-kEFAULT);
  }
  return socket_send(p, *s, data, args.a[2], m[0], m[0] ? m[1] : 0);
}

SysResult Kernel::sys_recvmsg(Process& p, const SyscallArgs& args) {
  int e = 0;
  Socket* s = socket_of(p, args.a[0], e);
  if (!s) return SysResult::done(e);
  uint32_t m[7];
  if (p.mm->copy_in(m, args.a[1], sizeof m) < 0) return SysResult::done(-kEFAULT);
  if (m[3] > kMaxIov) return SysResult::done(-kEMSGSIZE);
  std::vector<uint32_t> iov(2 * size_t(m[3]));
  if (m[3] && p.mm->copy_in(iov.data(), m[2], 8 * m[3]) < 0) return SysResult::done(-kEFAULT);
  uint64_t room = 0;
  for (uint32_t i = 0; i < m[3]; ++i) room += iov[2 * i + 1];
  std::vector<uint8_t> data, from;
  const uint32_t flags = args.a[2];
  const SysResult r = socket_recv(p, *s, data, uint32_t(std::min<uint64_t>(room, 0x7FFFFFFF)), flags, &from);
  if (r.kind != SysResult::Kind::Done || r.value < 0) return r;
  size_t done = 0;
  for (uint32_t i = 0; i < m[3] && done < data.size(); ++i) {
    const size_t k = std::min<size_t>(iov[2 * i + 1], data.size() - done);
    if (k && p.mm->copy_out(iov[2 * i], data.data() + done, uint32_t(k)) < 0) return SysResult::done(-kEFAULT);
    done += k;
  }
  if (m[0] && (e = addr_out(p, from, m[0], args.a[1] + 4))) return SysResult::done(e);
  const uint32_t out_flags = s->queue.front().bytes.size() > data.size() ? kMSG_TRUNC : 0;
  const uint32_t zero = 0;
  if (p.mm->copy_out(args.a[1] + 20, &zero, 4) < 0 || p.mm->copy_out(args.a[1] + 24, &out_flags, 4) < 0)
    return SysResult::done(-kEFAULT);
  consume(*s, flags);
  return r;
}

SysResult Kernel::sys_socketcall(Process& p, const SyscallArgs& args) {
  // net/socket.c sys_socketcall(): EBX the call, ECX its arguments in user
  // memory, as many words as nargs[] says.
  static constexpr uint8_t kArgs[21] = {0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4};
  const uint32_t call = args.a[0];
  if (call < 1 || call > 20) return SysResult::done(-kEINVAL);
  SyscallArgs sub;
  sub.nr = args.nr;
  if (p.mm->copy_in(sub.a, args.a[1], 4u * kArgs[call]) < 0) return SysResult::done(-kEFAULT);
  switch (call) {
    case 1: return sys_socket(p, sub);
    case 2: return sys_bind(p, sub);
    case 3: return sys_connect(p, sub);
    case 6: return sys_getsockname(p, sub);
    case 8: return SysResult::done(sub.a[0] == kAF_NETLINK || sub.a[0] == kAF_PACKET ? -kEOPNOTSUPP : -kEAFNOSUPPORT);
    case 9: sub.a[4] = sub.a[5] = 0; return sys_sendto(p, sub);     // send
    case 10: sub.a[4] = sub.a[5] = 0; return sys_recvfrom(p, sub);  // recv
    case 11: return sys_sendto(p, sub);
    case 12: return sys_recvfrom(p, sub);
    case 14: return sys_setsockopt(p, sub);
    case 16: return sys_sendmsg(p, sub);
    case 17: return sys_recvmsg(p, sub);
    default: {
      // listen, accept, getpeername, shutdown, getsockopt, accept4, *mmsg:
      // the modelled families have none of them (sock_no_*).
      int e = 0;
      return SysResult::done(socket_of(p, sub.a[0], e) ? -kEOPNOTSUPP : e);
    }
  }
}

}  // namespace vs::container_sim
