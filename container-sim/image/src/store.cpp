// The local image store (store.h): OCI image layout on disk, build, tags,
// inspection, removal with blob garbage collection, and verified loading.
#include "virtscope/container_image/store.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "builder.h"
#include "store_files.h"
#include "virtscope/container_image/sha256.h"
#include "virtscope/trace/event.h"

namespace vs::container_image {
namespace fs = std::filesystem;

ImageStore::ImageStore(fs::path root, vs::trace::EventLog* log) : root_(std::move(root)), log_(log) {}

bool ImageStore::valid_tag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128 || !std::isalnum(static_cast<unsigned char>(tag[0]))) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
  });
}

void ImageStore::emit(uint64_t op, const std::string& digest, uint64_t size, uint64_t index) {
  if (log_ && log_->wants(vs::trace::EventKind::ImageOp))
    log_->emit(vs::trace::EventKind::ImageOp, vs::trace::VirtualTime{}, op, digest_prefix(digest), size, index);
}

fs::path ImageStore::blob_path(const std::string& digest) const {
  return root_ / "blobs" / "sha256" / digest.substr(7);
}

bool ImageStore::ensure_layout(std::string& error) {
  std::error_code ec;
  fs::create_directories(root_ / "blobs" / "sha256", ec);
  if (ec) {
    error = "cannot create the image store at '" + root_.string() + "': " + ec.message();
    return false;
  }
  if (fs::exists(root_ / "oci-layout") && fs::exists(root_ / "index.json")) return true;
  // A new store: image-layout.md requires both files. Under the lock, so
  // that an empty index never replaces one another writer just made.
  StoreLock lock(root_, error);
  if (!lock.ok()) return false;
  if (!fs::exists(root_ / "oci-layout") && !atomic_write(root_ / "oci-layout", oci_layout_json(), error))
    return false;
  if (!fs::exists(root_ / "index.json")) return write_index({}, error);
  return true;
}

bool ImageStore::read_blob(const std::string& digest, std::string& bytes, std::string& error) const {
  if (!is_digest(digest)) {
    error = "'" + digest + "' is not a sha256 digest";
    return false;
  }
  if (!read_whole_file(blob_path(digest), bytes, error)) {
    error = "blob " + digest + " is missing from the store (" + error + ")";
    return false;
  }
  const std::string actual = digest_of(bytes);
  if (actual != digest) {
    error = "blob " + digest + " is corrupted: its content hashes to " + actual + " (file " +
            blob_path(digest).string() + ")";
    return false;
  }
  return true;
}

bool ImageStore::write_blob(const std::string& bytes, std::string& digest, bool& existed, std::string& error) {
  digest = digest_of(bytes);
  std::string stored, why;
  // Reuse only a blob that still matches its name; a damaged one is rewritten.
  existed = fs::exists(blob_path(digest)) && read_blob(digest, stored, why);
  return existed || atomic_write(blob_path(digest), bytes, error);
}

bool ImageStore::read_index(std::vector<IndexEntry>& entries, std::string& error) const {
  entries.clear();
  if (!fs::exists(root_ / "index.json")) return true;  // an empty store
  std::string text;
  return read_whole_file(root_ / "index.json", text, error) && index_from_json(text, entries, error);
}

bool ImageStore::write_index(const std::vector<IndexEntry>& entries, std::string& error) {
  return atomic_write(root_ / "index.json", index_to_json(entries), error);
}

bool ImageStore::store_layer(const ChangeSet& changes, size_t index, std::string& diff, std::string& error) {
  if (!ensure_layout(error)) return false;
  StoreLock lock(root_, error);
  return lock.ok() && store_layer_locked(changes, index, diff, error);
}

bool ImageStore::store_layer_locked(const ChangeSet& changes, size_t index, std::string& diff,
                                    std::string& error) {
  std::string tar;
  if (!layer_to_tar(changes, tar, error)) return false;
  emit(0, diff_id(tar), tar.size(), index);
  bool existed = false;
  if (!write_blob(tar, diff, existed, error)) return false;
  emit(existed ? 2 : 1, diff, tar.size(), index);
  return true;
}

bool ImageStore::commit(const ImageConfig& config, const std::string& tag, ImageInfo& out, std::string& error) {
  if (!valid_tag(tag)) {
    error = "invalid tag '" + tag + "' (letters, digits and . _ - : /, starting with a letter or digit)";
    return false;
  }
  if (!ensure_layout(error)) return false;
  StoreLock lock(root_, error);
  return lock.ok() && commit_locked(config, tag, out, error);
}

bool ImageStore::commit_locked(const ImageConfig& config, const std::string& tag, ImageInfo& out,
                               std::string& error) {
  Manifest manifest;
  for (const std::string& d : config.diff_ids) {
    std::error_code ec;
    const auto size = is_digest(d) ? fs::file_size(blob_path(d), ec) : 0;
    if (!is_digest(d) || ec) {
      error = "cannot commit: layer " + d + " is not in the store";
      return false;
    }
    manifest.layers.push_back({std::string(kMediaTypeLayer), d, static_cast<int64_t>(size)});
  }
  const std::string config_json = config_to_json(config);
  bool existed = false;
  std::string config_digest, manifest_digest;
  if (!write_blob(config_json, config_digest, existed, error)) return false;
  manifest.config = {std::string(kMediaTypeConfig), config_digest, static_cast<int64_t>(config_json.size())};
  const std::string manifest_json = manifest_to_json(manifest);
  if (!write_blob(manifest_json, manifest_digest, existed, error)) return false;
  std::vector<IndexEntry> entries;
  if (!read_index(entries, error)) return false;
  std::erase_if(entries, [&](const IndexEntry& e) { return e.tag == tag; });
  entries.push_back({tag, {std::string(kMediaTypeManifest), manifest_digest,
                           static_cast<int64_t>(manifest_json.size())}});
  if (!write_index(entries, error)) return false;
  emit(3, config_digest, config_json.size(), config.diff_ids.size());
  return inspect(tag, out, error);
}

bool ImageStore::build(const std::string& recipe_path, const std::string& tag, ImageInfo& out,
                       std::string& error, const RunStep& run) {
  Recipe recipe;
  return load_recipe(recipe_path, recipe, error) && build(recipe, tag, out, error, run);
}

bool ImageStore::build(const Recipe& recipe, const std::string& tag, ImageInfo& out, std::string& error,
                       const RunStep& run) {
  if (!valid_tag(tag)) {
    error = "invalid tag '" + tag + "' (letters, digits and . _ - : /, starting with a letter or digit)";
    return false;
  }
  // One lock for the whole build, so that a concurrent remove() cannot
  // collect the layers stored before the image that references them is committed.
  if (!ensure_layout(error)) return false;
  StoreLock lock(root_, error);
  if (!lock.ok()) return false;
  ImageConfig config;
  std::vector<ChangeSet> layers;
  const Instruction& from = recipe.steps.at(0);
  if (from.args.at(0) != "scratch") {
    ImageInfo base;
    std::string why;
    if (!inspect(from.args[0], base, why) || !load_layers_quiet(base, layers, why)) {
      error = recipe.file + ":" + std::to_string(from.line) + ": FROM " + from.args[0] + ": " + why;
      return false;
    }
    config = base.config;
  }
  const StoreLayerFn store = [this](const ChangeSet& changes, size_t index, std::string& diff, std::string& why) {
    return store_layer_locked(changes, index, diff, why);
  };
  return run_recipe_steps(recipe, config, layers, run, store, error) && commit_locked(config, tag, out, error);
}

bool ImageStore::describe(const IndexEntry& entry, ImageInfo& out, std::string& error) const {
  std::string text;
  Manifest manifest;
  if (!read_blob(entry.manifest.digest, text, error) || !manifest_from_json(text, manifest, error) ||
      !read_blob(manifest.config.digest, text, error) || !config_from_json(text, out.config, error)) {
    error = "image '" + entry.tag + "': " + error;
    return false;
  }
  if (manifest.layers.size() != out.config.diff_ids.size()) {
    error = "image '" + entry.tag + "': the manifest lists " + std::to_string(manifest.layers.size()) +
            " layers but the config " + std::to_string(out.config.diff_ids.size());
    return false;
  }
  out.id = manifest.config.digest;
  out.manifest_digest = entry.manifest.digest;
  out.layers = manifest.layers;
  out.chain_ids = chain_ids(out.config.diff_ids);
  out.size = 0;
  for (const Descriptor& d : manifest.layers) out.size += d.size;
  return true;
}

bool ImageStore::list(std::vector<ImageInfo>& out, std::string& error) {
  out.clear();
  std::vector<IndexEntry> entries;
  if (!read_index(entries, error)) return false;
  std::sort(entries.begin(), entries.end(), [](const IndexEntry& a, const IndexEntry& b) { return a.tag < b.tag; });
  for (const IndexEntry& e : entries) {
    ImageInfo info;
    if (!describe(e, info, error)) return false;
    auto same = std::find_if(out.begin(), out.end(), [&](const ImageInfo& i) { return i.id == info.id; });
    if (same != out.end()) {
      same->tags.push_back(e.tag);
      continue;
    }
    info.tags = {e.tag};
    out.push_back(std::move(info));
  }
  return true;
}

// Reads only what it needs, so that one damaged image does not hide the
// others: a tag reads its own manifest and config; an ID prefix reads
// each image, skipping (and then naming) the unreadable ones.
bool ImageStore::inspect(const std::string& ref, ImageInfo& out, std::string& error) {
  std::vector<IndexEntry> entries;
  if (!read_index(entries, error)) return false;
  std::sort(entries.begin(), entries.end(), [](const IndexEntry& a, const IndexEntry& b) { return a.tag < b.tag; });
  auto with_tags = [&](ImageInfo& info) {
    info.tags.clear();
    for (const IndexEntry& e : entries)
      if (e.manifest.digest == info.manifest_digest) info.tags.push_back(e.tag);
  };
  for (const IndexEntry& e : entries) {
    if (e.tag != ref) continue;
    if (!describe(e, out, error)) return false;
    with_tags(out);
    return true;
  }
  const std::string hex = ref.compare(0, 7, "sha256:") == 0 ? ref.substr(7) : ref;
  std::optional<ImageInfo> found;
  std::string unreadable;
  std::set<std::string> seen;
  for (const IndexEntry& e : entries) {
    if (hex.empty() || !seen.insert(e.manifest.digest).second) continue;
    ImageInfo info;
    std::string why;
    if (!describe(e, info, why)) {
      unreadable += (unreadable.empty() ? "" : "; ") + why;
      continue;
    }
    if (info.id.compare(7, hex.size(), hex) != 0) continue;
    if (found && found->id != info.id) {
      error = "image ID prefix '" + ref + "' is ambiguous (" + found->id + ", " + info.id + ")";
      return false;
    }
    found = std::move(info);
  }
  if (!found) {
    error = "no image '" + ref + "' in the store " + root_.string();
    if (!unreadable.empty()) error += " (unreadable images were skipped: " + unreadable + ")";
    return false;
  }
  out = std::move(*found);
  with_tags(out);
  return true;
}

bool ImageStore::load_layers_quiet(const ImageInfo& image, std::vector<ChangeSet>& layers,
                                   std::string& error) const {
  layers.clear();
  for (size_t i = 0; i < image.layers.size(); ++i) {
    std::string tar;
    ChangeSet changes;
    if (image.layers[i].media_type != kMediaTypeLayer) {
      error = "layer " + std::to_string(i) + " (" + image.layers[i].digest + ") has media type " +
              image.layers[i].media_type + "; only uncompressed tar layers (" + std::string(kMediaTypeLayer) +
              ") are supported";
      return false;
    }
    if (!read_blob(image.layers[i].digest, tar, error) || !layer_from_tar(tar, changes, error)) {
      error = "layer " + std::to_string(i) + " (" + image.layers[i].digest + "): " + error;
      return false;
    }
    layers.push_back(std::move(changes));
  }
  return true;
}

bool ImageStore::load_layers(const std::string& ref, std::vector<ChangeSet>& layers, std::string& error) {
  ImageInfo image;
  if (!inspect(ref, image, error) || !load_layers_quiet(image, layers, error)) return false;
  for (size_t i = 0; i < image.layers.size(); ++i)
    emit(4, image.layers[i].digest, static_cast<uint64_t>(image.layers[i].size), i);
  return true;
}

bool ImageStore::remove(const std::string& tag, std::string& error, size_t* blobs_deleted) {
  if (blobs_deleted) *blobs_deleted = 0;
  if (!ensure_layout(error)) return false;
  StoreLock lock(root_, error);
  if (!lock.ok()) return false;
  std::vector<IndexEntry> entries;
  if (!read_index(entries, error)) return false;
  const size_t before = entries.size();
  std::erase_if(entries, [&](const IndexEntry& e) { return e.tag == tag; });
  if (entries.size() == before) {
    error = "no tag '" + tag + "' in the store " + root_.string();
    return false;
  }
  // Everything the remaining images reference stays. If one of them cannot
  // be read, nothing is deleted: better a leftover blob than a lost one.
  std::set<std::string> keep;
  for (const IndexEntry& e : entries) {
    ImageInfo info;
    if (!describe(e, info, error)) {
      const std::string why = error;
      if (!write_index(entries, error)) return false;
      error = "tag '" + tag + "' removed, but no blob was deleted: " + why;
      return false;
    }
    keep.insert({e.manifest.digest, info.id});
    for (const Descriptor& d : info.layers) keep.insert(d.digest);
  }
  if (!write_index(entries, error)) return false;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(root_ / "blobs" / "sha256", ec)) {
    const std::string name = file.path().filename().string();
    // A leftover temporary file of a crashed write goes too (the lock
    // guarantees no write is under way).
    const bool temporary = name.rfind(kTempPrefix, 0) == 0;
    if (!temporary && keep.count("sha256:" + name)) continue;
    if (fs::remove(file.path(), ec) && !temporary && blobs_deleted) ++*blobs_deleted;
  }
  return true;
}

}  // namespace vs::container_image
