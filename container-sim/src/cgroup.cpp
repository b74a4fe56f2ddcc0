// The cgroup v2 hierarchy (cgroup.h). Each rule
// cites where Linux makes it: kernel/cgroup/cgroup.c and kernel/cgroup/pids.c,
// as cgroup-v2.rst documents them (../shared/SEMANTICS.md §2.1, §2.4).
#include "cgroup.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "linux_abi.h"
#include "vfs.h"

namespace vs::container_sim {

using namespace linux_abi;

std::string Cgroup::path() const {
  if (!parent) return "/";
  std::string out;
  for (const Cgroup* c = this; c->parent; c = c->parent) out = "/" + c->name + out;
  return out;
}

std::string strip(const std::string& text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return text.substr(b, e - b);
}

bool parse_kernel_int(const std::string& text, int64_t& out) {
  const std::string s = strip(text);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  unsigned base = 10;
  if (i + 1 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    base = 16, i += 2;
  } else if (i + 1 < s.size() && s[i] == '0') {
    base = 8, ++i;
  }
  if (i >= s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    const unsigned d = c >= '0' && c <= '9' ? unsigned(c - '0') : c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10) : 99;
    if (d >= base) return false;
    v = v * base + d;
    if (v > (uint64_t(1) << 62)) return false;  // -ERANGE in Linux; EINVAL to the writer either way
  }
  out = negative ? -int64_t(v) : int64_t(v);
  return true;
}

CgroupHierarchy::CgroupHierarchy() : root_(std::make_shared<Cgroup>()) { root_->id = next_id_++; }

std::shared_ptr<Cgroup> CgroupHierarchy::find(const std::string& path) const {
  std::shared_ptr<Cgroup> at = root_;
  for (const std::string& part : path_components(path)) {
    const auto it = at->children.find(part);
    if (it == at->children.end()) return nullptr;
    at = it->second;
  }
  return at;
}

// --- membership -----------------------------------------------------------------

int CgroupHierarchy::can_fork(Cgroup& cg, Cgroup** over) {
  // pids_try_charge(): every level from the process's cgroup up must stay
  // within its pids.max; the nearest one that would not fails the fork.
  // cgroup v2 counts the hit in *that* cgroup's pids.events (§2.4).
  for (Cgroup* c = &cg; c && c->parent; c = c->parent) {
    if (!c->has_pids() || c->pids_max == kPidsUnlimited) continue;
    if (int64_t(c->pids_current) + 1 > c->pids_max) {
      ++c->pids_events_max;
      if (over) *over = c;
      return -kEAGAIN;
    }
  }
  return 0;
}

void CgroupHierarchy::attach(Cgroup& cg) {
  ++cg.nr_live;
  for (Cgroup* c = &cg; c; c = c->parent) ++c->nr_populated, ++c->pids_current;
}

void CgroupHierarchy::exit(Cgroup& cg) {
  // cgroup_exit() at do_exit: the zombie leaves cgroup.procs and stops
  // counting as "populated" (§2.1), but still holds its pids charge.
  --cg.nr_live;
  for (Cgroup* c = &cg; c; c = c->parent) --c->nr_populated;
}

void CgroupHierarchy::release(Cgroup& cg) {
  for (Cgroup* c = &cg; c; c = c->parent) --c->pids_current;  // pids_release() when reaped
}

int CgroupHierarchy::vet_destination(const Cgroup& dst) const {
  // cgroup_migrate_vet_dst(): the root is exempt; a cgroup that has only
  // threaded controllers enabled and no populated children can still take
  // processes (it could become a thread root); otherwise a cgroup that
  // enables controllers for its children takes none.
  if (dst.is_root() || dst.subtree_control == 0) return 0;
  bool populated_children = false;
  for (const auto& [name, child] : dst.children) populated_children |= child->nr_populated > 0;
  if (!populated_children && !(dst.subtree_control & ~kCgThreadedControllers)) return 0;
  return -kEBUSY;
}

void CgroupHierarchy::move(Cgroup& from, Cgroup& to) {
  // §2.4: migration charges pids.current at the destination without
  // checking pids.max, so it can end above the limit (checklist 12).
  exit(from);
  release(from);
  attach(to);
}

// --- the tree ----------------------------------------------------------------------

int CgroupHierarchy::mkdir(Cgroup& parent, const std::string& name) {
  if (name.find('\n') != std::string::npos) return -kEINVAL;  // cgroup_mkdir()
  if (parent.children.count(name) || has_file(parent, name)) return -kEEXIST;
  auto c = std::make_shared<Cgroup>();
  c->name = name;
  c->id = next_id_++;
  c->parent = &parent;
  parent.children[name] = std::move(c);
  return 0;
}

int CgroupHierarchy::rmdir(Cgroup& cg) {
  // cgroup_destroy_locked(): EBUSY while the subtree has live processes or
  // the cgroup has children; zombies alone do not keep it (§2.1).
  if (cg.is_root() || cg.nr_populated > 0 || !cg.children.empty()) return -kEBUSY;
  Cgroup& parent = *cg.parent;
  std::shared_ptr<Cgroup> self = parent.children.at(cg.name);
  self->removed = true;
  self->parent_ref = parent.shared_from_this();  // its zombies are still charged up the tree
  parent.children.erase(cg.name);
  return 0;
}

// --- interface files ---------------------------------------------------------------

const CgroupControllerOps& cgroup_controller(CgroupController c) {
  switch (c) {
    case kCgCpu: return cpu_controller();
    case kCgIo: return io_controller();
    case kCgMemory: return memory_controller();
    case kCgPids:
    case kCgControllerCount: break;
  }
  return pids_controller();
}

namespace {
// The controller file called `name`, or null; `owner` says whose.
const CgroupFile* controller_file(const std::string& name, CgroupController* owner) {
  for (uint32_t c = 0; c < kCgControllerCount; ++c)
    for (const CgroupFile& f : cgroup_controller(CgroupController(c)).files)
      if (name == f.name) {
        if (owner) *owner = CgroupController(c);
        return &f;
      }
  return nullptr;
}

bool shown_in(const Cgroup& cg, const CgroupFile& f, CgroupController owner) {
  return !cg.is_root() && (f.always || cg.has(owner));
}

std::string mask_text(uint32_t mask) {
  // cgroup_print_ss_mask(): the names separated by spaces, then a newline (alone when empty).
  std::string out;
  for (uint32_t i = 0; i < kCgControllerCount; ++i)
    if (mask & (1u << i)) out += (out.empty() ? "" : " ") + std::string(kCgroupControllerNames[i]);
  return out + "\n";
}
}  // namespace

std::vector<std::string> CgroupHierarchy::files(const Cgroup& cg) const {
  // The core files of every cgroup (cgroup-v2.rst "Core Interface Files";
  // cgroup.events is CFTYPE_NOT_ON_ROOT), then the files of the
  // controllers the parent enables: "owned by the parent" (§2.1).
  std::vector<std::string> out = {"cgroup.controllers"};
  if (!cg.is_root()) out.push_back("cgroup.events");
  out.push_back("cgroup.procs");
  out.push_back("cgroup.subtree_control");
  for (uint32_t c = 0; c < kCgControllerCount; ++c)
    for (const CgroupFile& f : cgroup_controller(CgroupController(c)).files)
      if (shown_in(cg, f, CgroupController(c))) out.push_back(f.name);
  std::sort(out.begin(), out.end());
  return out;
}

bool CgroupHierarchy::has_file(const Cgroup& cg, const std::string& name) const {
  for (const std::string& f : files(cg))
    if (f == name) return true;
  return false;
}

bool CgroupHierarchy::writable(const std::string& name) const {
  if (name == "cgroup.procs" || name == "cgroup.subtree_control") return true;
  const CgroupFile* f = controller_file(name, nullptr);
  return f && f->write;
}

bool CgroupHierarchy::read_file(const Cgroup& cg, const std::string& name, std::string& out) const {
  if (!has_file(cg, name) || name == "cgroup.procs") return false;
  if (name == "cgroup.controllers") {
    out = mask_text(cg.controllers());
  } else if (name == "cgroup.subtree_control") {
    out = mask_text(cg.subtree_control);
  } else if (name == "cgroup.events") {
    out = "populated " + std::to_string(cg.nr_populated > 0 ? 1 : 0) + "\nfrozen 0\n";  // no freezer yet
  } else if (const CgroupFile* f = controller_file(name, nullptr)) {
    out.clear();
    f->read(cg, out);
  } else {
    return false;
  }
  return true;
}

int CgroupHierarchy::write_file(Cgroup& cg, const std::string& name, const std::string& text) {
  if (name == "cgroup.subtree_control") return write_subtree_control(cg, text);
  const CgroupFile* f = has_file(cg, name) ? controller_file(name, nullptr) : nullptr;
  if (!f || !f->write) return -kEINVAL;  // kernfs: a file without a write method
  return f->write(cg, text);
}

int CgroupHierarchy::write_subtree_control(Cgroup& cg, const std::string& text) {
  // cgroup_subtree_control_write(), step by step.
  // 1. Parse "+name -name ...": a token without a sign, or a name this
  //    kernel has no controller for, is EINVAL; the last word on a name wins.
  uint32_t enable = 0, disable = 0;
  const std::string s = strip(text);
  for (size_t i = 0; i <= s.size();) {
    const size_t end = s.find(' ', i) == std::string::npos ? s.size() : s.find(' ', i);
    const std::string tok = s.substr(i, end - i);
    i = end + 1;
    if (tok.empty()) continue;
    uint32_t id = kCgControllerCount;
    for (uint32_t c = 0; c < kCgControllerCount; ++c)
      if (tok.substr(1) == kCgroupControllerNames[c]) id = c;
    if (id == kCgControllerCount || (tok[0] != '+' && tok[0] != '-')) return -kEINVAL;
    if (tok[0] == '+') enable |= 1u << id, disable &= ~(1u << id);
    else disable |= 1u << id, enable &= ~(1u << id);
  }
  // 2. Top-down: only what the parent enables for us (cgroup.controllers) can be enabled.
  for (uint32_t c = 0; c < kCgControllerCount; ++c) {
    const uint32_t bit = 1u << c;
    if (!(enable & bit)) continue;
    if (cg.subtree_control & bit) {
      enable &= ~bit;  // already on
    } else if (!(cg.controllers() & bit)) {
      return -kENOENT;
    }
  }
  // 3. ... and nothing can be disabled while a child still enables it below.
  for (uint32_t c = 0; c < kCgControllerCount; ++c) {
    const uint32_t bit = 1u << c;
    if (!(disable & bit)) continue;
    if (!(cg.subtree_control & bit)) {
      disable &= ~bit;
      continue;
    }
    for (const auto& [n, child] : cg.children)
      if (child->subtree_control & bit) return -kEBUSY;
  }
  if (!enable && !disable) return 0;
  // 4. No internal processes (cgroup_vet_subtree_control_enable()): the
  //    root is exempt; threaded controllers (cpu, pids) are allowed where
  //    the cgroup could still become a thread root (no populated children,
  //    no domain controller on); otherwise a cgroup with processes of its
  //    own cannot enable controllers for children.
  if (enable && !cg.is_root()) {
    const bool domain = enable & ~kCgThreadedControllers;
    bool populated_children = false;
    for (const auto& [n, child] : cg.children) populated_children |= child->nr_populated > 0;
    const bool thread_root_possible = !populated_children && !(cg.subtree_control & ~kCgThreadedControllers);
    if ((domain || !thread_root_possible) && cg.nr_live > 0) return -kEBUSY;
  }
  cg.subtree_control = (cg.subtree_control | enable) & ~disable;
  // A controller switched off in the children loses its state (its css is
  // destroyed); switched on again it starts from the defaults.
  for (uint32_t c = 0; c < kCgControllerCount; ++c) {
    const CgroupControllerOps& ops = cgroup_controller(CgroupController(c));
    if ((disable & (1u << c)) && ops.reset)
      for (auto& [n, child] : cg.children) ops.reset(*child);
  }
  return 0;
}

}  // namespace vs::container_sim
