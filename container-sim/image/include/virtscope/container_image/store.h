// The local image store: a directory in the OCI image-layout shape
// (image-spec image-layout.md), owned by the caller (the CLI uses e.g.
// .virtscope/images or $VIRTSCOPE_HOME/images):
//
//   <root>/oci-layout            {"imageLayoutVersion":"1.0.0"}
//   <root>/index.json            tags -> manifest descriptors
//   <root>/blobs/sha256/<hex>    layer tars, configs and manifests, named by their sha256
//
// Layers are stored uncompressed (application/vnd.oci.image.layer.v1.tar),
// so a layer's blob digest is its DiffID. Every file is written to a
// temporary name and renamed into place, blobs before the manifest and the
// manifest before index.json: a crash leaves at worst unreferenced blobs,
// never an index that names something missing. Every blob read is checked
// against its name; a mismatch is reported as corruption.
//
// Events (trace/events.def ImageOp): op 0 layer made, 1 layer stored, 2
// layer reused (already stored), 4 layer unpacked — digest = DiffID, size
// = the tar's bytes, index = position from the bottom; op 3 image
// committed — digest = image ID, size = the config's bytes, index = its
// number of layers. The events carry virtual time 0: building happens on
// the host, outside any machine's clock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "virtscope/container_image/image_config.h"
#include "virtscope/container_image/layer.h"
#include "virtscope/container_image/recipe.h"

namespace vs::trace {
class EventLog;
}

namespace vs::container_image {

// A RUN step's command and the state it runs in.
struct RunCommand {
  std::vector<std::string> argv;  // exec form, or {"/bin/sh", "-c", text}
  std::vector<std::string> env;   // the image's Env at this step
  std::string working_dir;        // the image's WorkingDir at this step ("" = "/")
  std::string where;              // "file:line" of the RUN, for messages
};
// Executes a RUN: `layers` is the root so far (bottom first); fill
// `changes` with what the command changed. Return false with `error` to
// fail the build. container-sim supplies this (a guest program cannot run
// without the emulator); with none, RUN is an error.
using RunStep = std::function<bool(const std::vector<ChangeSet>& layers, const RunCommand& command,
                                   ChangeSet& changes, std::string& error)>;

struct ImageInfo {
  std::vector<std::string> tags;  // every tag naming this image, sorted
  std::string id;                 // ImageID: sha256 of the config JSON
  std::string manifest_digest;
  ImageConfig config;
  std::vector<Descriptor> layers;  // bottom first; digest = DiffID
  std::vector<std::string> chain_ids;  // ChainID of each layer's stack
  int64_t size = 0;                    // sum of the layer tars' bytes
};

class ImageStore {
 public:
  explicit ImageStore(std::filesystem::path root, vs::trace::EventLog* log = nullptr);
  const std::filesystem::path& root() const { return root_; }

  // Builds the recipe at `recipe_path` (COPY sources relative to its
  // directory) and tags the result; an existing tag moves to the new image.
  bool build(const std::string& recipe_path, const std::string& tag, ImageInfo& out, std::string& error,
             const RunStep& run = {});
  bool build(const Recipe& recipe, const std::string& tag, ImageInfo& out, std::string& error,
             const RunStep& run = {});

  // The pieces build uses, for callers that make images another way
  // (e.g. committing a container's upper layer). store_layer writes the
  // layer's tar (or finds it stored) and returns its DiffID; index is its
  // position from the bottom, for the event.
  bool store_layer(const ChangeSet& changes, size_t index, std::string& diff_id, std::string& error);
  // Writes config and manifest (every diff_id must be stored) and tags it.
  bool commit(const ImageConfig& config, const std::string& tag, ImageInfo& out, std::string& error);

  // One entry per image, ordered by first tag. Fails naming the image
  // when one cannot be read (damaged or missing blob).
  bool list(std::vector<ImageInfo>& out, std::string& error);
  // `ref` is a tag, or a unique prefix of an image ID (with or without "sha256:").
  bool inspect(const std::string& ref, ImageInfo& out, std::string& error);
  // Drops the tag; blobs no remaining image references are deleted.
  bool remove(const std::string& tag, std::string& error, size_t* blobs_deleted = nullptr);
  // The image's layers, bottom first, each verified against its digest
  // (ImageOp op 4 per layer): what an overlay mount stacks as lowers.
  bool load_layers(const std::string& ref, std::vector<ChangeSet>& layers, std::string& error);

  // A blob's bytes, verified against `digest`.
  bool read_blob(const std::string& digest, std::string& bytes, std::string& error) const;

  static bool valid_tag(const std::string& tag);

 private:
  bool ensure_layout(std::string& error);
  // The same as the public ones, for a caller already holding the store lock.
  bool store_layer_locked(const ChangeSet& changes, size_t index, std::string& diff_id, std::string& error);
  bool commit_locked(const ImageConfig& config, const std::string& tag, ImageInfo& out, std::string& error);
  bool write_blob(const std::string& bytes, std::string& digest, bool& existed, std::string& error);
  bool read_index(std::vector<IndexEntry>& entries, std::string& error) const;
  bool write_index(const std::vector<IndexEntry>& entries, std::string& error);
  bool describe(const IndexEntry& entry, ImageInfo& out, std::string& error) const;
  bool load_layers_quiet(const ImageInfo& image, std::vector<ChangeSet>& layers, std::string& error) const;
  void emit(uint64_t op, const std::string& digest, uint64_t size, uint64_t index);
  std::filesystem::path blob_path(const std::string& digest) const;

  std::filesystem::path root_;
  vs::trace::EventLog* log_;  // optional: ImageOp events go here
};

}  // namespace vs::container_image
