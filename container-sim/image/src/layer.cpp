// Change sets <-> layer tars, the OCI digests, and flattening a stack
// (image-spec layer.md "Whiteouts", "Applying Changesets"; config.md).
#include "virtscope/container_image/layer.h"

#include <set>

#include "virtscope/container_image/sha256.h"

namespace vs::container_image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueName = ".wh..wh..opq";

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}
std::string base_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
std::string join(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}
bool under(const std::string& path, const std::string& dir) {
  return dir.empty() || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

}  // namespace

bool normalize_path(std::string_view path, std::string& out, std::string& error) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) {
        error = "path '" + std::string(path) + "' climbs above the root with '..'";
        return false;
      }
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    start = end + 1;
  }
  out.clear();
  for (const std::string& p : parts) out = join(out, p);
  return true;
}

bool layer_to_tar(const ChangeSet& changes, std::string& tar, std::string& error) {
  std::vector<TarEntry> entries;
  std::set<std::string> names;
  for (const LayerEntry& e : changes) {
    std::string path;
    if (!normalize_path(e.path, path, error)) return false;
    if (path != e.path) {
      error = "layer entry path '" + e.path + "' is not canonical (expected '" + path + "')";
      return false;
    }
    if (path.empty() && e.kind != EntryKind::Opaque) {
      error = "layer entry with an empty path (only an opaque whiteout may name the root)";
      return false;
    }
    if (e.kind != EntryKind::File && !e.data.empty()) {
      error = "layer entry '" + path + "' has data but is not a file";
      return false;
    }
    if (e.kind != EntryKind::Opaque && base_of(path).compare(0, kWhiteoutPrefix.size(), kWhiteoutPrefix) == 0) {
      error = "layer entry '" + path + "': names starting \".wh.\" are reserved for whiteouts (layer.md)";
      return false;
    }
    TarEntry t;
    t.mode = e.mode & 07777;
    switch (e.kind) {
      case EntryKind::Directory: t.type = TarEntry::Type::Directory; t.name = path; break;
      case EntryKind::File: t.name = path; t.data = e.data; break;
      case EntryKind::Whiteout: t.name = join(parent_of(path), std::string(kWhiteoutPrefix) + base_of(path)); break;
      case EntryKind::Opaque: t.name = join(path, kOpaqueName); break;
    }
    if (!names.insert(t.name).second) {
      error = "layer has two entries for '" + t.name + "'";
      return false;
    }
    entries.push_back(std::move(t));
  }
  return tar_write(std::move(entries), tar, error);
}

bool layer_from_tar(std::string_view tar, ChangeSet& changes, std::string& error) {
  std::vector<TarEntry> entries;
  if (!tar_read(tar, entries, error)) return false;
  changes.clear();
  std::set<std::string> names;
  for (TarEntry& t : entries) {
    if (!names.insert(t.name).second) {
      error = "layer tar has two entries for '" + t.name + "'";
      return false;
    }
    LayerEntry e;
    e.mode = t.mode;
    const std::string base = base_of(t.name);
    const bool whiteout_name = base.compare(0, kWhiteoutPrefix.size(), kWhiteoutPrefix) == 0;
    if (whiteout_name && (t.type != TarEntry::Type::Regular || !t.data.empty())) {
      error = "layer tar entry '" + t.name + "': a whiteout must be an empty regular file";
      return false;
    }
    if (base == kOpaqueName) {
      e.kind = EntryKind::Opaque;
      e.path = parent_of(t.name);
    } else if (whiteout_name) {
      e.kind = EntryKind::Whiteout;
      e.path = join(parent_of(t.name), std::string_view(base).substr(kWhiteoutPrefix.size()));
      if (base.size() == kWhiteoutPrefix.size()) {
        error = "layer tar entry '" + t.name + "': a whiteout without a name";
        return false;
      }
    } else {
      e.kind = t.type == TarEntry::Type::Directory ? EntryKind::Directory : EntryKind::File;
      e.path = std::move(t.name);
      e.data = std::move(t.data);
    }
    changes.push_back(std::move(e));
  }
  return true;
}

std::string diff_id(std::string_view uncompressed_tar) { return digest_of(uncompressed_tar); }

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  for (const std::string& d : diff_ids)
    out.push_back(out.empty() ? d : digest_of(out.back() + " " + d));
  return out;
}

std::string image_id(std::string_view config_json) { return digest_of(config_json); }

std::map<std::string, LayerEntry> flatten(const std::vector<ChangeSet>& layers) {
  std::map<std::string, LayerEntry> fs;
  auto remove_tree = [&fs](const std::string& path, bool keep_self) {
    for (auto it = fs.begin(); it != fs.end();) {
      if ((!keep_self && it->first == path) || under(it->first, path)) it = fs.erase(it);
      else ++it;
    }
  };
  for (const ChangeSet& layer : layers) {
    // Opaque whiteouts first, then removals: they act on the lower layers
    // only, never on this layer's own entries (layer.md "Whiteouts").
    for (const LayerEntry& e : layer)
      if (e.kind == EntryKind::Opaque) remove_tree(e.path, true);
    for (const LayerEntry& e : layer)
      if (e.kind == EntryKind::Whiteout) remove_tree(e.path, false);
    for (const LayerEntry& e : layer) {
      if (e.kind != EntryKind::Directory && e.kind != EntryKind::File) continue;
      auto it = fs.find(e.path);
      if (it != fs.end() && it->second.kind == EntryKind::Directory && e.kind == EntryKind::Directory) {
        it->second.mode = e.mode;  // directories merge: only the attributes change
        continue;
      }
      if (it != fs.end()) remove_tree(e.path, false);  // a file replaces a directory and its children
      fs[e.path] = e;
    }
  }
  return fs;
}

}  // namespace vs::container_image
