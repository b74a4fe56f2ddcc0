/* What the network test programs share (net_veth.c): raw socket calls with
 * Linux i386 numbers (syscall_32.tbl: socket 359, bind 361, sendto 369,
 * recvfrom 371; socketcall 102), rtnetlink messages built by hand
 * (rtnetlink(7), include/uapi/linux/rtnetlink.h, if_link.h, veth.h) and
 * AF_PACKET frames (packet(7)). Output is "ok"/"FAIL" lines as ns_common.h;
 * nothing printed depends on a PID, a MAC address or a port id. */
#ifndef NET_COMMON_H
#define NET_COMMON_H

#include "ns_common.h"

enum { NR_socketcall = 102, NR_socket = 359, NR_bind = 361, NR_sendto = 369, NR_recvfrom = 371 };
enum { AF_NETLINK = 16, AF_PACKET = 17, SOCK_RAW = 3, NETLINK_ROUTE = 0 };
enum { NLM_F_REQUEST = 1, NLM_F_ACK = 4, NLM_F_DUMP = 0x300, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400 };
enum { NLMSG_ERROR = 2, NLMSG_DONE = 3, RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19 };
enum { IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINKINFO = 18, IFLA_NET_NS_PID = 19, IFLA_NET_NS_FD = 28 };
enum { IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, VETH_INFO_PEER = 1, IFF_UP = 1, IFF_LOWER_UP = 0x10000 };
enum { MSG_DONTWAIT = 0x40 };
/* errno values the tiny libc's errno.h may lack (asm-generic/errno*.h). */
#ifndef ENXIO
#define ENXIO 6
#endif
#ifndef ENODEV
#define ENODEV 19
#endif
#ifndef ERANGE
#define ERANGE 34
#endif
#ifndef EMSGSIZE
#define EMSGSIZE 90
#endif
#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95
#endif
#ifndef ENETDOWN
#define ENETDOWN 100
#endif
#define ETHERTYPE_TEST 0x88B5 /* IEEE 802 local experimental: nothing else sends it */

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f) { return __vs_syscall(nr, a, b, c, d, e, f); }
static inline int nl_socket(void) { return (int)sys(NR_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, 0, 0); }
static inline unsigned short htons16(unsigned short v) { return (unsigned short)((v << 8) | (v >> 8)); }

/* A request being built: header, ifinfomsg, attributes; nests by offset. */
struct msg {
  unsigned char b[512];
  int len;
};
static unsigned seq_no = 1;

static inline void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static inline void put32(unsigned char *p, unsigned v) { put16(p, v & 0xFFFF), put16(p + 2, v >> 16); }
static inline unsigned get32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (unsigned)p[3] << 24; }

static inline void msg_begin(struct msg *m, int type, int flags, int index, unsigned ifi_flags, unsigned change) {
  memset(m, 0, sizeof *m);
  put16(m->b + 4, (unsigned)type);
  put16(m->b + 6, (unsigned)(flags | NLM_F_REQUEST));
  put32(m->b + 8, seq_no++);
  put32(m->b + 20, (unsigned)index);
  put32(m->b + 24, ifi_flags);
  put32(m->b + 28, change);
  m->len = 32;
}
static inline int attr(struct msg *m, int type, const void *data, int n) {
  const int at = m->len;
  put16(m->b + at, (unsigned)(4 + n));
  put16(m->b + at + 2, (unsigned)type);
  if (n) memcpy(m->b + at + 4, data, (size_t)n);
  m->len = (at + 4 + n + 3) & ~3;
  return at;
}
static inline void attr_str(struct msg *m, int type, const char *s) { attr(m, type, s, (int)strlen(s) + 1); }
static inline void attr_u32(struct msg *m, int type, unsigned v) { attr(m, type, &v, 4); }
static inline int nest(struct msg *m, int type) { return attr(m, type, 0, 0); }
static inline void nest_end(struct msg *m, int at) { put16(m->b + at, (unsigned)(m->len - at)); }

static unsigned char reply[16384];

/* Sends m (its length in the header) and returns the NLMSG_ERROR code of the ack. */
static inline int nl_talk(int fd, struct msg *m) {
  put32(m->b, (unsigned)m->len);
  if (sys6(NR_sendto, fd, (long)m->b, m->len, 0, 0, 0) != m->len) return 1;
  for (;;) {
    const long n = sys6(NR_recvfrom, fd, (long)reply, sizeof reply, 0, 0, 0);
    if (n < 16) return 2;
    if (reply[4] == NLMSG_ERROR) return (int)get32(reply + 16);
  }
}

/* One line per link of the caller's namespace: "  INDEX: NAME STATE". */
static inline int nl_dump(int fd, int print, const char *find) {
  struct msg m;
  int found = -1;
  msg_begin(&m, RTM_GETLINK, NLM_F_DUMP, 0, 0, 0);
  put32(m.b, (unsigned)m.len);
  sys6(NR_sendto, fd, (long)m.b, m.len, 0, 0, 0);
  for (;;) {
    const long n = sys6(NR_recvfrom, fd, (long)reply, sizeof reply, 0, 0, 0);
    if (n < 16) return -2;
    for (long at = 0; at + 16 <= n;) {
      const unsigned len = get32(reply + at);
      if (reply[at + 4] == NLMSG_DONE) return found;
      if (len < 32) return -3;
      const int index = (int)get32(reply + at + 20);
      const unsigned flags = get32(reply + at + 24);
      const char *name = "?";
      for (unsigned a = 32; a + 4 <= len;) {
        const unsigned alen = reply[at + a] | reply[at + a + 1] << 8;
        if (alen < 4) break;
        if ((reply[at + a + 2] | reply[at + a + 3] << 8) == IFLA_IFNAME) name = (const char *)reply + at + a + 4;
        a += (alen + 3) & ~3u;
      }
      if (print)
        printf("  %d: %s %s%s\n", index, name, flags & IFF_UP ? "UP" : "DOWN", flags & IFF_LOWER_UP ? " LOWER_UP" : "");
      if (find && strcmp(name, find) == 0) found = index;
      at += (len + 3) & ~3u;
    }
  }
}

/* RTM_NEWLINK: a veth pair; peer_pid > 0 puts the peer in that process's namespace. */
static inline int veth_add(int fd, const char *name, const char *peer, int peer_pid, int flags) {
  struct msg m;
  msg_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_ACK | flags, 0, 0, 0);
  attr_str(&m, IFLA_IFNAME, name);
  const int li = nest(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, "veth");
  const int data = nest(&m, IFLA_INFO_DATA);
  const int p = nest(&m, VETH_INFO_PEER);
  m.len += 16; /* the peer's ifinfomsg, zero */
  attr_str(&m, IFLA_IFNAME, peer);
  if (peer_pid > 0) attr_u32(&m, IFLA_NET_NS_PID, (unsigned)peer_pid);
  nest_end(&m, p), nest_end(&m, data), nest_end(&m, li);
  return nl_talk(fd, &m);
}

/* RTM_SETLINK by name: IFF_UP on or off. */
static inline int link_up(int fd, const char *name, int up) {
  struct msg m;
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, 0, up ? IFF_UP : 0, IFF_UP);
  attr_str(&m, IFLA_IFNAME, name);
  return nl_talk(fd, &m);
}

/* RTM_SETLINK by name: into the network namespace of process pid. */
static inline int link_move(int fd, const char *name, int pid) {
  struct msg m;
  msg_begin(&m, RTM_SETLINK, NLM_F_ACK, 0, 0, 0);
  attr_str(&m, IFLA_IFNAME, name);
  attr_u32(&m, IFLA_NET_NS_PID, (unsigned)pid);
  return nl_talk(fd, &m);
}

/* An AF_PACKET socket for the test ethertype bound to ifindex. */
static inline int packet_socket(int ifindex) {
  const int fd = (int)sys(NR_socket, AF_PACKET, SOCK_RAW, htons16(ETHERTYPE_TEST), 0, 0);
  unsigned char ll[20] = {0};
  ll[0] = AF_PACKET;
  put16(ll + 2, htons16(ETHERTYPE_TEST));
  put32(ll + 4, (unsigned)ifindex);
  if (fd >= 0 && sys(NR_bind, fd, (long)ll, sizeof ll, 0, 0) != 0) return -1;
  return fd;
}

/* A broadcast frame of the test ethertype carrying text. */
static inline int frame(unsigned char *f, const char *text) {
  memset(f, 0xFF, 6);
  const unsigned char src[6] = {0x02, 0, 0, 0, 0, 0x01};
  memcpy(f + 6, src, 6);
  f[12] = ETHERTYPE_TEST >> 8, f[13] = ETHERTYPE_TEST & 0xFF;
  strcpy((char *)f + 14, text);
  return 14 + (int)strlen(text) + 1;
}

/* recvfrom without blocking forever: polls for up to about 2 s. */
static inline long recv_wait(int fd, unsigned char *buf, int size, unsigned char *from, int *fromlen) {
  for (int i = 0; i < 200; i++) {
    const long n = sys6(NR_recvfrom, fd, (long)buf, size, MSG_DONTWAIT, (long)from, (long)fromlen);
    if (n != -EAGAIN) return n;
    sleep_ms(10);
  }
  return -EAGAIN;
}

/* The whole of a small file, NUL-terminated, in a static buffer. */
static inline const char *slurp(const char *path) {
  static char buf[4096];
  const int fd = open(path, O_RDONLY);
  int n = 0, k;
  if (fd < 0) return "(cannot open)";
  while (n < (int)sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += k;
  close(fd);
  buf[n] = 0;
  return buf;
}

#endif
