// Short lockstep campaigns of virtscope's interpreter against every oracle
// (the full 10^6-instruction runs are `virtscope conformance lockstep`, see
// docs/conformance.md). Each skips with the oracle's own reason where the
// host cannot run it.
#include <gtest/gtest.h>

#include "virtscope/conformance/interp_oracle.h"
#include "virtscope/conformance/kvm_oracle.h"
#include "virtscope/conformance/lockstep.h"
#include "virtscope/conformance/native_oracle.h"
#include "virtscope/conformance/unicorn_oracle.h"

using namespace vs::conformance;

namespace {
void expect_no_divergence(Oracle& reference, StartMode mode, uint64_t seed, bool system_class = false) {
  std::string why;
  if (!reference.available(mode, &why)) GTEST_SKIP() << reference.name() << " unavailable: " << why;
  auto interp = make_interp_oracle();
  CampaignOptions options;
  options.generator.system_class = system_class;
  const LockstepSummary s = run_campaign(reference, *interp, mode, seed, 5000, 200, options);
  ASSERT_TRUE(s.error.empty()) << s.error;
  EXPECT_GE(s.instructions, 5000u);
  std::string details;
  for (const auto& d : s.minimized) details += format_divergence(d) + "\n";
  EXPECT_EQ(s.divergences, 0u) << details;
}
}  // namespace

TEST(InterpLockstep, AgainstSilicon_UserMode) {
  auto native = make_native_oracle();
  expect_no_divergence(*native, StartMode::UserFlat32, 11);
}

#if defined(VIRTSCOPE_HAVE_UNICORN)
TEST(InterpLockstep, AgainstUnicorn_Ring0WithSystemInstructions) {
  auto unicorn = make_unicorn_oracle();
  expect_no_divergence(*unicorn, StartMode::Ring0Flat32, 12, true);
}

TEST(InterpLockstep, AgainstUnicorn_RealMode) {
  auto unicorn = make_unicorn_oracle();
  expect_no_divergence(*unicorn, StartMode::Real16, 13);
}
#endif

TEST(InterpLockstep, AgainstKvm_Ring0) {
  auto kvm = make_kvm_oracle();
  expect_no_divergence(*kvm, StartMode::Ring0Flat32, 14, true);
}
