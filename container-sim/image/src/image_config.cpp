// OCI config, manifest and index JSON (image-spec config.md, manifest.md,
// image-index.md, descriptor.md). Writers fix the member order; readers
// check the REQUIRED fields and their types and ignore unknown members
// (config.md: "Any extra fields ... should be ignored").
#include "virtscope/container_image/image_config.h"

#include <algorithm>

#include "virtscope/container_image/json.h"
#include "virtscope/container_image/sha256.h"

namespace vs::container_image {
namespace {

Json descriptor_json(const Descriptor& d) {
  Json j = Json::make_object();
  j.add("mediaType", Json::make_string(d.media_type));
  j.add("digest", Json::make_string(d.digest));
  j.add("size", Json::make_int(d.size));
  return j;
}

bool descriptor_from(const Json& j, Descriptor& d, std::string& error) {
  if (j.type != Json::Type::Object) {
    error = "descriptor is not an object";
    return false;
  }
  if (!json_get_string(j, "mediaType", true, d.media_type, error) ||
      !json_get_string(j, "digest", true, d.digest, error))
    return false;
  if (!is_digest(d.digest)) {
    error = "descriptor digest '" + d.digest + "' is not sha256:<64 lower-case hex>";
    return false;
  }
  const Json* size = j.find("size");
  if (!size || !size->as_int() || *size->as_int() < 0) {
    error = "descriptor of " + d.digest + " has no valid \"size\"";
    return false;
  }
  d.size = *size->as_int();
  return true;
}

bool parse_object(std::string_view text, const char* what, Json& j, std::string& error) {
  if (!json_parse(text, j, error)) {
    error = std::string(what) + ": " + error;
    return false;
  }
  if (j.type != Json::Type::Object) {
    error = std::string(what) + ": the document is not a JSON object";
    return false;
  }
  return true;
}

bool check_schema_version(const Json& j, const char* what, std::string& error) {
  const Json* v = j.find("schemaVersion");
  if (!v || v->as_int() != 2) {
    error = std::string(what) + ": \"schemaVersion\" must be 2";
    return false;
  }
  return true;
}

}  // namespace

std::string config_to_json(const ImageConfig& c) {
  Json config = Json::make_object();
  if (!c.env.empty()) config.add("Env", Json::make_strings(c.env));
  if (!c.entrypoint.empty()) config.add("Entrypoint", Json::make_strings(c.entrypoint));
  if (!c.cmd.empty()) config.add("Cmd", Json::make_strings(c.cmd));
  if (!c.working_dir.empty()) config.add("WorkingDir", Json::make_string(c.working_dir));
  Json rootfs = Json::make_object();
  rootfs.add("type", Json::make_string("layers"));
  rootfs.add("diff_ids", Json::make_strings(c.diff_ids));
  Json history = Json::make_array();
  for (const HistoryEntry& h : c.history) {
    Json e = Json::make_object();
    e.add("created_by", Json::make_string(h.created_by));
    if (h.empty_layer) e.add("empty_layer", Json::make_bool(true));
    history.items.push_back(std::move(e));
  }
  Json root = Json::make_object();
  root.add("architecture", Json::make_string(c.architecture));
  root.add("os", Json::make_string(c.os));
  root.add("config", std::move(config));
  root.add("rootfs", std::move(rootfs));
  root.add("history", std::move(history));
  return root.dump();
}

bool config_from_json(std::string_view text, ImageConfig& c, std::string& error) {
  c = ImageConfig{};
  Json j;
  if (!parse_object(text, "image config", j, error)) return false;
  std::string why;
  auto fail = [&](const std::string& w) {
    error = "image config: " + w;
    return false;
  };
  if (!json_get_string(j, "architecture", true, c.architecture, why) || !json_get_string(j, "os", true, c.os, why))
    return fail(why);
  if (const Json* config = j.find("config"); config && config->type != Json::Type::Null) {
    if (config->type != Json::Type::Object) return fail("\"config\" must be an object");
    if (!json_get_strings(*config, "Env", c.env, why) || !json_get_strings(*config, "Entrypoint", c.entrypoint, why) ||
        !json_get_strings(*config, "Cmd", c.cmd, why) ||
        !json_get_string(*config, "WorkingDir", false, c.working_dir, why))
      return fail(why);
  }
  const Json* rootfs = j.find("rootfs");
  if (!rootfs || rootfs->type != Json::Type::Object) return fail("missing required object \"rootfs\"");
  std::string type;
  if (!json_get_string(*rootfs, "type", true, type, why)) return fail("rootfs: " + why);
  if (type != "layers") return fail("rootfs.type is \"" + type + "\"; it MUST be \"layers\"");
  if (!rootfs->find("diff_ids")) return fail("rootfs: missing required field \"diff_ids\"");
  if (!json_get_strings(*rootfs, "diff_ids", c.diff_ids, why)) return fail("rootfs: " + why);
  for (const std::string& d : c.diff_ids)
    if (!is_digest(d)) return fail("rootfs.diff_ids entry '" + d + "' is not a sha256 digest");
  if (const Json* history = j.find("history"); history && history->type != Json::Type::Null) {
    if (history->type != Json::Type::Array) return fail("\"history\" must be an array");
    for (const Json& h : history->items) {
      if (h.type != Json::Type::Object) return fail("history entries must be objects");
      HistoryEntry e;
      if (!json_get_string(h, "created_by", false, e.created_by, why)) return fail("history: " + why);
      if (const Json* empty = h.find("empty_layer")) {
        if (empty->type != Json::Type::Bool) return fail("history: \"empty_layer\" must be a boolean");
        e.empty_layer = empty->boolean;
      }
      c.history.push_back(std::move(e));
    }
  }
  return true;
}

std::string manifest_to_json(const Manifest& m) {
  Json layers = Json::make_array();
  for (const Descriptor& d : m.layers) layers.items.push_back(descriptor_json(d));
  Json root = Json::make_object();
  root.add("schemaVersion", Json::make_int(2));
  root.add("mediaType", Json::make_string(std::string(kMediaTypeManifest)));
  root.add("config", descriptor_json(m.config));
  root.add("layers", std::move(layers));
  return root.dump();
}

bool manifest_from_json(std::string_view text, Manifest& m, std::string& error) {
  m = Manifest{};
  Json j;
  if (!parse_object(text, "manifest", j, error) || !check_schema_version(j, "manifest", error)) return false;
  const Json* config = j.find("config");
  const Json* layers = j.find("layers");
  if (!config || !layers || layers->type != Json::Type::Array) {
    error = "manifest: \"config\" and \"layers\" (an array) are required";
    return false;
  }
  if (!descriptor_from(*config, m.config, error)) {
    error = "manifest config: " + error;
    return false;
  }
  for (const Json& l : layers->items) {
    Descriptor d;
    if (!descriptor_from(l, d, error)) {
      error = "manifest layer: " + error;
      return false;
    }
    m.layers.push_back(std::move(d));
  }
  return true;
}

std::string index_to_json(const std::vector<IndexEntry>& unsorted) {
  std::vector<IndexEntry> entries = unsorted;
  std::sort(entries.begin(), entries.end(), [](const IndexEntry& a, const IndexEntry& b) { return a.tag < b.tag; });
  Json manifests = Json::make_array();
  for (const IndexEntry& e : entries) {
    Json d = descriptor_json(e.manifest);
    Json annotations = Json::make_object();
    annotations.add(std::string(kRefNameAnnotation), Json::make_string(e.tag));
    d.add("annotations", std::move(annotations));
    manifests.items.push_back(std::move(d));
  }
  Json root = Json::make_object();
  root.add("schemaVersion", Json::make_int(2));
  root.add("mediaType", Json::make_string(std::string(kMediaTypeIndex)));
  root.add("manifests", std::move(manifests));
  return root.dump();
}

bool index_from_json(std::string_view text, std::vector<IndexEntry>& entries, std::string& error) {
  entries.clear();
  Json j;
  if (!parse_object(text, "index.json", j, error) || !check_schema_version(j, "index.json", error)) return false;
  const Json* manifests = j.find("manifests");
  if (!manifests || manifests->type != Json::Type::Array) {
    error = "index.json: \"manifests\" (an array) is required";
    return false;
  }
  for (const Json& m : manifests->items) {
    IndexEntry e;
    if (!descriptor_from(m, e.manifest, error)) {
      error = "index.json: " + error;
      return false;
    }
    const Json* annotations = m.find("annotations");
    if (annotations && !json_get_string(*annotations, kRefNameAnnotation, false, e.tag, error)) {
      error = "index.json: " + error;
      return false;
    }
    if (!e.tag.empty()) entries.push_back(std::move(e));  // untagged manifests are not images of ours
  }
  return true;
}

bool runtime_process(const ImageConfig& config, const std::vector<std::string>& args_override,
                     RuntimeProcess& out, std::string& error) {
  out.args = config.entrypoint;
  const std::vector<std::string>& cmd = args_override.empty() ? config.cmd : args_override;
  out.args.insert(out.args.end(), cmd.begin(), cmd.end());
  if (out.args.empty()) {
    error = "the image has neither Entrypoint nor Cmd, and no command was given";
    return false;
  }
  out.env = config.env;
  out.cwd = config.working_dir.empty() ? "/" : config.working_dir;
  return true;
}

std::string oci_layout_json() { return "{\"imageLayoutVersion\":\"1.0.0\"}"; }

}  // namespace vs::container_image
