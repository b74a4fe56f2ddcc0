// Recipe steps -> layers and config (Dockerfile reference semantics for the
// supported subset; deviations in docs/container-sim/images.md):
//  - COPY <file> <dest>: dest ending in '/' (or "." / "..") or naming an existing directory
//    gets the file inside it, otherwise dest is the file's new path.
//    COPY <dir> <dest>: the directory's *contents* go into dest. The
//    parents of the destination are part of the layer too (mode kept when
//    they exist below, else 0755), as Docker's layer diffs contain them.
//    Host modes are reduced to 0755 (any execute bit) or 0644, as git
//    stores them, so a checkout's umask cannot change a digest.
//  - ENTRYPOINT clears a Cmd inherited from the base image.
//  - A relative WORKDIR or COPY dest is taken from the current WORKDIR.
#include "builder.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vs::container_image {
namespace fs = std::filesystem;
namespace {

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (name.empty()) return dir;
  return dir + "/" + name;
}

uint32_t host_file_mode(const fs::path& p) {
  const fs::perms perms = fs::status(p).permissions();
  return (perms & (fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec)) != fs::perms::none
             ? 0755
             : 0644;
}

bool read_host_file(const fs::path& p, Bytes& data, std::string& why) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    why = "cannot read '" + p.string() + "'";
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  const std::string text = s.str();
  data.assign(text.begin(), text.end());
  return true;
}

// The directories leading to `path` (not the root, not `path`).
bool add_parents(const std::string& path, const std::map<std::string, LayerEntry>& below, ChangeSet& out,
                 std::string& why) {
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    auto it = below.find(dir);
    if (it != below.end() && it->second.kind != EntryKind::Directory) {
      why = "'/" + dir + "' is a file in the image, not a directory";
      return false;
    }
    out.push_back({dir, EntryKind::Directory, it != below.end() ? it->second.mode : 0755u, {}});
  }
  return true;
}

bool copy_step(const Recipe& recipe, const Instruction& ins, const std::string& workdir,
               const std::vector<ChangeSet>& layers, ChangeSet& out, std::string& why) {
  const std::string& src = ins.args[0];
  const std::string& dest_text = ins.args[1];
  std::error_code ec;
  const fs::path context = fs::canonical(recipe.context_dir, ec);
  if (ec) {
    why = "build context '" + recipe.context_dir + "' is not readable";
    return false;
  }
  const fs::path host = src.empty() ? context : context / src;
  const fs::file_status st = fs::symlink_status(host, ec);
  if (ec || !fs::exists(st)) {
    why = "COPY source '" + src + "' does not exist in the build context";
    return false;
  }
  if (fs::is_symlink(st)) {
    why = "COPY source '" + src + "' is a symbolic link (not supported)";
    return false;
  }
  const fs::path resolved = fs::weakly_canonical(host, ec);
  const std::string inside = resolved.generic_string(), top = context.generic_string();
  if (ec || (inside != top && inside.compare(0, top.size() + 1, top + "/") != 0)) {
    why = "COPY source '" + src + "' leads outside the build context (through a symbolic link)";
    return false;
  }
  std::string dest;
  const std::string absolute = dest_text.front() == '/' ? dest_text : workdir + "/" + dest_text;
  if (!normalize_path(absolute, dest, why)) return false;
  const auto below = flatten(layers);
  const auto existing = below.find(dest);
  const std::string last = dest_text.substr(dest_text.rfind('/') + 1);  // npos + 1 == 0
  const bool dest_is_dir = dest.empty() || last.empty() || last == "." || last == ".." ||
                           (existing != below.end() && existing->second.kind == EntryKind::Directory);
  if (fs::is_regular_file(st)) {
    const std::string target = dest_is_dir ? join(dest, host.filename().string()) : dest;
    LayerEntry file{target, EntryKind::File, host_file_mode(host), {}};
    if (!add_parents(target, below, out, why) || !read_host_file(host, file.data, why)) return false;
    out.push_back(std::move(file));
    return true;
  }
  if (!fs::is_directory(st)) {
    why = "COPY source '" + src + "' is neither a regular file nor a directory";
    return false;
  }
  if (!dest.empty()) {
    if (!add_parents(dest, below, out, why)) return false;
    if (existing != below.end() && existing->second.kind != EntryKind::Directory) {
      why = "COPY destination '/" + dest + "' is a file in the image";
      return false;
    }
    out.push_back({dest, EntryKind::Directory, existing != below.end() ? existing->second.mode : 0755u, {}});
  }
  for (auto it = fs::recursive_directory_iterator(host, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::path rel = fs::relative(it->path(), host);
    const std::string target = join(dest, rel.generic_string());
    const fs::file_status s = it->symlink_status();
    if (fs::is_directory(s)) {
      out.push_back({target, EntryKind::Directory, 0755, {}});
    } else if (fs::is_regular_file(s)) {
      LayerEntry file{target, EntryKind::File, host_file_mode(it->path()), {}};
      if (!read_host_file(it->path(), file.data, why)) return false;
      out.push_back(std::move(file));
    } else {
      why = "'" + it->path().string() + "' in the build context is not a regular file or directory";
      return false;
    }
  }
  if (ec) {
    why = "cannot list '" + host.string() + "': " + ec.message();
    return false;
  }
  return true;
}

void set_env(std::vector<std::string>& env, const std::string& pair) {
  const std::string key = pair.substr(0, pair.find('=') + 1);  // "K="
  for (std::string& e : env) {
    if (e.compare(0, key.size(), key) == 0) {
      e = pair;
      return;
    }
  }
  env.push_back(pair);
}

}  // namespace

bool run_recipe_steps(const Recipe& recipe, ImageConfig& config, std::vector<ChangeSet>& layers,
                      const RunStep& run, const StoreLayerFn& store, std::string& error) {
  bool cmd_from_base = !config.cmd.empty();
  for (const Instruction& ins : recipe.steps) {
    const std::string where = recipe.file + ":" + std::to_string(ins.line);
    auto fail = [&](const std::string& why) {
      error = where + ": " + why;
      return false;
    };
    ChangeSet changes;
    bool makes_layer = false;
    switch (ins.op) {
      case RecipeOp::From:
        continue;  // the base is resolved by the store
      case RecipeOp::Env:
        for (const std::string& pair : ins.args) set_env(config.env, pair);
        break;
      case RecipeOp::Cmd:
        config.cmd = ins.args;
        cmd_from_base = false;
        break;
      case RecipeOp::Entrypoint:
        config.entrypoint = ins.args;
        if (cmd_from_base) config.cmd.clear();  // Dockerfile reference, ENTRYPOINT
        cmd_from_base = false;
        break;
      case RecipeOp::Workdir: {
        std::string path, why;
        const std::string& arg = ins.args[0];
        if (!normalize_path(arg.front() == '/' ? arg : config.working_dir + "/" + arg, path, why))
          return fail("WORKDIR: " + why);
        config.working_dir = "/" + path;
        break;
      }
      case RecipeOp::Copy: {
        std::string why;
        if (!copy_step(recipe, ins, config.working_dir, layers, changes, why)) return fail(why);
        makes_layer = true;
        break;
      }
      case RecipeOp::Run: {
        if (!run)
          return fail("RUN needs a program runner (container-sim executes the command); this build has none");
        RunCommand command{ins.args, config.env, config.working_dir, where};
        std::string why;
        if (!run(layers, command, changes, why)) return fail("RUN failed: " + why);
        makes_layer = true;
        break;
      }
    }
    if (makes_layer) {
      std::string diff, why;
      if (!store(changes, layers.size(), diff, why)) return fail(why);
      layers.push_back(std::move(changes));
      config.diff_ids.push_back(diff);
    }
    config.history.push_back({ins.text, !makes_layer});
  }
  return true;
}

}  // namespace vs::container_image
