// How many containers fit, and what one costs to start (issue 6, "100
// containers started together"; docs/container-sim.md "Density"): N
// containers, each a shell at its prompt, started together on one machine,
// beside one VM booting the teaching kernel to the same shell.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vs::container_sim {

struct DensityFigures {
  uint32_t containers = 0;
  uint64_t instructions = 0;    // user instructions until every shell waited at its prompt
  uint64_t frames = 0;          // 4 KiB frames of emulated RAM in use then (page tables + pages)
  uint64_t layer_bytes = 0;     // file bytes of the unpacked image (host memory of the kernel model), once for all
  uint64_t layers_unpacked = 0, layers_shared = 0;  // the one layer unpacked once, then shared by DiffID
  uint64_t syscalls = 0, page_faults = 0;
  double instructions_per_container() const { return containers ? double(instructions) / containers : 0; }
  double bytes_per_container() const { return containers ? double(frames) * 4096 / containers : 0; }
};

// Starts `count` containers (namespaces, cgroup, overlay root from a
// one-layer image holding `shell` at /bin/sh) running /bin/sh with no input
// yet, on a machine of `ram_bytes`, and runs until every one waits for
// input. False with `error` if one cannot start or one exits.
bool measure_container_density(uint32_t count, const std::vector<uint8_t>& shell, uint32_t ram_bytes,
                               DensityFigures& out, std::string& error);

}  // namespace vs::container_sim
