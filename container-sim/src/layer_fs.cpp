#include "layer_fs.h"

#include <functional>

namespace vs::container_sim {

using container_image::ChangeSet;
using container_image::EntryKind;
using container_image::LayerEntry;

namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";    // layer.md "Whiteouts"
constexpr const char* kOpaqueName = ".wh..wh..opq";

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

class Applier {
 public:
  Applier(Filesystem& fs, Inode& root, WhiteoutStyle style) : fs_(fs), root_(root), style_(style) {}

  // The directory at `parts[0..n)` under the root, made as needed. A
  // whiteout or file in the way is replaced (tar extraction does the same);
  // a directory made over this layer's own whiteout is opaque, so the
  // whiteout keeps hiding the layers below.
  Inode* dir_at(const std::vector<std::string>& parts, size_t n) {
    Inode* d = &root_;
    for (size_t i = 0; i < n; ++i) {
      std::shared_ptr<Inode>& slot = d->entries[parts[i]];
      if (!slot || slot->type != Inode::Type::Directory) {
        const bool was_whiteout = slot && slot->is_whiteout();
        slot = fs_.make(Inode::Type::Directory);
        slot->parent = d;
        slot->opaque = was_whiteout && style_ == WhiteoutStyle::Overlay;
      }
      d = slot.get();
    }
    return d;
  }

  void opaque(const std::vector<std::string>& parts) {
    Inode* d = dir_at(parts, parts.size());
    if (style_ == WhiteoutStyle::Overlay) d->opaque = true;
    else d->entries.clear();
  }

  void whiteout(const std::vector<std::string>& parts) {
    Inode* d = dir_at(parts, parts.size() - 1);
    d->entries.erase(parts.back());
    if (style_ == WhiteoutStyle::Overlay) {
      auto w = fs_.make(Inode::Type::CharDevice);  // 0/0, mode 0: what overlayfs makes
      w->mode = 0;
      w->data = std::make_shared<const std::vector<uint8_t>>();
      d->entries[parts.back()] = w;
    }
  }

  void add(const std::vector<std::string>& parts, const LayerEntry& e) {
    Inode* d = dir_at(parts, parts.size() - 1);
    std::shared_ptr<Inode>& slot = d->entries[parts.back()];
    if (e.kind == EntryKind::Directory) {
      if (slot && slot->type == Inode::Type::Directory) {
        slot->mode = e.mode & 07777;  // directories merge: only the attributes change
        return;
      }
      dir_at(parts, parts.size())->mode = e.mode & 07777;
      return;
    }
    slot = fs_.make(Inode::Type::Regular);
    slot->mode = e.mode & 07777;
    slot->data = std::make_shared<const std::vector<uint8_t>>(e.data);
  }

 private:
  Filesystem& fs_;
  Inode& root_;
  WhiteoutStyle style_;
};

}  // namespace

bool apply_layer(Filesystem& fs, Inode& dir, const ChangeSet& layer, WhiteoutStyle style, std::string& error) {
  // Classify first: the tar spelling ".wh.NAME" is a whiteout whatever the entry says.
  struct Step {
    EntryKind kind;
    std::vector<std::string> parts;
    const LayerEntry* entry;
  };
  std::vector<Step> steps;
  for (const LayerEntry& e : layer) {
    std::string path;
    if (!container_image::normalize_path(e.path, path, error)) return false;
    std::vector<std::string> parts = split(path);
    EntryKind kind = e.kind;
    if (!parts.empty() && parts.back() == kOpaqueName) {
      parts.pop_back(), kind = EntryKind::Opaque;
    } else if (!parts.empty() && parts.back().rfind(kWhiteoutPrefix, 0) == 0) {
      parts.back() = parts.back().substr(4), kind = EntryKind::Whiteout;
    }
    if (parts.empty() && kind != EntryKind::Opaque) {
      if (kind == EntryKind::Directory) continue;  // the root's own entry: nothing to make
      error = "layer entry '" + e.path + "' names the root";
      return false;
    }
    steps.push_back(Step{kind, std::move(parts), &e});
  }
  Applier a(fs, dir, style);
  for (const Step& s : steps)
    if (s.kind == EntryKind::Opaque) a.opaque(s.parts);
  for (const Step& s : steps)
    if (s.kind == EntryKind::Whiteout) a.whiteout(s.parts);
  for (const Step& s : steps)
    if (s.kind == EntryKind::Directory || s.kind == EntryKind::File) a.add(s.parts, *s.entry);
  return true;
}

bool unpack_layer(Filesystem& fs, const ChangeSet& layer, std::string& error) {
  return apply_layer(fs, *fs.root(), layer, WhiteoutStyle::Overlay, error);
}

bool export_upper(const LayerDir& upper, ChangeSet& out, std::string& error) {
  out.clear();
  if (!upper.fs || !upper.dir) {
    error = "no upper layer (a read-only overlay changes nothing)";
    return false;
  }
  if (upper.dir->opaque) out.push_back(LayerEntry{"", EntryKind::Opaque, 0755, {}});
  std::function<bool(Inode&, const std::string&)> walk = [&](Inode& dir, const std::string& prefix) {
    for (const auto& [name, child] : upper.fs->list(dir, nullptr)) {
      const std::string path = prefix.empty() ? name : prefix + "/" + name;
      if (child->is_whiteout()) {
        out.push_back(LayerEntry{path, EntryKind::Whiteout, 0644, {}});
      } else if (child->type == Inode::Type::Directory) {
        out.push_back(LayerEntry{path, EntryKind::Directory, child->mode & 07777, {}});
        if (child->opaque) out.push_back(LayerEntry{path, EntryKind::Opaque, 0755, {}});
        if (!walk(*child, path)) return false;
      } else if (child->type == Inode::Type::Regular) {
        out.push_back(LayerEntry{path, EntryKind::File, child->mode & 07777, child->data ? *child->data : container_image::Bytes{}});
      } else {
        error = "'" + path + "' is a device node: a layer here carries files, directories and whiteouts only";
        return false;
      }
    }
    return true;
  };
  return walk(*upper.dir, "");
}

}  // namespace vs::container_sim
