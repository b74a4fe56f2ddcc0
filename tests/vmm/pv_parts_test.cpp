// The pv VMM's parts on their own: the frame table's validation (Barham et
// al. §3.3: a page-table frame is never mapped writable) and the event
// channels' pending/mask rules (SEMANTICS.md checklist 33, 34).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "pv/event_channels.h"
#include "pv/frame_table.h"

namespace vs::vmm {
namespace {

// A domain of 16 frames at machine 0x10000 in a 128 KiB "host RAM".
class Frames : public ::testing::Test {
 protected:
  static constexpr uint32_t kBase = 0x10000;
  std::vector<uint8_t> ram = std::vector<uint8_t>(0x20000);
  FrameTable table{ram.data(), kBase, 16 * 0x1000, 0xABC003};
  uint32_t frame(unsigned i) const { return kBase + i * 0x1000; }
  uint32_t& entry(unsigned frame_index, unsigned i) {
    return reinterpret_cast<uint32_t*>(ram.data() + frame(frame_index))[i];
  }
};

TEST_F(Frames, PinningATableThatMapsAnotherTableWritableIsRefused) {
  ASSERT_EQ(table.pin(frame(1), FrameTable::Type::L1), 0) << table.error();
  entry(2, 0) = frame(1) | 3;  // frame 2 would map the pinned table 1 writable
  EXPECT_EQ(table.pin(frame(2), FrameTable::Type::L1), -EPERM);
  EXPECT_NE(table.error().find("writable"), std::string::npos);
  entry(2, 0) = frame(1) | 1;  // read-only is fine
  EXPECT_EQ(table.pin(frame(2), FrameTable::Type::L1), 0) << table.error();
}

TEST_F(Frames, AFrameMappedWritableCannotBecomeATable) {
  entry(1, 5) = frame(3) | 3;
  ASSERT_EQ(table.pin(frame(1), FrameTable::Type::L1), 0);
  EXPECT_EQ(table.pin(frame(3), FrameTable::Type::L1), -EBUSY);
  // Once the writable mapping is gone (a validated update), it can.
  EXPECT_EQ(table.update(frame(1) + 5 * 4, frame(3) | 1), 0);
  EXPECT_EQ(table.pin(frame(3), FrameTable::Type::L1), 0) << table.error();
}

TEST_F(Frames, UpdatesAreValidatedLikePins) {
  ASSERT_EQ(table.pin(frame(1), FrameTable::Type::L1), 0);
  ASSERT_EQ(table.pin(frame(2), FrameTable::Type::L1), 0);
  EXPECT_EQ(table.update(frame(1), frame(2) | 3), -EPERM);             // writable map of a table
  EXPECT_EQ(table.update(frame(1), frame(1) | 3), -EPERM);             // of itself
  EXPECT_EQ(table.update(frame(1), 0x00F00000 | 3), -EPERM);           // outside the domain
  EXPECT_EQ(table.update(frame(4), frame(5) | 3), -EINVAL);            // not in a pinned table
  EXPECT_EQ(table.update(frame(1) + 2, frame(5) | 3), -EINVAL);        // not an aligned request
  EXPECT_EQ(table.update(frame(1) + 8, frame(5) | 3), 0);
  EXPECT_EQ(entry(1, 2), frame(5) | 3);
}

TEST_F(Frames, DirectoriesPointOnlyAtPinnedTablesAndKeepTheHypervisorSlot) {
  entry(6, 0) = frame(7) | 3;  // frame 7 is not a pinned table
  EXPECT_EQ(table.pin(frame(6), FrameTable::Type::L2), -EINVAL);
  ASSERT_EQ(table.pin(frame(7), FrameTable::Type::L1), 0);
  ASSERT_EQ(table.pin(frame(6), FrameTable::Type::L2), 0) << table.error();
  EXPECT_EQ(entry(6, FrameTable::kHypervisorSlot), 0xABC003u);  // the hypervisor's 4 MiB
  EXPECT_EQ(table.update(frame(6) + FrameTable::kHypervisorSlot * 4, frame(7) | 3), -EPERM);
  EXPECT_EQ(table.update(frame(6) + 4, frame(8) | 0x83), -EINVAL);  // a 4 MiB page
  // A referenced table stays pinned; a loaded directory too.
  EXPECT_EQ(table.unpin(frame(7), 0), -EBUSY);
  EXPECT_EQ(table.unpin(frame(6), frame(6)), -EBUSY);
  EXPECT_EQ(table.unpin(frame(6), 0), 0) << table.error();
  EXPECT_EQ(table.unpin(frame(7), 0), 0) << table.error();
  EXPECT_TRUE(table.is(frame(7), FrameTable::Type::Writable));
}

TEST_F(Frames, UnpinningReleasesTheWritableMappings) {
  entry(1, 0) = frame(3) | 3;
  ASSERT_EQ(table.pin(frame(1), FrameTable::Type::L1), 0);
  EXPECT_EQ(table.pin(frame(3), FrameTable::Type::L1), -EBUSY);
  ASSERT_EQ(table.unpin(frame(1), 0), 0);
  EXPECT_EQ(table.pin(frame(3), FrameTable::Type::L1), 0) << table.error();
}

class Events : public ::testing::Test {
 protected:
  pv_shared_info shared{};
  EventChannels channels{&shared};
  void unmask(uint32_t port) { shared.evtchn_mask[port / 32] &= ~(1u << (port % 32)); }
};

TEST_F(Events, PortsStartMaskedAndAnUnmaskedOneRaisesAnUpcall) {
  const uint32_t port = channels.allocate();
  ASSERT_NE(port, 0u);
  EXPECT_TRUE(channels.masked(port));
  unmask(port);
  shared.upcall_mask = 0;
  channels.send(port);
  EXPECT_TRUE(shared.evtchn_pending[0] & (1u << port));
  EXPECT_EQ(shared.pending_sel, 1u);
  EXPECT_TRUE(channels.upcall_due());
}

TEST_F(Events, AMaskedPortDeliversNothingAndUnmaskingDoesNotReplayIt) {
  const uint32_t port = channels.allocate();
  shared.upcall_mask = 0;
  channels.send(port);  // masked: pending, but no upcall
  EXPECT_TRUE(shared.evtchn_pending[0] & (1u << port));
  EXPECT_FALSE(shared.upcall_pending);
  EXPECT_FALSE(channels.upcall_due());
  unmask(port);  // the guest unmasks: still nothing; it must scan the pending bits
  EXPECT_FALSE(channels.upcall_due());
  channels.send(port);  // already pending: no new edge either
  EXPECT_FALSE(channels.upcall_due());
  shared.evtchn_pending[0] = 0;  // the guest consumed it
  channels.send(port);
  EXPECT_TRUE(channels.upcall_due());
}

TEST_F(Events, TheUpcallMaskDefersWithoutLosingTheEvent) {
  const uint32_t port = channels.allocate();
  unmask(port);
  shared.upcall_mask = 1;  // the guest's virtual IF is clear
  channels.send(port);
  EXPECT_TRUE(shared.upcall_pending);
  EXPECT_FALSE(channels.upcall_due());
  shared.upcall_mask = 0;
  EXPECT_TRUE(channels.upcall_due());
}

TEST_F(Events, UnboundPortsAndExhaustionAreHandled) {
  channels.send(0);  // port 0 is never bound
  channels.send(900);
  EXPECT_FALSE(shared.upcall_pending);
  uint32_t last = 0;
  for (uint32_t p; (p = channels.allocate()) != 0;) last = p;
  EXPECT_EQ(last, PV_NR_EVENT_CHANNELS - 1u);
}

}  // namespace
}  // namespace vs::vmm
