#include "container_state.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "virtscope/container_image/json.h"

namespace vs::app {

namespace fs = std::filesystem;
using container_image::Json;

ContainerState::ContainerState(const std::string& root_option) {
  if (!root_option.empty()) {
    root_ = root_option;
  } else if (const char* home = std::getenv("VIRTSCOPE_HOME"); home && *home) {
    root_ = home;
  } else {
    root_ = ".virtscope";
  }
}

bool ContainerState::save(const ContainerRecord& r, std::string& error) const {
  Json j = Json::make_object();
  j.add("name", Json::make_string(r.name));
  j.add("image", Json::make_string(r.image));
  j.add("image_id", Json::make_string(r.image_id));
  j.add("hostname", Json::make_string(r.hostname));
  j.add("command", Json::make_strings(r.command));
  Json limits = Json::make_object();
  for (const auto& [file, value] : r.limits) limits.add(file, Json::make_string(value));
  j.add("limits", std::move(limits));
  j.add("status", Json::make_string(r.status));
  j.add("exit_code", Json::make_int(r.exit_code));
  Json figures = Json::make_object();
  for (const auto& [k, v] : r.figures) figures.add(k, Json::make_string(v));
  j.add("figures", std::move(figures));
  std::error_code ec;
  fs::create_directories(file(r.name).parent_path(), ec);
  const fs::path tmp = file(r.name).string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump() << "\n";
    if (!out) {
      error = "cannot write " + tmp.string();
      return false;
    }
  }
  fs::rename(tmp, file(r.name), ec);
  if (ec) {
    error = "cannot write " + file(r.name).string() + ": " + ec.message();
    return false;
  }
  return true;
}

bool ContainerState::load(const std::string& name, ContainerRecord& r, std::string& error) const {
  std::ifstream in(file(name), std::ios::binary);
  if (!in) {
    error = "no such container: " + name;
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  Json j;
  const std::string where = file(name).string() + ": ";
  if (!container_image::json_parse(text.str(), j, error) || j.type != Json::Type::Object) {
    error = where + (error.empty() ? "not a JSON object" : error);
    return false;
  }
  if (!container_image::json_get_string(j, "name", true, r.name, error) ||
      !container_image::json_get_string(j, "image", true, r.image, error) ||
      !container_image::json_get_string(j, "image_id", false, r.image_id, error) ||
      !container_image::json_get_string(j, "hostname", false, r.hostname, error) ||
      !container_image::json_get_string(j, "status", true, r.status, error) ||
      !container_image::json_get_strings(j, "command", r.command, error)) {
    error = where + error;
    return false;
  }
  const Json* code = j.find("exit_code");
  r.exit_code = code && code->as_int() ? int(*code->as_int()) : 0;
  if (const Json* limits = j.find("limits"); limits && limits->type == Json::Type::Object)
    for (const auto& [k, v] : limits->members) r.limits.emplace_back(k, v.text);
  if (const Json* figures = j.find("figures"); figures && figures->type == Json::Type::Object)
    for (const auto& [k, v] : figures->members) r.figures[k] = v.text;
  return true;
}

bool ContainerState::exists(const std::string& name) const {
  std::error_code ec;
  return fs::exists(file(name), ec);
}

bool ContainerState::remove(const std::string& name, std::string& error) const {
  std::error_code ec;
  if (!fs::remove(file(name), ec)) {
    error = "no such container: " + name;
    return false;
  }
  return true;
}

std::vector<std::string> ContainerState::names() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "containers", ec))
    if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string ContainerState::fresh_name(const std::string& image) const {
  std::string base;
  for (char c : image) base += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-';
  if (base.empty() || !std::isalnum(static_cast<unsigned char>(base[0]))) base = "c" + base;
  for (int n = 1;; ++n) {
    const std::string name = base + "-" + std::to_string(n);
    if (!exists(name)) return name;
  }
}

}  // namespace vs::app
