/* Network namespaces and veth pairs seen from inside (network_namespaces(7),
 * veth(4), rtnetlink(7), packet(7); SEMANTICS.md §1.5, checklist item 9).
 *   net_veth fresh | veth | hold | bad | calls
 *                                    run alike here and on Linux (inside a
 *                                    new user + network namespace)
 *   net_veth phys | host | fuzz      container-sim only (eth0 of the
 *                                    initial namespace; the host's veth)
 * Output as ns_common.h: "ok ..." lines, "N failures", exit N. */
#include "net_common.h"

/* 9: a new namespace has lo only, DOWN, and no routes. */
static void t_fresh(void) {
  const int fd = nl_socket();
  check("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", fd >= 0);
  printf("links:\n");
  nl_dump(fd, 1, 0);
  printf("/proc/net/dev:\n%s", slurp("/proc/net/dev"));
  check("/proc/net/route is empty (no table yet)", strcmp(slurp("/proc/net/route"), "") == 0);
  check("lo up", link_up(fd, "lo", 1) == 0);
  nl_dump(fd, 1, 0);
  check("/proc/net/route now has its header", strncmp(slurp("/proc/net/route"), "Iface\tDestination", 17) == 0);
}

/* 9: a veth pair between two namespaces carries frames both ways; the
 * namespace's end and its peer go when the namespace does. */
static void t_veth(void) {
  int ready[2], go[2];
  char c = 0;
  pipe(ready), pipe(go);
  const long child = fork();
  if (child == 0) {
    check("child: unshare(CLONE_NEWNET)", sys(NR_unshare, CLONE_NEWNET, 0, 0, 0, 0) == 0);
    write(ready[1], "r", 1);
    read(go[0], &c, 1);
    const int fd = nl_socket();
    printf("child's links after the move:\n");
    const int vb = nl_dump(fd, 1, "vb");
    check("child: vb kept its index 2 (free here)", vb == 2);
    check("child: vb up", link_up(fd, "vb", 1) == 0);
    const int ps = packet_socket(vb);
    check("child: AF_PACKET socket bound to vb", ps >= 0);
    write(ready[1], "u", 1);
    unsigned char f[64], from[32];
    int fromlen = sizeof from;
    const long n = recv_wait(ps, f, sizeof f, from, &fromlen);
    check("child: the frame sent on va arrives on vb", n == 14 + 5 && strcmp((char *)f + 14, "ping") == 0);
    check("child: sockaddr_ll: 20 bytes, AF_PACKET, ifindex of vb, broadcast",
          fromlen == 20 && from[0] == AF_PACKET && (int)get32(from + 4) == vb && from[10] == 1);
    check("child: protocol is the frame's ethertype", from[2] == 0x88 && from[3] == 0xB5);
    const int k = frame(f, "pong");
    check("child: send pong on vb", sys6(NR_sendto, ps, (long)f, k, 0, 0, 0) == k);
    _exit(failures);
  }
  read(ready[0], &c, 1);
  const int fd = nl_socket();
  check("veth pair va/vb (NLM_F_CREATE | NLM_F_EXCL)", veth_add(fd, "va", "vb", 0, NLM_F_EXCL) == 0);
  printf("parent's links:\n");
  nl_dump(fd, 1, 0);
  check("move vb into the child's namespace (IFLA_NET_NS_PID)", link_move(fd, "vb", (int)child) == 0);
  printf("after the move:\n");
  const int va = nl_dump(fd, 1, "va");
  check("va up", link_up(fd, "va", 1) == 0);
  unsigned char f[64], from[32];
  int k = frame(f, "lost");
  const int ps = packet_socket(va);
  check("AF_PACKET socket bound to va", ps >= 0);
  check("a frame on va while vb is down is sent and dropped", sys6(NR_sendto, ps, (long)f, k, 0, 0, 0) == k);
  write(go[1], "g", 1);
  read(ready[0], &c, 1);
  nl_dump(fd, 1, 0);
  k = frame(f, "ping");
  check("send ping on va", sys6(NR_sendto, ps, (long)f, k, 0, 0, 0) == k);
  int fromlen = sizeof from;
  const long n = recv_wait(ps, f, sizeof f, from, &fromlen);
  check("pong arrives on va (only the peer's frame: not our own ping)", n == 19 && strcmp((char *)f + 14, "pong") == 0);
  join((int)child);
  int left = va;
  for (int i = 0; i < 200 && left > 0; i++) left = nl_dump(fd, 0, "va"), sleep_ms(10);
  check("the child's namespace is gone: vb and its peer va are deleted", left < 0);
  printf("links at the end:\n");
  nl_dump(fd, 1, 0);
  fromlen = sizeof from;
  check("the socket bound to va reports ENETDOWN",
        sys6(NR_recvfrom, ps, (long)f, sizeof f, MSG_DONTWAIT, 0, 0) == -ENETDOWN);
}

static int old_nl = -1; /* a netlink socket of the namespace we started in */

/* 9: a namespace lives while a /proc/PID/ns/net descriptor holds it, with
 * no process in it; IFLA_NET_NS_FD moves a device into it; closing the
 * descriptor frees it and takes its veth ends and their peers along. */
static void t_hold(void) {
  int ready[2], go[2];
  char c = 0, path[48];
  pipe(ready), pipe(go);
  const long child = fork();
  if (child == 0) {
    sys(NR_unshare, CLONE_NEWNET, 0, 0, 0, 0);
    write(ready[1], "r", 1);
    read(go[0], &c, 1);
    _exit(0);
  }
  read(ready[0], &c, 1);
  const int fd = nl_socket();
  check("veth pair ha/hb, hb made in the child's namespace", veth_add(fd, "ha", "hb", (int)child, 0) == 0);
  snprintf(path, sizeof path, "/proc/%ld/ns/net", child);
  const int ns = open(path, O_RDONLY);
  check("open /proc/PID/ns/net", ns >= 0);
  write(go[1], "g", 1);
  join((int)child);
  sleep_ms(200);
  check("the child is gone but the descriptor holds its namespace: ha is still here", nl_dump(fd, 0, "ha") > 0);
  check("veth pair ia/ib", veth_add(fd, "ia", "ib", 0, 0) == 0);
  struct msg m;
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, 0, 0, 0);
  attr_str(&m, IFLA_IFNAME, "ib");
  attr_u32(&m, IFLA_NET_NS_FD, (unsigned)ns);
  check("ib into the held namespace (IFLA_NET_NS_FD)", nl_talk(fd, &m) == 0);
  printf("links while it is held:\n");
  nl_dump(fd, 1, 0);
  close(ns);
  int left = 1;
  for (int i = 0; i < 200 && left; i++) left = nl_dump(fd, 0, "ha") > 0 || nl_dump(fd, 0, "ia") > 0, sleep_ms(10);
  check("closing the descriptor frees it: ha and ia go with their peers", !left);
  printf("links at the end:\n");
  nl_dump(fd, 1, 0);
}

/* Malformed and refused requests get Linux's errno. */
static void t_bad(void) {
  const int fd = nl_socket();
  struct msg m;
  unsigned char f[1600];
  msg_begin(&m, RTM_GETLINK, NLM_F_ACK, 0, 0, 0);
  put32(m.b, 8);
  sys6(NR_sendto, fd, (long)m.b, 32, 0, 0, 0);
  check("nlmsg_len below the header: ignored, no ack",
        sys6(NR_recvfrom, fd, (long)reply, sizeof reply, MSG_DONTWAIT, 0, 0) == -EAGAIN);
  msg_begin(&m, RTM_NEWLINK, NLM_F_ACK, 0, 0, 0);
  m.len = 20;
  check("RTM_NEWLINK shorter than ifinfomsg: EINVAL", nl_talk(fd, &m) == -EINVAL);
  msg_begin(&m, 200, NLM_F_ACK, 0, 0, 0);
  check("type 200 (above RTM_MAX): EOPNOTSUPP", nl_talk(fd, &m) == -EOPNOTSUPP);
  msg_begin(&m, 2, NLM_F_ACK, 0, 0, 0);
  check("a control type (NLMSG_ERROR) is only acked: 0", nl_talk(fd, &m) == 0);
  msg_begin(&m, RTM_GETLINK, NLM_F_ACK, 99, 0, 0);
  check("RTM_GETLINK of ifindex 99: ENODEV", nl_talk(fd, &m) == -ENODEV);
  msg_begin(&m, RTM_GETLINK, NLM_F_ACK, 0, 0, 0);
  check("RTM_GETLINK with neither index nor name: EINVAL", nl_talk(fd, &m) == -EINVAL);
  msg_begin(&m, RTM_GETLINK, NLM_F_ACK, 0, 0, 0);
  put16(m.b + 32, 200), put16(m.b + 34, IFLA_IFNAME), m.len = 40;
  check("an attribute longer than the message is ignored: EINVAL (no name)", nl_talk(fd, &m) == -EINVAL);
  check("veth named a/b: EINVAL", veth_add(fd, "a/b", "p0", 0, 0) == -EINVAL);
  check("a 19-byte IFLA_IFNAME: ERANGE", veth_add(fd, "abcdefghijklmnopqrs", "p0", 0, 0) == -ERANGE);
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, 1, 0, 0);
  attr(&m, IFLA_MTU, "\x10\x00", 2);
  check("a 2-byte IFLA_MTU: ERANGE", nl_talk(fd, &m) == -ERANGE);
  msg_begin(&m, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE, 0, 0, 0);
  attr_str(&m, IFLA_IFNAME, "k0");
  int li = nest(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, "nosuchkind");
  nest_end(&m, li);
  check("an unknown kind: EOPNOTSUPP", nl_talk(fd, &m) == -EOPNOTSUPP);
  msg_begin(&m, RTM_NEWLINK, NLM_F_ACK, 0, 0, 0);
  attr_str(&m, IFLA_IFNAME, "k0");
  check("RTM_NEWLINK of a missing link without NLM_F_CREATE: ENODEV", nl_talk(fd, &m) == -ENODEV);
  msg_begin(&m, RTM_DELLINK, NLM_F_ACK, 1, 0, 0);
  check("deleting lo: EOPNOTSUPP", nl_talk(fd, &m) == -EOPNOTSUPP);
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, 99, IFF_UP, IFF_UP);
  check("RTM_SETLINK of ifindex 99: ENODEV", nl_talk(fd, &m) == -ENODEV);
  check("veth pair x0/x1", veth_add(fd, "x0", "x1", 0, 0) == 0);
  check("again with NLM_F_EXCL: EEXIST", veth_add(fd, "x0", "x1", 0, NLM_F_EXCL) == -EEXIST);
  check("again without it: veth data for an existing link is EOPNOTSUPP", veth_add(fd, "x0", "x1", 0, 0) == -EOPNOTSUPP);
  check("a peer name already used: EEXIST", veth_add(fd, "y0", "x0", 0, 0) == -EEXIST);
  check("lo into the namespace it is in: nothing to do, 0", link_move(fd, "lo", getpid()) == 0);
  check("into the namespace of PID 99999: ESRCH", link_move(fd, "x0", 99999) == -ESRCH);
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, 0, 0, 0);
  attr_str(&m, IFLA_IFNAME, "x0");
  attr_u32(&m, IFLA_NET_NS_FD, 15);
  check("IFLA_NET_NS_FD of a closed descriptor: EBADF", nl_talk(fd, &m) == -EBADF);
  m.len -= 8;
  attr_u32(&m, IFLA_NET_NS_FD, 1);
  check("IFLA_NET_NS_FD of a descriptor that is no namespace: EINVAL", nl_talk(fd, &m) == -EINVAL);
  attr_u32(&m, IFLA_NET_NS_PID, (unsigned)getpid());
  check("both IFLA_NET_NS_FD and IFLA_NET_NS_PID: EINVAL", nl_talk(fd, &m) == -EINVAL);
  const int x0 = nl_dump(fd, 0, "x0");
  check("x0 up", link_up(fd, "x0", 1) == 0);
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, x0, 0, 0);
  attr_str(&m, IFLA_IFNAME, "x9");
  check("renaming an UP link works (Linux 6.2 and later)", nl_talk(fd, &m) == 0);
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, x0, 0, 0);
  attr_u32(&m, IFLA_MTU, 20);
  check("MTU 20: EINVAL", nl_talk(fd, &m) == -EINVAL);

  /* AF_PACKET refusals. */
  check("socket(AF_PACKET, SOCK_STREAM): ESOCKTNOSUPPORT", sys(NR_socket, AF_PACKET, 1, 0, 0, 0) == -94);
  check("socket(AF_NETLINK, SOCK_RAW, 99): EPROTONOSUPPORT", sys(NR_socket, AF_NETLINK, SOCK_RAW, 99, 0, 0) == -93);
  const int ps = (int)sys(NR_socket, AF_PACKET, SOCK_RAW, htons16(ETHERTYPE_TEST), 0, 0);
  const int k = frame(f, "x");
  check("send on an unbound packet socket without an address: ENXIO", sys6(NR_sendto, ps, (long)f, k, 0, 0, 0) == -ENXIO);
  unsigned char ll[20] = {0};
  ll[0] = AF_PACKET;
  put32(ll + 4, 99);
  check("bind to ifindex 99: ENODEV", sys(NR_bind, ps, (long)ll, sizeof ll, 0, 0) == -ENODEV);
  check("bind with 8 bytes of address: EINVAL", sys(NR_bind, ps, (long)ll, 8, 0, 0) == -EINVAL);
  put32(ll + 4, (unsigned)nl_dump(fd, 0, "x1"));
  check("send on x1 (DOWN): ENETDOWN", sys6(NR_sendto, ps, (long)f, k, 0, (long)ll, sizeof ll) == -ENETDOWN);
  put32(ll + 4, (unsigned)x0);
  check("a 10-byte frame: EINVAL", sys6(NR_sendto, ps, (long)f, 10, 0, (long)ll, sizeof ll) == -EINVAL);
  memset(f + k, 0, sizeof f - (unsigned)k);
  check("a 1515-byte frame on MTU 1500: EMSGSIZE", sys6(NR_sendto, ps, (long)f, 1515, 0, (long)ll, sizeof ll) == -EMSGSIZE);
  check("a 1514-byte one is sent", sys6(NR_sendto, ps, (long)f, 1514, 0, (long)ll, sizeof ll) == 1514);
  long args[3] = {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE};
  const long viacall = sys(NR_socketcall, 1, (long)args, 0, 0, 0);
  check("socketcall(SYS_SOCKET) makes a netlink socket", viacall >= 0 && nl_dump((int)viacall, 0, "lo") == 1);
  check("socketcall(0): EINVAL", sys(NR_socketcall, 0, (long)args, 0, 0, 0) == -EINVAL);

  /* Without CAP_NET_ADMIN over the namespace: the socket made before
   * unshare speaks for the namespace we left, owned by a user namespace
   * where we hold nothing. */
  check("a socket made before unshare still lists the old namespace", nl_dump(old_nl, 0, "lo") == 1);
  check("but setting a link up there is EPERM", link_up(old_nl, "lo", 1) == -EPERM);
}

/* The other ways in: sendmsg/recvmsg as iproute2 uses them (MSG_PEEK |
 * MSG_TRUNC to size the buffer), socketcall, read/write, getsockname, and
 * frames looped back on lo. */
static void t_calls(void) {
  const int fd = nl_socket();
  struct msg m;
  msg_begin(&m, RTM_GETLINK, NLM_F_DUMP, 0, 0, 0);
  put32(m.b, (unsigned)m.len);
  unsigned iov[4] = {(unsigned)m.b, 16, (unsigned)(m.b + 16), (unsigned)(m.len - 16)};
  unsigned char nl[12];
  unsigned hdr[7] = {0, 0, (unsigned)iov, 2, 0, 0, 0};
  check("sendmsg with two iovecs", sys(370, fd, (long)hdr, 0, 0, 0) == m.len);
  unsigned char small[16];
  unsigned iov1[2] = {(unsigned)small, sizeof small};
  unsigned rh[7] = {(unsigned)nl, sizeof nl, (unsigned)iov1, 1, 0, 0, 0};
  const long peek = sys(372, fd, (long)rh, 2 | 0x20, 0, 0);
  check("recvmsg(MSG_PEEK | MSG_TRUNC) into 16 bytes gives the whole length, MSG_TRUNC set",
        peek > 16 && (rh[6] & 0x20) && rh[1] == 12 && nl[0] == AF_NETLINK && get32(nl + 4) == 0);
  iov1[0] = (unsigned)reply, iov1[1] = sizeof reply;
  check("recvmsg then reads the same datagram", sys(372, fd, (long)rh, 0, 0, 0) == peek && rh[6] == 0);
  check("and NLMSG_DONE comes in the next one", sys(372, fd, (long)rh, 0, 0, 0) == 20 && reply[4] == NLMSG_DONE);
  unsigned char name[16];
  int namelen = sizeof name;
  check("getsockname: sockaddr_nl, 12 bytes, a port id",
        sys(367, fd, (long)name, (long)&namelen, 0, 0) == 0 && namelen == 12 && name[0] == AF_NETLINK && get32(name + 4) != 0);
  msg_begin(&m, RTM_GETLINK, 0, 1, 0, 0);
  put32(m.b, (unsigned)m.len);
  long a[6] = {fd, (long)m.b, m.len, 0, 0, 0};
  check("socketcall(SYS_SENDTO)", sys(NR_socketcall, 11, (long)a, 0, 0, 0) == m.len);
  long r[6] = {fd, (long)reply, sizeof reply, 0, 0, 0};
  const long n = sys(NR_socketcall, 12, (long)r, 0, 0, 0);
  check("socketcall(SYS_RECVFROM): RTM_NEWLINK for ifindex 1, lo", n > 32 && reply[4] == RTM_NEWLINK &&
                                                                  get32(reply + 20) == 1 && strcmp((char *)reply + 36, "lo") == 0);
  check("write(2) on the socket sends a request", write(fd, m.b, (size_t)m.len) == m.len);
  check("read(2) gets the reply", read(fd, reply, sizeof reply) == n && reply[4] == RTM_NEWLINK);

  check("lo up", link_up(fd, "lo", 1) == 0);
  const int ps = packet_socket(1);
  const int all = (int)sys(NR_socket, AF_PACKET, SOCK_RAW, htons16(3), 0, 0); /* ETH_P_ALL */
  unsigned char f[64], from[20];
  int fromlen = sizeof from;
  const int k = frame(f, "loop");
  check("send on lo", sys6(NR_sendto, ps, (long)f, k, 0, 0, 0) == k);
  check("lo brings it back to the sender's own socket (as multicast: lo's broadcast address is 0)",
        recv_wait(ps, f, sizeof f, from, &fromlen) == k && from[10] == 2 && get32(from + 4) == 1);
  check("an ETH_P_ALL socket sees it leave (PACKET_OUTGOING)...",
        recv_wait(all, f, 4, from, &fromlen) == 4 && from[10] == 4);
  check("...and arrive; MSG_TRUNC gives the whole length of a frame cut to 4 bytes",
        sys6(NR_recvfrom, all, (long)f, 4, 0x20 | MSG_DONTWAIT, (long)from, (long)&fromlen) == k && from[10] == 2);
  check("nothing more", sys6(NR_recvfrom, all, (long)f, 4, MSG_DONTWAIT, 0, 0) == -EAGAIN);
  const char *dev = slurp("/proc/net/dev");
  const char *lo = dev;
  while (*lo && strncmp(lo, "lo:", 3) != 0) lo++;
  char line[160] = "";
  strncpy(line, lo, 99), line[99] = 0;
  if (strchr(line, '\n')) *strchr(line, '\n') = 0;
  printf("/proc/net/dev: %s\n", line);
}

/* Robustness (container-sim only): thousands of requests made by flipping
 * bytes of valid ones, of every link type, each answered or ignored without
 * bringing anything down; then a last request still works. */
static void t_fuzz(void) {
  const int fd = nl_socket();
  unsigned x = 12345;
  long sent = 0, acked = 0;
  veth_add(fd, "f0", "f1", 0, 0);
  for (int i = 0; i < 3000; i++) {
    struct msg m;
    const int types[4] = {RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK};
    msg_begin(&m, types[i % 4], NLM_F_ACK | (i & 8 ? NLM_F_CREATE : 0), (int)(x % 5), IFF_UP, 0);
    attr_str(&m, IFLA_IFNAME, i & 1 ? "f0" : "g%d");
    const int li = nest(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "veth");
    const int data = nest(&m, IFLA_INFO_DATA);
    const int p = nest(&m, VETH_INFO_PEER);
    m.len += 16;
    attr_str(&m, IFLA_IFNAME, "h%d");
    nest_end(&m, p), nest_end(&m, data), nest_end(&m, li);
    put32(m.b, (unsigned)m.len);
    for (int k = 0; k < 1 + i % 4; k++) {
      x = x * 1103515245u + 12345u;
      m.b[(x >> 8) % (unsigned)m.len] = (unsigned char)(x >> 20);
    }
    x = x * 1103515245u + 12345u;
    const int len = i % 7 == 0 ? (int)((x >> 8) % (unsigned)m.len) : m.len;
    if (sys6(NR_sendto, fd, (long)m.b, len, 0, 0, 0) == len) sent++;
    while (sys6(NR_recvfrom, fd, (long)reply, sizeof reply, MSG_DONTWAIT, 0, 0) > 0) acked++;
  }
  check("3000 mangled requests were taken", sent == 3000);
  check("and most were answered", acked > 1000);
  check("a dump still runs to NLMSG_DONE", nl_dump(fd, 0, "no-such-link") == -1);
}

/* 9 (container-sim only): the physical eth0 moved into a namespace comes
 * back to the initial one when that namespace is freed; a veth end there
 * goes with it, and so does its peer out here. */
static void t_phys(void) {
  int ready[2], go[2];
  char c = 0;
  pipe(ready), pipe(go);
  const int fd = nl_socket();
  printf("initial namespace:\n");
  nl_dump(fd, 1, 0);
  const long child = fork();
  if (child == 0) {
    sys(NR_unshare, CLONE_NEWNET, 0, 0, 0, 0);
    write(ready[1], "r", 1);
    read(go[0], &c, 1);
    printf("inside:\n");
    nl_dump(nl_socket(), 1, 0);
    _exit(0);
  }
  read(ready[0], &c, 1);
  check("veth pair h0/c0 with c0 made in the child's namespace", veth_add(fd, "h0", "c0", (int)child, 0) == 0);
  check("move eth0 into the child's namespace", link_move(fd, "eth0", (int)child) == 0);
  printf("initial namespace now:\n");
  nl_dump(fd, 1, 0);
  write(go[1], "g", 1);
  join((int)child);
  printf("after the namespace is freed:\n");
  check("eth0 is back, DOWN", nl_dump(fd, 1, "eth0") > 0);
  check("h0 went with its peer", nl_dump(fd, 0, "h0") < 0);
}

/* The host's veth (Kernel::net_attach_veth): wait on stdin, then say what
 * the namespace has and send a frame on eth0; `host listen NAME` receives
 * on the host's end in the initial namespace. */
static void t_host(int argc, char **argv) {
  char c;
  if (argc > 3 && strcmp(argv[2], "listen") == 0) {
    const int fd = nl_socket();
    const int ps = packet_socket(nl_dump(fd, 0, argv[3]));
    unsigned char f[64];
    long n = sys6(NR_recvfrom, ps, (long)f, sizeof f, 0, 0, 0);
    /* The container may be gone before we read: its namespace took the
     * veth pair with it, and the error comes before the queued frame. */
    if (n == -ENETDOWN) n = sys6(NR_recvfrom, ps, (long)f, sizeof f, 0, 0, 0);
    if (n != 20) printf("  recvfrom: %ld\n", n);
    check("the host's end receives the container's frame", n == 20 && strcmp((char *)f + 14, "hello") == 0);
    return;
  }
  sys(NR_unshare, CLONE_NEWNET, 0, 0, 0, 0);
  read(0, &c, 1);
  const int fd = nl_socket();
  printf("container:\n");
  const int eth0 = nl_dump(fd, 1, "eth0");
  unsigned char f[64];
  const int k = frame(f, "hello");
  check("send on eth0", sys6(NR_sendto, packet_socket(eth0), (long)f, k, 0, 0, 0) == k);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  /* container-sim's root has an empty /proc: mount it (on Linux it is there). */
  if (open("/proc/net/dev", O_RDONLY) < 0) sys(NR_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0);
  if (strcmp(argv[1], "phys") == 0) {
    t_phys();
  } else if (strcmp(argv[1], "fuzz") == 0) {
    t_fuzz();
  } else if (strcmp(argv[1], "host") == 0) {
    t_host(argc, argv);
  } else {
    old_nl = nl_socket();
    const long r = sys(NR_unshare, CLONE_NEWUSER | CLONE_NEWNET, 0, 0, 0, 0);
    if (r != 0) {
      printf("skip: unshare(CLONE_NEWUSER | CLONE_NEWNET) fails with %ld\n", -r);
      return 77;
    }
    if (strcmp(argv[1], "fresh") == 0) t_fresh();
    if (strcmp(argv[1], "veth") == 0) t_veth();
    if (strcmp(argv[1], "bad") == 0) t_bad();
    if (strcmp(argv[1], "calls") == 0) t_calls();
    if (strcmp(argv[1], "hold") == 0) t_hold();
  }
  printf("%d failures\n", failures);
  return failures;
}
