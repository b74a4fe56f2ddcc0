#include "container_machine.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "virtscope/container_image/store.h"
#include "virtscope/trace/event.h"

namespace vs::app {

namespace {

// The flag -> cgroup v2 file table (docs/container-cli.md). Values go to the
// kernel as written, so it answers a bad one exactly as Linux would.
struct LimitFlag {
  const char* flag;
  const char* file;
};
constexpr LimitFlag kLimitFlags[] = {
    {"--memory-max", "memory.max"}, {"--memory-high", "memory.high"}, {"--cpu-max", "cpu.max"},
    {"--cpu-weight", "cpu.weight"}, {"--pids-max", "pids.max"},       {"--io-max", "io.max"},
};

// "key value" lines (cpu.stat, memory.events): the value of `key`, or "".
std::string keyed(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k, v;
  while (in >> k >> v)
    if (k == key) return v;
  return "";
}

// io.stat "MAJ:MIN rbytes=N wbytes=N rios=N ..." lines: the sum of `key` over devices.
uint64_t io_sum(const std::string& text, const std::string& key) {
  uint64_t sum = 0;
  std::istringstream in(text);
  std::string word;
  while (in >> word)
    if (word.rfind(key + "=", 0) == 0) sum += std::strtoull(word.c_str() + key.size() + 1, nullptr, 10);
  return sum;
}

}  // namespace

int shell_status(int wait_status) {
  return (wait_status & 0x7F) ? 128 + (wait_status & 0x7F) : (wait_status >> 8) & 0xFF;
}

bool parse_run_options(const std::vector<std::string>& args, RunOptions& out, std::string& error) {
  size_t i = 0;
  auto value = [&](const std::string& flag, std::string& v) {
    if (i + 1 >= args.size()) {
      error = flag + " needs a value";
      return false;
    }
    v = args[++i];
    return true;
  };
  for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
    const std::string& a = args[i];
    std::string v;
    const LimitFlag* limit = nullptr;
    for (const LimitFlag& f : kLimitFlags)
      if (a == f.flag) limit = &f;
    if (limit) {
      if (!value(a, v)) return false;
      out.limits.emplace_back(limit->file, v);
    } else if (a == "--name") {
      if (!value(a, out.name)) return false;
    } else if (a == "--hostname") {
      if (!value(a, out.hostname)) return false;
    } else if (a == "-e" || a == "--env") {
      if (!value(a, v)) return false;
      if (v.find('=') == std::string::npos || v[0] == '=') {
        error = a + " wants KEY=VALUE, got \"" + v + "\"";
        return false;
      }
      out.env.push_back(v);
    } else if (a == "--network") {
      if (!value(a, out.network)) return false;
      if (out.network != "none" && out.network != "veth" && out.network != "host") {
        error = "--network is none, veth or host, not \"" + out.network + "\"";
        return false;
      }
    } else if (a == "--pid" || a == "--uts" || a == "--ipc") {
      // docker's --pid=host ...: join the host's namespace of that type.
      if (!value(a, v)) return false;
      if (v != "host" && v != "private") {
        error = a + " is host or private, not \"" + v + "\"";
        return false;
      }
      (a == "--pid" ? out.host_pid : a == "--uts" ? out.host_uts : out.host_ipc) = v == "host";
    } else if (a == "--userns") {
      out.user_namespace = true;
    } else if (a == "-d" || a == "--detach") {
      out.detach = true;
    } else if (a == "--rm") {
      out.remove = true;
    } else {
      error = "unknown run option " + a;
      return false;
    }
  }
  if (i >= args.size()) {
    error = "which image? (run [OPTIONS] IMAGE [COMMAND...])";
    return false;
  }
  out.image = args[i++];
  out.command.assign(args.begin() + long(i), args.end());
  return true;
}

ContainerMachine::ContainerMachine(const ContainerState& state, uint32_t ram_bytes, std::ostream& out,
                                   bool input_closed)
    : state_(state), out_(out) {
  container_sim::HostConfig config;
  config.ram_bytes = ram_bytes;
  host_ = std::make_unique<container_sim::ContainerHost>(config);
  host_->set_console([this](std::string_view s) { out_ << s << std::flush; });
  if (input_closed) host_->close_input();  // containers read no terminal
}

bool ContainerMachine::trace_to(const std::string& path, std::string& error) {
  trace_file_ = std::make_unique<std::ofstream>(path);
  if (!*trace_file_) {
    error = "cannot write trace file " + path;
    return false;
  }
  trace_writer_ = std::make_unique<trace::TraceWriter>(*trace_file_, trace::TraceWriter::format_for_path(path));
  const trace::KindSet kinds = trace::KindSet::all()
                                   .without(trace::EventKind::InsnRetired)
                                   .without(trace::EventKind::PageWalk)
                                   .without(trace::EventKind::Syscall)
                                   .without(trace::EventKind::CgroupCharge);
  host_->log().subscribe(kinds, [this](const trace::Event& e) { trace_writer_->write(e); });
  return true;
}

bool ContainerMachine::start(const RunOptions& o, std::string& name, std::string& error) {
  container_image::ImageStore store(state_.images(), &host_->log());  // its unpack events join the machine's
  container_image::ImageInfo image;
  if (!store.inspect(o.image, image, error)) return false;
  container_sim::ContainerSpec spec;
  name = o.name.empty() ? state_.fresh_name(o.image) : o.name;
  while (o.name.empty() && started_.count(name)) name += "x";  // two unnamed in one session
  if (started_.count(name) || (state_.exists(name) && !o.remove)) {
    error = "the container name \"" + name + "\" is already in use (virtscope container rm " + name + ")";
    return false;
  }
  spec.name = name;
  spec.hostname = o.hostname;
  // OCI config.md: Cmd supplies Entrypoint's default arguments; a command
  // given to run replaces Cmd.
  spec.argv = image.config.entrypoint;
  const std::vector<std::string>& args = o.command.empty() ? image.config.cmd : o.command;
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = image.config.env;
  spec.env.insert(spec.env.end(), o.env.begin(), o.env.end());
  spec.cwd = image.config.working_dir.empty() ? "/" : image.config.working_dir;
  spec.limits = o.limits;
  spec.user_namespace = o.user_namespace;
  spec.host_pid = o.host_pid;
  spec.host_uts = o.host_uts;
  spec.host_ipc = o.host_ipc;
  spec.host_net = o.network == "host";
  if (!store.load_layers(o.image, spec.layers, error)) return false;
  for (const container_image::Descriptor& layer : image.layers) spec.layer_ids.push_back(layer.digest);
  spec.veth = o.network == "veth";
  const uint32_t pid = host_->create_container(spec, error);
  if (!pid) return false;
  started_[name] = Started{o, spec.argv, image.id, pid, false};
  return true;
}

int ContainerMachine::wait(const std::string& name, std::string& error) {
  const auto it = started_.find(name);
  if (it == started_.end()) {
    error = "no such container in this session: " + name;
    return -1;
  }
  run_until_exit(it->second.pid);
  record_exited();
  if (dead()) {
    error = "the shared kernel panicked (" + host_->panic_reason() + "): every container stopped with it";
    return -1;
  }
  const std::optional<int> status = host_->exit_status(it->second.pid);
  if (!status) {
    error = name + " did not finish within the instruction budget (--max-instructions)";
    return -1;
  }
  return shell_status(*status);
}

int ContainerMachine::exec(const std::string& name, const std::vector<std::string>& argv, std::string& error) {
  const uint32_t pid = host_->exec_in_container(name, argv, error);
  if (!pid) return -1;
  run_until_exit(pid);
  record_exited();
  const std::optional<int> status = host_->exit_status(pid);
  if (!status) {
    error = dead() ? "the shared kernel panicked: " + host_->panic_reason() : "exec did not finish";
    return -1;
  }
  return shell_status(*status);
}

void ContainerMachine::run_until_exit(uint32_t pid) {
  // The machine stops the moment that process ends (its ProcessExit event),
  // not at the end of a slice: the other containers have run exactly as
  // long as it did.
  const trace::EventLog::SubscriberId id =
      host_->log().subscribe(trace::KindSet::of({trace::EventKind::ProcessExit}), [this, pid](const trace::Event& e) {
        if (e.arg[0] == pid) host_->request_stop();
      });
  uint64_t left = budget;
  while (!dead() && !host_->exit_status(pid) && left > 0) {
    const uint64_t before = host_->now();
    const container_sim::HostStop stop = host_->run(left);
    left -= std::min(left, host_->now() - before);
    if (stop == container_sim::HostStop::Idle || stop == container_sim::HostStop::AllExited) break;
  }
  host_->log().unsubscribe(id);
}

void ContainerMachine::sleep(uint64_t ms) {
  host_->run(ms * 100'000);  // 10 ns an instruction
  record_exited();
}

std::map<std::string, std::string> ContainerMachine::figures(const std::string& name) const {
  // What `stats` shows and a record keeps, read from the container's cgroup
  // files the way a guest would read them.
  std::map<std::string, std::string> f;
  const std::string cg = "/virtscope/" + name;
  std::string text, error;
  if (host_->cgroup_read(cg + "/cpu.stat", text, error)) {
    f["cpu.usage_usec"] = keyed(text, "usage_usec");
    f["cpu.nr_throttled"] = keyed(text, "nr_throttled");
    f["cpu.throttled_usec"] = keyed(text, "throttled_usec");
  }
  for (const char* file : {"memory.current", "memory.peak", "pids.current"})
    if (host_->cgroup_read(cg + "/" + file, text, error)) f[file] = text.substr(0, text.find('\n'));
  if (host_->cgroup_read(cg + "/memory.events", text, error)) f["memory.oom_kill"] = keyed(text, "oom_kill");
  if (host_->cgroup_read(cg + "/io.stat", text, error)) {
    f["io.rbytes"] = std::to_string(io_sum(text, "rbytes"));
    f["io.rios"] = std::to_string(io_sum(text, "rios"));
  }
  for (auto it = f.begin(); it != f.end();) it = it->second.empty() ? f.erase(it) : std::next(it);
  return f;
}

void ContainerMachine::record(const std::string& name) {
  Started& s = started_.at(name);
  if (s.recorded) return;
  s.recorded = true;
  if (s.options.remove) return;
  ContainerRecord r;
  r.name = name;
  r.image = s.options.image;
  r.image_id = s.image_id;
  r.command = s.argv;
  r.hostname = s.options.hostname.empty() ? name : s.options.hostname;
  r.limits = s.options.limits;
  for (const container_sim::ContainerInfo& c : host_->containers())
    if (c.name == name) r.figures["pid"] = std::to_string(c.pid);
  const std::optional<int> status = host_->exit_status(s.pid);
  r.status = dead() ? "kernel panic" : !status ? "stopped" : (*status & 0x7F) ? "killed" : "exited";
  r.exit_code = status ? shell_status(*status) : 255;
  const auto f = figures(name);
  r.figures.insert(f.begin(), f.end());
  std::string error;
  if (!state_.save(r, error)) out_ << "virtscope container: " << error << "\n";
}

void ContainerMachine::record_exited() {
  for (const container_sim::ContainerInfo& c : host_->containers())
    if (started_.count(c.name) && (!c.running || dead())) record(c.name);
}

void ContainerMachine::finish() {
  for (const auto& [name, s] : started_) record(name);
}

void ContainerMachine::ps(std::ostream& out) const {
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %6s %-12s %5s  %-24s %s\n", "NAME", "PID", "STATUS", "PROCS", "CGROUP",
                "HOSTNAME");
  out << line;
  for (const container_sim::ContainerInfo& c : host_->containers()) {
    const std::string status = dead()       ? "kernel panic"
                               : c.running   ? "running"
                               : c.exit_status ? "exited (" + std::to_string(shell_status(*c.exit_status)) + ")"
                                               : "exited";
    std::snprintf(line, sizeof line, "%-16s %6u %-12s %5u  %-24s %s\n", c.name.c_str(), c.pid, status.c_str(),
                  c.processes, c.cgroup.c_str(), c.hostname.c_str());
    out << line;
  }
}

void ContainerMachine::stats(std::ostream& out, const std::string& only) const {
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %12s %10s %12s %12s %5s %10s\n", "NAME", "CPU usec", "THROTTLED",
                "MEM current", "MEM max", "PIDS", "IO read");
  out << line;
  for (const container_sim::ContainerInfo& c : host_->containers()) {
    if (!only.empty() && c.name != only) continue;
    auto f = figures(c.name);
    std::string max, error;
    host_->cgroup_read("/virtscope/" + c.name + "/memory.max", max, error);
    std::snprintf(line, sizeof line, "%-16s %12s %10s %12s %12s %5s %10s\n", c.name.c_str(),
                  f["cpu.usage_usec"].c_str(), f["cpu.nr_throttled"].c_str(), f["memory.current"].c_str(),
                  max.substr(0, max.find('\n')).c_str(), f["pids.current"].c_str(), f["io.rbytes"].c_str());
    out << line;
  }
}

}  // namespace vs::app
