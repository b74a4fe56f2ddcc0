// One emulated machine running containers for `virtscope container run`
// and `container session` (docs/container-cli.md): container-sim's kernel
// (ContainerHost), the image store the containers start from, and the
// records they leave behind (container_state.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <fstream>

#include "container_state.h"
#include "virtscope/trace/export.h"
#include "virtscope/container_sim/container_host.h"

namespace vs::app {

// `run`'s options, the same on the command line and in a session.
struct RunOptions {
  std::string name, hostname, image;
  std::vector<std::string> command;  // after the image: overrides the image's Cmd
  std::vector<std::string> env;      // -e K=V, after the image's Env
  std::vector<std::pair<std::string, std::string>> limits;  // cgroup file -> value, in the order given
  std::string network = "none";      // none | veth | host
  bool host_pid = false, host_uts = false, host_ipc = false;  // --pid host, --uts host, --ipc host
  bool user_namespace = false;       // --userns: root inside is uid 100000 outside
  bool detach = false;               // -d (sessions only): start it and go on
  bool remove = false;               // --rm: no record once it exited
};
// Parses `run`'s arguments (from after "run"). false with a usage message.
bool parse_run_options(const std::vector<std::string>& args, RunOptions& out, std::string& error);

// "exit code" of a Linux wait status, as a shell reports it: code, or 128 + signal.
int shell_status(int wait_status);

class ContainerMachine {
 public:
  // `input_closed`: a read of the console is end of file (run); otherwise it
  // waits for ever (a session's shells stay up until the session ends).
  ContainerMachine(const ContainerState& state, uint32_t ram_bytes, std::ostream& out, bool input_closed);
  container_sim::ContainerHost& host() { return *host_; }

  // Every event of the machine to `path` (.json: Chrome trace, else JSON Lines),
  // the opt-in high-volume kinds (Syscall, CgroupCharge, InsnRetired, PageWalk) left out.
  bool trace_to(const std::string& path, std::string& error);
  // Starts a container from its image; its name (given or made) in `name`.
  bool start(const RunOptions& options, std::string& name, std::string& error);
  // Runs the machine until `name`'s init has exited (or the kernel panicked,
  // or the budget ran out); saves its record; its shell status, or -1.
  int wait(const std::string& name, std::string& error);
  // `exec NAME CMD...`: runs the command in the container until it exits; its shell status.
  int exec(const std::string& name, const std::vector<std::string>& argv, std::string& error);
  // Lets virtual time pass: `ms` milliseconds of instructions (10 ns each).
  void sleep(uint64_t ms);
  void ps(std::ostream& out) const;
  void stats(std::ostream& out, const std::string& only = "") const;
  // Every exited container not yet recorded gets its record.
  void record_exited();
  // The machine goes away (the end of a session): the containers still
  // running stop with it, and are recorded as "stopped".
  void finish();
  uint64_t budget = 20'000'000'000ull;  // instructions one wait may take

 private:
  struct Started {
    RunOptions options;
    std::vector<std::string> argv;  // what its init runs (Entrypoint + Cmd, or the command given)
    std::string image_id;
    uint32_t pid = 0;
    bool recorded = false;
  };
  void run_until_exit(uint32_t pid);
  std::map<std::string, std::string> figures(const std::string& name) const;
  void record(const std::string& name);
  bool dead() const { return !host_->panic_reason().empty(); }

  const ContainerState& state_;
  std::ostream& out_;
  std::unique_ptr<container_sim::ContainerHost> host_;
  std::map<std::string, Started> started_;
  std::unique_ptr<std::ofstream> trace_file_;
  std::unique_ptr<trace::TraceWriter> trace_writer_;
};

}  // namespace vs::app
