// Where `virtscope container` keeps what outlives one command: the image
// store and a record of every container that ran (docs/container-cli.md).
//
//   ROOT/images/            the OCI image layout (container_image::ImageStore)
//   ROOT/containers/N.json  one record per container: what it ran, how it ended, its last figures
//
// ROOT is --root DIR, else $VIRTSCOPE_HOME, else .virtscope in the current
// directory. Each command is one emulated machine: a container runs while
// the command that started it runs, so records describe exited containers;
// `container session` keeps one machine up across many commands.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace vs::app {

struct ContainerRecord {
  std::string name, image, image_id, hostname;
  std::vector<std::string> command;                 // argv of its init
  std::vector<std::pair<std::string, std::string>> limits;  // cgroup file -> value, as given
  std::string status;                               // "exited", "killed", "kernel panic"
  int exit_code = 0;                                // exit(code), or 128 + signal
  std::map<std::string, std::string> figures;       // name -> value: instructions, cpu.stat usage_usec, ...
};

class ContainerState {
 public:
  // The root from the option, else $VIRTSCOPE_HOME, else ".virtscope".
  explicit ContainerState(const std::string& root_option);
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path images() const { return root_ / "images"; }

  bool save(const ContainerRecord& r, std::string& error) const;  // atomically (temp file, rename)
  bool load(const std::string& name, ContainerRecord& r, std::string& error) const;
  bool exists(const std::string& name) const;
  bool remove(const std::string& name, std::string& error) const;
  std::vector<std::string> names() const;  // sorted
  // A name no record has: "<image>-1", "<image>-2", ... (docker picks random ones; ours are deterministic).
  std::string fresh_name(const std::string& image) const;

 private:
  std::filesystem::path file(const std::string& name) const { return root_ / "containers" / (name + ".json"); }
  std::filesystem::path root_;
};

}  // namespace vs::app
