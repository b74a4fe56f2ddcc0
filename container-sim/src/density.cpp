#include "virtscope/container_sim/density.h"

#include "virtscope/container_sim/container_host.h"

namespace vs::container_sim {

bool measure_container_density(uint32_t count, const std::vector<uint8_t>& shell, uint32_t ram_bytes,
                               DensityFigures& out, std::string& error) {
  HostConfig config;
  config.ram_bytes = ram_bytes;
  ContainerHost host(config);
  std::string console;
  host.set_console([&console](std::string_view s) { console.append(s); });
  // No input and none closed: each shell prints its prompt and blocks in read(2).
  container_image::ChangeSet layer;
  layer.push_back({"bin", container_image::EntryKind::Directory, 0755, {}});
  layer.push_back({"bin/sh", container_image::EntryKind::File, 0755, {shell.begin(), shell.end()}});
  ContainerSpec spec;
  spec.argv = {"/bin/sh"};
  spec.layers = {layer};
  spec.layer_ids = {"sha256:the-shell-layer"};  // one image: its layer unpacked once, shared
  for (uint32_t i = 0; i < count; ++i) {
    spec.name = "c" + std::to_string(i + 1);
    if (!host.create_container(spec, error)) {
      error = spec.name + ": " + error;
      return false;
    }
  }
  const HostStop stop = host.run(uint64_t(count) * 10'000'000);
  if (stop != HostStop::Idle) {
    error = std::string("the shells did not all wait at their prompt (") + host_stop_name(stop) + ")";
    return false;
  }
  for (const ContainerInfo& c : host.containers())
    if (!c.running) {
      error = c.name + " exited";
      return false;
    }
  const HostCounters& k = host.counters();
  out.containers = count;
  out.instructions = k.instructions;
  out.frames = k.frames_in_use;
  out.layer_bytes = shell.size();
  out.syscalls = k.syscalls;
  out.page_faults = k.page_faults;
  out.layers_unpacked = k.layers_unpacked;
  out.layers_shared = k.layers_shared;
  return true;
}

}  // namespace vs::container_sim
