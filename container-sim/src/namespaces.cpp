// Making namespaces (clone/unshare with CLONE_NEW*), privilege over them,
// and the user namespaces' id maps (namespaces(7), user_namespaces(7),
// pid_namespaces(7); ../shared/SEMANTICS.md §1.1-1.6).
#include <cstdio>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

const char* ns_type_name(uint32_t type) {
  switch (type) {
    case kNsMnt: return "mnt";
    case kNsUts: return "uts";
    case kNsIpc: return "ipc";
    case kNsUser: return "user";
    case kNsPid: return "pid";
    case kNsNet: return "net";
  }
  return "?";
}

uint32_t id_from_kernel(const UserNamespace& ns, bool gid, uint32_t kid) {
  if (!ns.parent) return kid;  // the initial namespace maps every id to itself
  for (const IdExtent& e : (gid ? ns.gid_map : ns.uid_map).extents)
    if (kid >= e.lower && kid - e.lower < e.count) return e.first + (kid - e.lower);
  return kNoId;
}

uint32_t id_to_kernel(const UserNamespace& ns, bool gid, uint32_t id) {
  if (!ns.parent) return id;
  for (const IdExtent& e : (gid ? ns.gid_map : ns.uid_map).extents)
    if (id >= e.first && id - e.first < e.count) return e.lower + (id - e.first);
  return kNoId;
}

uint32_t Kernel::seen_id(const Process& p, uint32_t kid, bool gid) const {
  const uint32_t v = id_from_kernel(*p.ns.user, gid, kid);
  return v == kNoId ? kOverflowId : v;  // §1.6: unmapped ids read as the overflow id
}

// security/commoncap.c cap_capable() in words (user_namespaces(7)
// "Capabilities"): a process has a capability in its own user namespace if
// its set holds it; in a descendant namespace if it is in the namespace's
// parent and its euid owns it; never in an ancestor.
bool Kernel::capable(const Process& p, const UserNamespace& target) const {
  for (const UserNamespace* n = &target; n; n = n->parent.get()) {
    if (n == p.ns.user.get()) return p.caps;
    if (n->parent.get() == p.ns.user.get() && n->owner_uid == p.euid) return true;
  }
  return false;
}

int Kernel::make_namespaces(Process& creator, uint32_t flags, NamespaceSet& set, PathRef* root, PathRef* cwd,
                            bool by_unshare) {
  // Every check before anything is made, so a failure changes nothing.
  std::shared_ptr<UserNamespace> user = set.user;
  if (flags & kNsUser) {
    // user_namespaces(7): 32 levels; unshare(2)/clone(2): EPERM when the
    // caller's ids are unmapped or it is chrooted; ENOSPC past the limit.
    if (user->level + 1 > 32) return -kENOSPC;
    if (id_from_kernel(*user, false, creator.euid) == kNoId || id_from_kernel(*user, true, creator.egid) == kNoId)
      return -kEPERM;
    if (root && set.mnt && !(*root == set.mnt->mounts.root_ref())) return -kEPERM;
  }
  // The other types need CAP_SYS_ADMIN in the user namespace that will own
  // them: with CLONE_NEWUSER in the same call that is the new one, where the
  // creator holds every capability (§1.1).
  const uint32_t others = flags & (kNsMnt | kNsUts | kNsIpc | kNsPid | kNsNet);
  if (others && !(flags & kNsUser) && !capable(creator, *user)) return -kEPERM;
  if (flags & kNsPid) {
    // kernel/pid_namespace.c copy_pid_ns(): not again while the children's
    // namespace already differs from the caller's own (after unshare or setns).
    if (set.pid_for_children != set.pid) return -kEINVAL;
    if (set.pid_for_children->level + 1 > 32) return -kENOSPC;  // MAX_PID_NS_LEVEL (§1.2)
  }

  const uint32_t cause = by_unshare ? 1 : 0;
  auto created = [&](uint32_t type, NamespaceBase& ns, const std::shared_ptr<UserNamespace>& owner) {
    ns.id = new_ns_id();
    ns.owner = owner;
    if (log_.wants(trace::EventKind::NamespaceCreate))
      log_.emit(trace::EventKind::NamespaceCreate, time(), type, uint32_t(ns.id), creator.pid(), cause);
  };
  if (flags & kNsUser) {
    auto u = std::make_shared<UserNamespace>();
    u->parent = user;
    u->level = user->level + 1;
    u->owner_uid = creator.euid;
    u->owner_gid = creator.egid;
    created(kNsUser, *u, user);  // a user namespace is owned by its parent
    user = u;
    set.user = u;
  }
  // Linux's order (kernel/nsproxy.c create_new_namespaces): mnt, uts, ipc, pid, net.
  if (flags & kNsMnt) {
    std::map<const Mount*, Mount*> map;
    auto m = std::make_shared<MountNamespace>(set.mnt->mounts.copy(map));
    created(kNsMnt, *m, user);
    // The copy's processes stand in the copies of the mounts they stood in.
    for (PathRef* ref : {root, cwd}) {
      if (!ref) continue;
      const auto it = map.find(ref->mount);
      if (it != map.end())
        ref->mount = it->second;
      else
        m->keeps_alive = set.mnt;  // a detached mount: Linux's reference keeps it, so does this one
    }
    set.mnt = m;
  }
  if (flags & kNsUts) {
    auto u = std::make_shared<UtsNamespace>(*set.uts);  // starts as a copy of the creator's (§1.4)
    created(kNsUts, *u, user);
    set.uts = u;
  }
  if (flags & kNsIpc) {
    auto i = std::make_shared<IpcNamespace>();  // empty: its own identifier sets
    created(kNsIpc, *i, user);
    set.ipc = i;
  }
  if (flags & kNsPid) {
    auto n = std::make_shared<PidNamespace>();
    n->parent = set.pid_for_children;
    n->level = n->parent->level + 1;
    created(kNsPid, *n, user);
    set.pid_for_children = n;  // unshare: only the children go in (§1.2)
  }
  if (flags & kNsNet) {
    // lo only, DOWN (§1.5); physical devices return to the initial one when it is freed.
    auto n = std::make_shared<NetNamespace>(set.net->is_initial ? std::weak_ptr<NetNamespace>(set.net) : set.net->initial);
    created(kNsNet, *n, user);
    set.net = n;
  }
  return 0;
}

namespace {
// "ID-inside ID-outside length" lines (user_namespaces(7)); false if malformed.
bool parse_id_map(const std::string& text, std::vector<IdExtent>& out) {
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find('\n', i);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(i, end - i);
    i = end + 1;
    uint32_t v[3];
    int n = 0;
    size_t k = 0;
    while (n < 3) {
      while (k < line.size() && line[k] == ' ') ++k;
      if (k >= line.size() || line[k] < '0' || line[k] > '9') return false;
      uint64_t x = 0;
      while (k < line.size() && line[k] >= '0' && line[k] <= '9') {
        x = x * 10 + uint64_t(line[k++] - '0');
        if (x > 0xFFFFFFFFu) return false;
      }
      v[n++] = uint32_t(x);
    }
    while (k < line.size() && line[k] == ' ') ++k;
    if (k != line.size()) return false;
    if (v[2] == 0 || uint64_t(v[0]) + v[2] > 0xFFFFFFFFu || uint64_t(v[1]) + v[2] > 0xFFFFFFFFu) return false;
    out.push_back(IdExtent{v[0], v[1], v[2]});
  }
  if (out.empty() || out.size() > 340) return false;  // 340 lines since Linux 4.15
  for (size_t a = 0; a < out.size(); ++a)
    for (size_t b = a + 1; b < out.size(); ++b) {
      const auto overlap = [](uint32_t x, uint32_t y, uint32_t n, uint32_t m) { return x < y + m && y < x + n; };
      if (overlap(out[a].first, out[b].first, out[a].count, out[b].count) ||
          overlap(out[a].lower, out[b].lower, out[a].count, out[b].count))
        return false;
    }
  return true;
}
}  // namespace

// kernel/user_namespace.c map_write() in the order Linux checks (§1.6).
int Kernel::write_id_map(Process& writer, Process& target, bool gid, const std::string& text) {
  UserNamespace& ns = *target.ns.user;
  // The opener must be in the namespace or its parent.
  if (writer.ns.user.get() != &ns && writer.ns.user.get() != ns.parent.get()) return -kEPERM;
  IdMap& map = gid ? ns.gid_map : ns.uid_map;
  if (!ns.parent || map.written) return -kEPERM;  // written once (the initial map counts as written)
  if (!capable(writer, ns)) return -kEPERM;       // CAP_SYS_ADMIN over the target namespace
  std::vector<IdExtent> extents;
  if (!parse_id_map(text, extents)) return -kEINVAL;
  // Permitted: one line mapping the writer's own euid (uid_map only: an
  // unprivileged gid_map needs "deny" in /proc/PID/setgroups, not modelled,
  // so that path is refused), or CAP_SETUID/CAP_SETGID in the parent.
  const bool own = !gid && extents.size() == 1 && extents[0].count == 1 &&
                   id_to_kernel(*ns.parent, false, extents[0].lower) == writer.euid;
  if (!own && !capable(writer, *ns.parent)) return -kEPERM;
  // ID-outside is in the parent's ids: store them as kernel ids.
  for (IdExtent& e : extents) {
    const uint32_t first = id_to_kernel(*ns.parent, gid, e.lower);
    const uint32_t last = id_to_kernel(*ns.parent, gid, e.lower + e.count - 1);
    if (first == kNoId || last == kNoId || last - first != e.count - 1) return -kEPERM;
    e.lower = first;
  }
  map.extents = std::move(extents);
  map.written = true;
  return 0;
}

}  // namespace vs::container_sim
