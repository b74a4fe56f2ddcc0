// Tests of the event spine (DESIGN.md §3): kind table from events.def, KindSet,
// EventLog filtering, ring buffer, subscribers, counts and source locations.
#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

#include "virtscope/trace/event.h"

namespace vs::trace {
namespace {

constexpr VirtualTime at(uint64_t icount) { return VirtualTime{icount, icount * 3}; }

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(EventKinds, EveryLabel_RoundTripsByName) {
  for (size_t i = 0; i < kKindCount; ++i) {
    const auto kind = static_cast<EventKind>(i);
    const char* name = kind_info(kind).name;
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(kind_from_name(name), kind) << name;
    EXPECT_EQ(kind_from_name(lowercase(name)), kind) << "lookup ignores case: " << name;
  }
}

TEST(EventKinds, UnknownName_IsNullopt) {
  EXPECT_FALSE(kind_from_name("NoSuchEvent").has_value());
  EXPECT_FALSE(kind_from_name("").has_value());
  EXPECT_FALSE(kind_from_name("Exception ").has_value());
}

TEST(EventKinds, OutOfRangeKind_GetsPlaceholderRow) {
  EXPECT_STREQ(kind_info(EventKind::kCount).name, "?");
  EXPECT_STREQ(kind_info(static_cast<EventKind>(0xFFFF)).name, "?");
}

TEST(EventKinds, Fields_FollowEventsDef) {
  const EventKindInfo& exc = kind_info(EventKind::Exception);
  EXPECT_STREQ(exc.name, "Exception");
  EXPECT_STREQ(exc.fields[0], "vector");
  EXPECT_STREQ(exc.fields[1], "error_code");
  EXPECT_STREQ(exc.fields[2], "eip");
  EXPECT_STREQ(exc.fields[3], "cs");
  EXPECT_STRNE(exc.meaning, "");

  const EventKindInfo& in = kind_info(EventKind::PortIn);
  EXPECT_STREQ(in.fields[0], "port");
  EXPECT_STREQ(in.fields[2], "value");
  EXPECT_STREQ(in.fields[3], "");

  EXPECT_STREQ(kind_info(EventKind::ModeChange).fields[3], "cpl_to");
  EXPECT_STREQ(kind_info(EventKind::InsnRetired).fields[2], "length");
}

TEST(KindSet, Of_ContainsExactlyTheGivenKinds) {
  const KindSet s = KindSet::of({EventKind::PortIn, EventKind::Halt});
  EXPECT_TRUE(s.test(EventKind::PortIn));
  EXPECT_TRUE(s.test(EventKind::Halt));
  EXPECT_FALSE(s.test(EventKind::PortOut));
  EXPECT_EQ(s.size(), 2u);
  EXPECT_FALSE(s.test(EventKind::kCount));
}

TEST(KindSet, AllNoneAndSetOperations) {
  EXPECT_TRUE(KindSet::none().empty());
  EXPECT_EQ(KindSet::all().size(), kKindCount);
  EXPECT_FALSE(KindSet::all().without(EventKind::InsnRetired).test(EventKind::InsnRetired));
  EXPECT_TRUE(KindSet::all().without(EventKind::InsnRetired).test(EventKind::Exception));
  const KindSet a = KindSet::of({EventKind::Exception});
  const KindSet b = KindSet::of({EventKind::Interrupt});
  EXPECT_EQ((a | b), KindSet::of({EventKind::Exception, EventKind::Interrupt}));
  EXPECT_TRUE((a & b).empty());
  KindSet c = a;
  c.reset(EventKind::Exception);
  EXPECT_TRUE(c.empty());
}

// KindSet must keep working when events.def grows past 64 kinds; its storage
// is this template, exercised here beyond one word.
TEST(KindSet, WordBits_WorksPast64Bits) {
  detail::WordBits<130> bits;
  static_assert(detail::WordBits<130>::kWords == 3);
  for (size_t i : {0u, 63u, 64u, 127u, 128u, 129u}) bits.set(i, true);
  bits.set(130, true);  // out of range: ignored
  EXPECT_EQ(bits.count(), 6u);
  EXPECT_TRUE(bits.test(64));
  EXPECT_TRUE(bits.test(129));
  EXPECT_FALSE(bits.test(65));
  EXPECT_FALSE(bits.test(130));
  bits.set(64, false);
  EXPECT_FALSE(bits.test(64));
  EXPECT_TRUE(bits.test(63));
  detail::WordBits<130> all;
  all.fill();
  EXPECT_EQ(all.count(), 130u);
}

TEST(KindSet, FromNames_ParsesCommaList) {
  EXPECT_EQ(kind_set_from_names("Exception, portout"),
            KindSet::of({EventKind::Exception, EventKind::PortOut}));
  EXPECT_EQ(kind_set_from_names("all"), KindSet::all());
  EXPECT_EQ(kind_set_from_names(""), KindSet::none());
  EXPECT_FALSE(kind_set_from_names("Exception,Bogus").has_value());
}

TEST(EventLog, NoListener_WantsNothing) {
  EventLog log;
  for (size_t i = 0; i < kKindCount; ++i) EXPECT_FALSE(log.wants(static_cast<EventKind>(i)));
  EXPECT_FALSE(log.wants(EventKind::kCount));
}

TEST(EventLog, Subscribe_TurnsOnWantsForItsKindsOnly) {
  EventLog log;
  const auto id = log.subscribe(KindSet::of({EventKind::Exception}), [](const Event&) {});
  EXPECT_TRUE(log.wants(EventKind::Exception));
  EXPECT_FALSE(log.wants(EventKind::Interrupt));
  log.unsubscribe(id);
  EXPECT_FALSE(log.wants(EventKind::Exception));
}

TEST(EventLog, Record_TurnsOnWants) {
  EventLog log;
  log.record(KindSet::of({EventKind::PortIn}));
  EXPECT_TRUE(log.wants(EventKind::PortIn));
  EXPECT_FALSE(log.wants(EventKind::PortOut));
  log.record(KindSet::none());
  EXPECT_FALSE(log.wants(EventKind::PortIn));
}

TEST(EventLog, WantsIsUnionOfRecordAndSubscribers) {
  EventLog log;
  log.record(KindSet::of({EventKind::PortIn}));
  const auto id = log.subscribe(KindSet::of({EventKind::Halt}), [](const Event&) {});
  EXPECT_TRUE(log.wants(EventKind::PortIn));
  EXPECT_TRUE(log.wants(EventKind::Halt));
  log.unsubscribe(id);
  EXPECT_TRUE(log.wants(EventKind::PortIn));
  EXPECT_FALSE(log.wants(EventKind::Halt));
}

TEST(EventLog, Ring_KeepsLastNAndCountsDropped) {
  EventLog log(4);
  log.record(KindSet::of({EventKind::PortOut}));
  for (uint64_t i = 0; i < 10; ++i) log.emit(EventKind::PortOut, at(i), 0x3f8, 1, i);
  const std::vector<Event> events = log.recorded();
  ASSERT_EQ(events.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(events[i].arg[2], 6 + i) << "oldest first";
  EXPECT_EQ(log.dropped(), 6u);
}

TEST(EventLog, Ring_BeforeWrapping_KeepsAllInOrder) {
  EventLog log(100);
  log.record(KindSet::all());
  for (uint64_t i = 0; i < 5; ++i) log.emit(EventKind::Halt, at(i), i);
  const std::vector<Event> events = log.recorded();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events.front().arg[0], 0u);
  EXPECT_EQ(events.back().arg[0], 4u);
  EXPECT_EQ(log.dropped(), 0u);
}

TEST(EventLog, Ring_OnlyStoresRecordedKinds) {
  EventLog log(8);
  log.record(KindSet::of({EventKind::Exception}));
  log.emit(EventKind::PortIn, at(1), 0x60, 1, 0);
  log.emit(EventKind::Exception, at(2), 14, 2, 0x1000, 8);
  const std::vector<Event> events = log.recorded();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::Exception);
  EXPECT_EQ(events[0].arg[0], 14u);
  EXPECT_EQ(events[0].arg[1], 2u);
  EXPECT_EQ(events[0].arg[2], 0x1000u);
  EXPECT_EQ(events[0].arg[3], 8u);
  EXPECT_EQ(events[0].when.icount, 2u);
  EXPECT_EQ(events[0].when.cycles, 6u);
}

TEST(EventLog, ZeroCapacity_KeepsNothingAndCountsAllDropped) {
  EventLog log(0);
  log.record(KindSet::all());
  log.emit(EventKind::Halt, at(0));
  log.emit(EventKind::Halt, at(1));
  EXPECT_TRUE(log.recorded().empty());
  EXPECT_EQ(log.dropped(), 2u);
}

TEST(EventLog, Clear_EmptiesRingButSeqContinues) {
  EventLog log(2);
  log.record(KindSet::all());
  for (int i = 0; i < 3; ++i) log.emit(EventKind::Halt, at(0));
  EXPECT_EQ(log.dropped(), 1u);
  log.clear();
  EXPECT_TRUE(log.recorded().empty());
  EXPECT_EQ(log.dropped(), 0u);
  log.emit(EventKind::Halt, at(0));
  ASSERT_EQ(log.recorded().size(), 1u);
  EXPECT_EQ(log.recorded()[0].seq, 3u);
  EXPECT_EQ(log.count(EventKind::Halt), 4u);
}

TEST(EventLog, Seq_IncreasesAcrossAllKinds) {
  EventLog log;
  std::vector<uint64_t> seqs;
  log.subscribe(KindSet::of({EventKind::Halt}), [&](const Event& e) { seqs.push_back(e.seq); });
  log.record(KindSet::of({EventKind::PortIn}));
  log.emit(EventKind::Halt, at(0));
  log.emit(EventKind::PortIn, at(1));
  log.emit(EventKind::Halt, at(2));
  ASSERT_EQ(seqs.size(), 2u);
  EXPECT_EQ(seqs[0], 0u);
  EXPECT_EQ(seqs[1], 2u) << "the PortIn between them took seq 1";
  ASSERT_EQ(log.recorded().size(), 1u);
  EXPECT_EQ(log.recorded()[0].seq, 1u);
}

TEST(EventLog, Subscribers_GetOnlyTheirKinds) {
  EventLog log;
  std::vector<EventKind> a, b;
  log.subscribe(KindSet::of({EventKind::Exception}), [&](const Event& e) { a.push_back(e.kind); });
  log.subscribe(KindSet::of({EventKind::Interrupt, EventKind::Halt}),
                [&](const Event& e) { b.push_back(e.kind); });
  log.emit(EventKind::Exception, at(0), 13);
  log.emit(EventKind::Interrupt, at(1), 32);
  log.emit(EventKind::PortOut, at(2));
  log.emit(EventKind::Halt, at(3));
  EXPECT_EQ(a, (std::vector<EventKind>{EventKind::Exception}));
  EXPECT_EQ(b, (std::vector<EventKind>{EventKind::Interrupt, EventKind::Halt}));
}

TEST(EventLog, Unsubscribe_StopsDelivery) {
  EventLog log;
  int calls = 0;
  const auto id = log.subscribe(KindSet::all(), [&](const Event&) { ++calls; });
  log.emit(EventKind::Halt, at(0));
  log.unsubscribe(id);
  log.emit(EventKind::Halt, at(1));
  EXPECT_EQ(calls, 1);
  log.unsubscribe(id);    // twice: ignored
  log.unsubscribe(9999);  // never existed: ignored
}

TEST(EventLog, Unsubscribe_OneOfTwo_KeepsTheOther) {
  EventLog log;
  int first = 0, second = 0;
  const auto id1 = log.subscribe(KindSet::all(), [&](const Event&) { ++first; });
  const auto id2 = log.subscribe(KindSet::all(), [&](const Event&) { ++second; });
  EXPECT_NE(id1, id2);
  log.unsubscribe(id1);
  log.emit(EventKind::Halt, at(0));
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
  EXPECT_TRUE(log.wants(EventKind::Halt));
}

TEST(EventLog, SubscriberMayUnsubscribeItselfDuringEmit) {
  EventLog log;
  int calls = 0;
  EventLog::SubscriberId self = 0;
  self = log.subscribe(KindSet::all(), [&](const Event&) {
    ++calls;
    log.unsubscribe(self);
  });
  int other = 0;
  log.subscribe(KindSet::all(), [&](const Event&) { ++other; });
  log.emit(EventKind::Halt, at(0));
  log.emit(EventKind::Halt, at(1));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(other, 2);
}

TEST(EventLog, SubscriberMaySubscribeAndEmitDuringEmit) {
  EventLog log;
  std::vector<EventKind> late;
  bool added = false;
  log.subscribe(KindSet::of({EventKind::Exception}), [&](const Event& e) {
    if (!added) {
      added = true;
      // Many subscriptions force the subscriber vector to reallocate while
      // this callback is running.
      for (int i = 0; i < 64; ++i) log.subscribe(KindSet::none(), [](const Event&) {});
      log.subscribe(KindSet::all(), [&](const Event& n) { late.push_back(n.kind); });
    }
    if (e.arg[0] == 8) log.emit(EventKind::Reset, e.when, 1);  // a double fault becomes a reset
  });
  log.emit(EventKind::Exception, at(0), 8);
  // The late subscriber missed the Exception but saw the nested Reset.
  EXPECT_EQ(late, (std::vector<EventKind>{EventKind::Reset}));
  EXPECT_EQ(log.count(EventKind::Reset), 1u);
}

TEST(EventLog, ThrowingSubscriber_LeavesLogUsable) {
  EventLog log;
  const auto id = log.subscribe(KindSet::all(), [](const Event&) { throw std::runtime_error("boom"); });
  EXPECT_THROW(log.emit(EventKind::Halt, at(0)), std::runtime_error);
  log.unsubscribe(id);
  EXPECT_FALSE(log.wants(EventKind::Halt));
  int calls = 0;
  log.subscribe(KindSet::all(), [&](const Event&) { ++calls; });
  log.emit(EventKind::Halt, at(1));
  EXPECT_EQ(calls, 1);
}

TEST(EventLog, EmptyCallback_IsNeverCalled) {
  EventLog log;
  log.subscribe(KindSet::all(), {});
  EXPECT_FALSE(log.wants(EventKind::Halt));
  log.emit(EventKind::Halt, at(0));  // must not throw std::bad_function_call
}

TEST(EventLog, Count_CountsEmittedPerKind) {
  EventLog log;
  log.record(KindSet::all());
  for (int i = 0; i < 3; ++i) log.emit(EventKind::PortIn, at(0));
  log.emit(EventKind::PortOut, at(0));
  EXPECT_EQ(log.count(EventKind::PortIn), 3u);
  EXPECT_EQ(log.count(EventKind::PortOut), 1u);
  EXPECT_EQ(log.count(EventKind::Exception), 0u);
  EXPECT_EQ(log.count(EventKind::kCount), 0u);
}

TEST(EventLog, InvalidKind_IsIgnored) {
  EventLog log;
  log.record(KindSet::all());
  log.emit(static_cast<EventKind>(0x7777), at(0));
  EXPECT_TRUE(log.recorded().empty());
}

TEST(EventLog, Context_IsStampedIntoFollowingEvents) {
  EventLog log;
  log.record(KindSet::all());
  log.emit(EventKind::Halt, at(0));
  log.set_context(2, 41);
  log.emit(EventKind::Halt, at(1));
  const std::vector<Event> events = log.recorded();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].vm, 0u);
  EXPECT_EQ(events[0].pid, 0u);
  EXPECT_EQ(events[1].vm, 2u);
  EXPECT_EQ(events[1].pid, 41u);
}

TEST(EventLog, SourceLocation_IsTheEmitCall) {
  EventLog log;
  log.record(KindSet::all());
  const uint32_t line = __LINE__ + 1;
  log.emit(EventKind::Unsupported, at(0), 1, 0x1234, 8);
  const std::vector<Event> events = log.recorded();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].line, line);
  ASSERT_NE(events[0].file, nullptr);
  EXPECT_TRUE(std::string(events[0].file).ends_with("event_log_test.cpp")) << events[0].file;
}

TEST(EventLog, HotPathIdiom_BuildsNothingWhenNobodyListens) {
  EventLog log;
  int argument_evaluations = 0;
  auto expensive = [&] { return static_cast<uint64_t>(++argument_evaluations); };
  if (log.wants(EventKind::InsnRetired)) log.emit(EventKind::InsnRetired, at(0), expensive());
  EXPECT_EQ(argument_evaluations, 0);
  EXPECT_EQ(log.count(EventKind::InsnRetired), 0u);
}

}  // namespace
}  // namespace vs::trace
