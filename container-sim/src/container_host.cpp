#include "virtscope/container_sim/container_host.h"

#include <fstream>
#include <iterator>

#include "cpio.h"
#include "kernel.h"

namespace vs::container_sim {

const char* host_stop_name(HostStop s) {
  switch (s) {
    case HostStop::AllExited: return "all-exited";
    case HostStop::Budget: return "budget";
    case HostStop::Idle: return "idle";
    case HostStop::Requested: return "requested";
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
uint64_t ContainerHost::now() const { return kernel_->now(); }
trace::EventLog& ContainerHost::log() { return kernel_->log(); }

}  // namespace vs::container_sim
