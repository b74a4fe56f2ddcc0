#include "virtscope/container_sim/container_host.h"

#include <fstream>
#include <iterator>

#include "cgroup.h"
#include "cpio.h"
#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

const char* host_stop_name(HostStop s) {
  switch (s) {
    case HostStop::AllExited: return "all-exited";
    case HostStop::Budget: return "budget";
    case HostStop::Idle: return "idle";
    case HostStop::Requested: return "requested";
    case HostStop::Panic: return "kernel-panic";
  }
  return "?";
}

ContainerHost::ContainerHost(HostConfig config) : kernel_(std::make_unique<Kernel>(config)) {}
ContainerHost::~ContainerHost() = default;

bool ContainerHost::add_file(const std::string& path, std::vector<uint8_t> bytes, std::string& error) {
  return kernel_->add_file(path, std::move(bytes), error);
}

bool ContainerHost::add_directory(const std::string& path, std::string& error) {
  return kernel_->add_directory(path, error);
}

bool ContainerHost::set_disk(std::vector<uint8_t> image, std::string& error) {
  return kernel_->set_disk(std::move(image), error);
}

bool ContainerHost::add_initrd(const std::string& cpio_path, std::string& error) {
  std::ifstream in(cpio_path, std::ios::binary);
  if (!in) {
    error = "cannot open " + cpio_path;
    return false;
  }
  const std::vector<uint8_t> archive{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<CpioFile> files;
  if (!read_cpio(archive, files, error)) {
    error = cpio_path + ": " + error;
    return false;
  }
  for (CpioFile& f : files)
    if (!kernel_->add_file("/" + f.name, std::move(f.data), error)) return false;
  return true;
}

uint32_t ContainerHost::spawn(const std::vector<std::string>& argv, std::string& error,
                              const std::vector<std::string>& envp) {
  return kernel_->spawn(argv, envp, error);
}

HostStop ContainerHost::run(uint64_t max_instructions) { return kernel_->run(max_instructions); }
void ContainerHost::request_stop() { kernel_->request_stop(); }
std::optional<int> ContainerHost::exit_status(uint32_t pid) const { return kernel_->exit_status(pid); }
std::vector<ProcessInfo> ContainerHost::processes() const { return kernel_->processes(); }
void ContainerHost::set_console(std::function<void(std::string_view)> sink) { kernel_->set_console(std::move(sink)); }
void ContainerHost::queue_input(std::string_view bytes) { kernel_->queue_input(bytes); }
void ContainerHost::close_input() { kernel_->close_input(); }
const HostCounters& ContainerHost::counters() const { return kernel_->counters(); }
const std::string& ContainerHost::panic_reason() const { return kernel_->panic_reason(); }
uint64_t ContainerHost::now() const { return kernel_->now(); }
trace::EventLog& ContainerHost::log() { return kernel_->log(); }

// --- cgroup v2: the host's access (the CLI's run --pids-max, stats) ---

// strerror(3)'s words for the errors cgroup files and the runtime give (linux_abi.h).
std::string linux_abi::errno_text(int e) {
  switch (-e) {
    case 1: return "Operation not permitted";
    case 2: return "No such file or directory";
    case 3: return "No such process";
    case 11: return "Resource temporarily unavailable";
    case 13: return "Permission denied";
    case 16: return "Device or resource busy";
    case 17: return "File exists";
    case 19: return "No such device";
    case 20: return "Not a directory";
    case 21: return "Is a directory";
    case 22: return "Invalid argument";
    case 28: return "No space left on device";
    case 30: return "Read-only file system";
    case 34: return "Numerical result out of range";
    default: return "error " + std::to_string(-e);
  }
}

namespace {

// "/a/b/pids.max" -> ("/a/b", "pids.max").
void split_path(const std::string& path, std::string& dir, std::string& name) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  dir = slash == std::string::npos ? "/" : p.substr(0, slash + 1);
  name = slash == std::string::npos ? p : p.substr(slash + 1);
}

bool fail(std::string& error, const std::string& path, int e) {
  error = path + ": " + linux_abi::errno_text(e);
  return false;
}
}  // namespace

bool ContainerHost::cgroup_create(const std::string& path, std::string& error) {
  std::string dir, name;
  split_path(path, dir, name);
  const std::shared_ptr<Cgroup> parent = kernel_->cgroups().find(dir);
  if (!parent || name.empty()) return fail(error, path, -2);
  const int e = kernel_->cgroups().mkdir(*parent, name);
  return e == 0 || fail(error, path, e);
}

bool ContainerHost::cgroup_remove(const std::string& path, std::string& error) {
  const std::shared_ptr<Cgroup> cg = kernel_->cgroups().find(path);
  if (!cg) return fail(error, path, -2);
  const int e = kernel_->cgroups().rmdir(*cg);
  return e == 0 || fail(error, path, e);
}

bool ContainerHost::cgroup_move(uint32_t pid, const std::string& path, std::string& error) {
  return cgroup_write((path.empty() || path.back() != '/' ? path + "/" : path) + "cgroup.procs", std::to_string(pid),
                      error);
}

bool ContainerHost::cgroup_read(const std::string& file, std::string& text, std::string& error) {
  std::string dir, name;
  split_path(file, dir, name);
  const std::shared_ptr<Cgroup> cg = kernel_->cgroups().find(dir);
  if (!cg) return fail(error, file, -2);
  const int e = kernel_->cgroup_text(nullptr, *cg, name, text);
  return e == 0 || fail(error, file, e);
}

bool ContainerHost::cgroup_write(const std::string& file, const std::string& text, std::string& error) {
  std::string dir, name;
  split_path(file, dir, name);
  const std::shared_ptr<Cgroup> cg = kernel_->cgroups().find(dir);
  if (!cg || !kernel_->cgroups().has_file(*cg, name)) return fail(error, file, -2);
  const int e = kernel_->cgroup_write(nullptr, *cg, name, text);
  return e >= 0 || fail(error, file, e);
}

}  // namespace vs::container_sim
