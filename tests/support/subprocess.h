// Running a program as a child process for the tests that check a whole
// process (the virtscope command, the workloads as Linux i386 processes,
// QEMU as an independent reference): its stdin from a string, its stdout
// and stderr collected, its exit status or signal.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vs::test {

struct ProcessResult {
  int exec_errno = 0;  // errno of a failed execve in the child, 0 if it ran
  int status = -1;     // exit status, -1 if it did not exit normally
  int signal = 0;      // terminating signal, 0 if none
  bool timed_out = false;
  std::string out, err;
};

// Runs `path` (searched in PATH when it has no '/') with `args` as argv[1..]
// and `input` on a pipe to its stdin. `env` replaces the environment; none
// keeps the test's own. A child still running after `timeout_seconds` is
// killed (timed_out).
ProcessResult run_process(const std::string& path, const std::vector<std::string>& args,
                          const std::string& input = "",
                          const std::optional<std::vector<std::string>>& env = std::nullopt,
                          int timeout_seconds = 60);

}  // namespace vs::test
