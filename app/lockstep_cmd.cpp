// `virtscope conformance lockstep`: run reproducible random instruction
// streams on the interpreter and on an oracle (real silicon in an i386
// process, KVM, or Unicorn), compare after every instruction, and report
// minimized divergences. Ends with "lockstep ORACLE: N instructions, D divergences".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "virtscope/conformance/interp_oracle.h"
#include "virtscope/conformance/kvm_oracle.h"
#include "virtscope/conformance/lockstep.h"
#include "virtscope/conformance/native_oracle.h"
#include "virtscope/conformance/unicorn_oracle.h"

namespace vs::app {

namespace {
using conformance::StartMode;

bool parse_mode(const char* s, StartMode& m) {
  if (!std::strcmp(s, "user")) m = StartMode::UserFlat32;
  else if (!std::strcmp(s, "ring0")) m = StartMode::Ring0Flat32;
  else if (!std::strcmp(s, "real")) m = StartMode::Real16;
  else return false;
  return true;
}

std::unique_ptr<conformance::Oracle> make_oracle(const std::string& name) {
  if (name == "native") return conformance::make_native_oracle();
  if (name == "kvm") return conformance::make_kvm_oracle();
#if defined(VIRTSCOPE_HAVE_UNICORN)
  if (name == "unicorn") return conformance::make_unicorn_oracle();
#endif
  return nullptr;
}
}  // namespace

int run_lockstep_command(int argc, char** argv) {
  std::string oracle_name;
  uint64_t instructions = 100000, seed = 1;
  size_t per_program = 200;
  bool mode_given = false, system_class = false;
  StartMode mode = StartMode::UserFlat32;
  for (int i = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--oracle") && i + 1 < argc) oracle_name = argv[++i];
    else if (!std::strcmp(argv[i], "--instructions") && i + 1 < argc) instructions = std::strtoull(argv[++i], nullptr, 0);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 0);
    else if (!std::strcmp(argv[i], "--per-program") && i + 1 < argc) per_program = std::strtoull(argv[++i], nullptr, 0);
    else if (!std::strcmp(argv[i], "--system")) system_class = true;
    else if (!std::strcmp(argv[i], "--mode") && i + 1 < argc && parse_mode(argv[i + 1], mode)) { ++i; mode_given = true; }
    else {
      std::fprintf(stderr,
                   "usage: virtscope conformance lockstep --oracle native|kvm|unicorn [--instructions N] [--seed S]\n"
                   "         [--mode user|ring0|real] [--system] [--per-program N]\n");
      return 2;
    }
  }
  auto reference = make_oracle(oracle_name);
  if (!reference) {
    std::fprintf(stderr, "virtscope conformance lockstep: unknown or unavailable oracle '%s' (native, kvm, unicorn)\n",
                 oracle_name.c_str());
    return 2;
  }
  // The native oracle runs user-level code only; the system oracles default to ring 0.
  if (!mode_given && oracle_name != "native") mode = StartMode::Ring0Flat32;
  std::string why;
  if (!reference->available(mode, &why)) {
    std::printf("lockstep %s: unavailable here: %s\n", oracle_name.c_str(), why.c_str());
    return 0;
  }
  if (per_program == 0 || instructions == 0) {
    std::fprintf(stderr, "virtscope conformance lockstep: --instructions and --per-program must be positive\n");
    return 2;
  }
  auto subject = conformance::make_interp_oracle();
  conformance::CampaignOptions options;
  options.generator.system_class = system_class && mode == StartMode::Ring0Flat32;
  const conformance::LockstepSummary s =
      conformance::run_campaign(*reference, *subject, mode, seed, instructions, per_program, options);
  for (const auto& d : s.minimized) std::printf("%s\n", conformance::format_divergence(d).c_str());
  std::printf("instruction classes:");
  for (const auto& [cls, n] : s.class_counts) std::printf(" %s=%llu", cls.c_str(), (unsigned long long)n);
  std::printf("\n");
  for (const auto& n : s.notes) std::printf("note: %s\n", n.c_str());
  if (!s.error.empty()) std::printf("error: %s\n", s.error.c_str());
  std::printf("lockstep %s: %llu instructions, %llu divergences\n", oracle_name.c_str(),
              (unsigned long long)s.instructions, (unsigned long long)s.divergences);
  return s.error.empty() && s.divergences == 0 ? 0 : 1;
}

}  // namespace vs::app
