// The JSON documents of an OCI image (image-spec config.md, manifest.md,
// image-index.md, image-layout.md), written deterministically: fixed member
// order, compact, and no timestamps at all ("created" is OPTIONAL and left
// out), so that building the same recipe twice gives the same image ID.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vs::container_image {

inline constexpr std::string_view kMediaTypeConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kMediaTypeManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kMediaTypeIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kMediaTypeLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

struct HistoryEntry {
  std::string created_by;    // the recipe instruction, e.g. "COPY hello /bin/hello"
  bool empty_layer = false;  // true when the step made no layer (ENV, CMD, ...)
};

// config.md: the parts this simulator sets.
struct ImageConfig {
  std::string architecture = "386";  // runtime-spec platform.arch (Go GOARCH) for IA-32
  std::string os = "linux";
  std::vector<std::string> env;         // config.Env, "KEY=value"
  std::vector<std::string> entrypoint;  // config.Entrypoint
  std::vector<std::string> cmd;         // config.Cmd (arguments to Entrypoint, or argv when there is none)
  std::string working_dir;              // config.WorkingDir
  std::vector<std::string> diff_ids;    // rootfs.diff_ids, bottom layer first
  std::vector<HistoryEntry> history;
};

// descriptor.md: what a manifest or index says about one blob.
struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;    // bytes of the blob
};

struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom first
};

// One entry of index.json: a tag naming a manifest.
struct IndexEntry {
  std::string tag;  // annotation org.opencontainers.image.ref.name
  Descriptor manifest;
};

std::string config_to_json(const ImageConfig& config);
bool config_from_json(std::string_view json, ImageConfig& config, std::string& error);
std::string manifest_to_json(const Manifest& manifest);
bool manifest_from_json(std::string_view json, Manifest& manifest, std::string& error);
std::string index_to_json(const std::vector<IndexEntry>& entries);  // entries sorted by tag
bool index_from_json(std::string_view json, std::vector<IndexEntry>& entries, std::string& error);
// image-spec conversion.md "Verbatim Fields": what a container started from
// the image runs. args = Entrypoint + Cmd; `args_override` (what the user
// typed after the image name), when not empty, replaces Cmd. cwd is
// WorkingDir, "/" when unset. Fails when no command results.
struct RuntimeProcess {
  std::vector<std::string> args;  // runtime-spec process.args
  std::vector<std::string> env;   // process.env
  std::string cwd;                // process.cwd (absolute)
};
bool runtime_process(const ImageConfig& config, const std::vector<std::string>& args_override,
                     RuntimeProcess& out, std::string& error);

// image-layout.md: the content of the "oci-layout" file.
std::string oci_layout_json();

}  // namespace vs::container_image
