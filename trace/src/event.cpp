// The event log (DESIGN.md §3): the kind table built from events.def, the ring
// buffer of recent events and synchronous dispatch to subscribers.
#include "virtscope/trace/event.h"

#include <algorithm>
#include <iterator>

namespace vs::trace {
namespace {

constexpr EventKindInfo kKindTable[] = {
#define VS_EVENT(Name, label, f0, f1, f2, f3, meaning) {label, {f0, f1, f2, f3}, meaning},
#include "virtscope/trace/events.def"
#undef VS_EVENT
};
static_assert(std::size(kKindTable) == kKindCount, "one table row per EventKind");
static_assert(kKindCount < 0xFFFF, "EventKind is stored in 16 bits");

constexpr EventKindInfo kNotAKind = {"?", {"", "", "", ""}, "Not an event kind virtscope knows."};

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// Keys every exported event already has (export.cpp); a field may not reuse them.
constexpr std::string_view kReservedFieldNames[] = {"seq", "icount", "cycles", "kind", "vm", "pid", "src"};

constexpr bool is_reserved_field_name(std::string_view field) {
  for (std::string_view reserved : kReservedFieldNames)
    if (field == reserved) return true;
  return false;
}

// events.def rules checked when this file compiles, so a bad new row fails the
// build instead of producing a confusing trace: labels are non-empty and unique
// (ignoring case, since lookup ignores case), used fields come first, and no
// field takes a name the exported records already use.
constexpr bool kind_table_is_well_formed() {
  for (size_t i = 0; i < kKindCount; ++i) {
    const EventKindInfo& row = kKindTable[i];
    if (std::string_view(row.name).empty()) return false;
    for (size_t j = i + 1; j < kKindCount; ++j)
      if (equal_ignoring_case(row.name, kKindTable[j].name)) return false;
    bool seen_unused = false;
    for (const char* field : row.fields) {
      const bool unused = std::string_view(field).empty();
      if (!unused && (seen_unused || is_reserved_field_name(field))) return false;
      seen_unused = seen_unused || unused;
    }
  }
  return true;
}
static_assert(kind_table_is_well_formed(),
              "events.def: labels must be unique and non-empty, used fields must come first "
              "and must not be named seq, icount, cycles, kind, vm, pid or src");

constexpr std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const EventKindInfo& kind_info(EventKind k) {
  const size_t index = static_cast<size_t>(k);
  return index < kKindCount ? kKindTable[index] : kNotAKind;
}

std::optional<EventKind> kind_from_name(std::string_view name) {
  for (size_t i = 0; i < kKindCount; ++i)
    if (equal_ignoring_case(name, kKindTable[i].name)) return static_cast<EventKind>(i);
  return std::nullopt;
}

std::optional<KindSet> kind_set_from_names(std::string_view list) {
  KindSet kinds;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = trim_spaces(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    if (equal_ignoring_case(item, "all")) {
      kinds |= KindSet::all();
      continue;
    }
    const std::optional<EventKind> kind = kind_from_name(item);
    if (!kind) return std::nullopt;
    kinds.set(*kind);
  }
  return kinds;
}

EventLog::EventLog(size_t ring_capacity) : capacity_(ring_capacity) {}

void EventLog::emit(EventKind k, VirtualTime when, uint64_t a0, uint64_t a1, uint64_t a2,
                    uint64_t a3, SourceLocation loc) {
  const size_t index = static_cast<size_t>(k);
  if (index >= kKindCount) return;  // not a kind: there is nothing to name it by
  const Event ev{next_seq_++, when, k, vm_, pid_, {a0, a1, a2, a3}, loc.file_name(), loc.line()};
  ++counts_[index];
  if (recorded_kinds_.test(k)) store_in_ring(ev);
  if (!subscribers_.empty()) deliver_to_subscribers(ev);
}

void EventLog::set_context(uint16_t vm, uint32_t pid) {
  vm_ = vm;
  pid_ = pid;
}

void EventLog::record(KindSet kinds) {
  recorded_kinds_ = kinds;
  recompute_wanted();
}

void EventLog::store_in_ring(const Event& ev) {
  if (ring_.size() < capacity_) {
    // Grow by doubling, but never past the capacity the owner asked for.
    if (ring_.size() == ring_.capacity())
      ring_.reserve(std::min(capacity_, std::max<size_t>(64, 2 * ring_.size())));
    ring_.push_back(ev);
    return;
  }
  ++dropped_;
  if (capacity_ == 0) return;
  ring_[ring_next_] = ev;  // overwrite the oldest
  if (++ring_next_ == capacity_) ring_next_ = 0;  // a compare, not a division
}

std::vector<Event> EventLog::recorded() const {
  std::vector<Event> out;
  out.reserve(ring_.size());
  // Until the ring wraps ring_next_ is 0 and this is a plain copy.
  const auto oldest = ring_.begin() + static_cast<std::ptrdiff_t>(ring_next_);
  out.insert(out.end(), oldest, ring_.end());
  out.insert(out.end(), ring_.begin(), oldest);
  return out;
}

void EventLog::clear() {
  ring_.clear();
  ring_next_ = 0;
  dropped_ = 0;
}

EventLog::SubscriberId EventLog::subscribe(KindSet kinds, std::function<void(const Event&)> fn) {
  if (!fn) kinds = KindSet::none();  // an empty callback is never called
  const SubscriberId id = next_subscriber_id_++;
  subscribers_.push_back(std::make_unique<Subscriber>(Subscriber{id, kinds, std::move(fn), false}));
  recompute_wanted();
  return id;
}

void EventLog::unsubscribe(SubscriberId id) {
  for (auto& s : subscribers_) {
    if (s->id != id || s->removed) continue;
    // Only mark it: the callback may be running right now (it may be the one
    // unsubscribing itself). It is destroyed once no dispatch is under way.
    s->kinds = KindSet::none();
    s->removed = true;
    has_unsubscribed_ = true;
  }
  if (dispatch_depth_ == 0) remove_unsubscribed();
  recompute_wanted();
}

void EventLog::deliver_to_subscribers(const Event& ev) {
  struct DispatchScope {  // also unwinds correctly if a callback throws
    EventLog& log;
    explicit DispatchScope(EventLog& l) : log(l) { ++log.dispatch_depth_; }
    ~DispatchScope() {
      if (--log.dispatch_depth_ == 0) log.remove_unsubscribed();
    }
  } scope(*this);
  // Fixed bound: subscribers added by a callback start with the next event.
  const size_t n = subscribers_.size();
  for (size_t i = 0; i < n; ++i) {
    Subscriber& s = *subscribers_[i];
    if (s.kinds.test(ev.kind)) s.fn(ev);
  }
}

void EventLog::remove_unsubscribed() {
  if (!has_unsubscribed_) return;
  std::erase_if(subscribers_, [](const std::unique_ptr<Subscriber>& s) { return s->removed; });
  has_unsubscribed_ = false;
}

void EventLog::recompute_wanted() {
  KindSet wanted = recorded_kinds_;
  for (const auto& s : subscribers_) wanted |= s->kinds;
  wanted_ = wanted;
}

uint64_t EventLog::count(EventKind k) const {
  const size_t index = static_cast<size_t>(k);
  return index < kKindCount ? counts_[index] : 0;
}

}  // namespace vs::trace
