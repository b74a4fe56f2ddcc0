// Recipe parsing: lines -> logical lines (continuations, comments) ->
// instructions with checked arguments. Deliberate differences from
// Docker's parser, each to give a beginner a clear error instead of a
// surprise: an exec form ("[...]") that is not a valid JSON array of
// strings is an error (Docker silently runs it as a shell command), only
// one FROM (no multi-stage builds), no flags (--chown, --from), no $VAR
// substitution (values are taken literally).
#include "virtscope/container_image/recipe.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "virtscope/container_image/json.h"
#include "virtscope/container_image/layer.h"

namespace vs::container_image {
namespace {

constexpr const char* kOpNames[] = {"FROM", "COPY", "ENV", "CMD", "ENTRYPOINT", "WORKDIR", "RUN"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

// ENV's K=V words: a value may be "double quoted" (with \" and \\ inside)
// to hold spaces.
bool split_env_words(std::string_view s, std::vector<std::string>& out, std::string& why) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    std::string word;
    while (i < s.size() && !is_space(s[i])) {
      if (s[i] == '"') {
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          word += s[i++];
        }
        if (i == s.size()) {
          why = "unterminated \" in ENV value";
          return false;
        }
        ++i;
      } else {
        word += s[i++];
      }
    }
    out.push_back(std::move(word));
  }
  return true;
}

bool valid_env_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key)
    if (c == '=' || c == '"' || is_space(c)) return false;
  return true;
}

// "[...]": the exec form, a JSON array of strings. Anything else: the shell form.
bool command_args(std::string_view rest, std::vector<std::string>& argv, std::string& why) {
  if (!rest.empty() && rest.front() == '[') {
    Json j;
    if (!json_parse(rest, j, why)) {
      why = "exec form is not a valid JSON array of strings (" + why + ")";
      return false;
    }
    if (j.type != Json::Type::Array) {
      why = "exec form must be a JSON array";
      return false;
    }
    for (const Json& item : j.items) {
      if (item.type != Json::Type::String) {
        why = "exec form must contain only strings";
        return false;
      }
      argv.push_back(item.text);
    }
    if (argv.empty()) {
      why = "exec form is an empty array";
      return false;
    }
    return true;
  }
  if (rest.empty()) {
    why = "missing command";
    return false;
  }
  argv = {"/bin/sh", "-c", std::string(rest)};  // Docker's shell form
  return true;
}

bool parse_instruction(std::string_view line_text, Instruction& ins, std::string& why) {
  const std::string_view s = trim(line_text);
  size_t k = 0;
  while (k < s.size() && !is_space(s[k])) ++k;
  std::string keyword(s.substr(0, k));
  for (char& c : keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string_view rest = trim(s.substr(k));
  bool known = false;
  for (size_t i = 0; i < std::size(kOpNames); ++i) {
    if (keyword == kOpNames[i]) {
      ins.op = static_cast<RecipeOp>(i);
      known = true;
    }
  }
  if (!known) {
    why = "unknown instruction '" + keyword + "' (supported: FROM, COPY, ENV, CMD, ENTRYPOINT, WORKDIR, RUN)";
    return false;
  }
  ins.text = keyword + (rest.empty() ? "" : " " + std::string(rest));
  if (rest.substr(0, 2) == "--" && ins.op != RecipeOp::Run && ins.op != RecipeOp::Cmd &&
      ins.op != RecipeOp::Entrypoint) {
    why = keyword + ": flags such as '" + split_words(rest)[0] + "' are not supported";
    return false;
  }
  switch (ins.op) {
    case RecipeOp::From: {
      ins.args = split_words(rest);
      if (ins.args.size() != 1) {
        why = ins.args.empty() ? "FROM needs an image name (or 'scratch')"
                               : "FROM takes one image name (multi-stage 'AS name' is not supported)";
        return false;
      }
      return true;
    }
    case RecipeOp::Copy: {
      if (!rest.empty() && rest.front() == '[') {
        if (!command_args(rest, ins.args, why)) return false;
      } else {
        ins.args = split_words(rest);
      }
      if (ins.args.size() != 2) {
        why = "COPY needs exactly two arguments, <src> <dest> (got " + std::to_string(ins.args.size()) + ")";
        return false;
      }
      if (ins.args[0].empty() || ins.args[1].empty()) {
        why = "COPY source and destination must not be empty";
        return false;
      }
      std::string src, path_why;
      if (!normalize_path(ins.args[0], src, path_why)) {
        why = "COPY source '" + ins.args[0] + "' is outside the build context ('..' climbs out of it)";
        return false;
      }
      ins.args[0] = src;  // "" = the whole context directory
      return true;
    }
    case RecipeOp::Env: {
      const std::vector<std::string> words = split_words(rest);
      if (words.empty()) {
        why = "ENV needs K=V (or K V)";
        return false;
      }
      if (words[0].find('=') == std::string::npos) {
        // ENV K V: the value is the rest of the line, spaces included.
        const std::string_view value = trim(rest.substr(words[0].size()));
        if (value.empty() || !valid_env_key(words[0])) {
          why = "ENV " + words[0] + ": missing value (write ENV K=V or ENV K V)";
          return false;
        }
        ins.args = {words[0] + "=" + std::string(value)};
        return true;
      }
      std::vector<std::string> pairs;
      if (!split_env_words(rest, pairs, why)) return false;
      for (const std::string& p : pairs) {
        const size_t eq = p.find('=');
        if (eq == std::string::npos || !valid_env_key(std::string_view(p).substr(0, eq))) {
          why = "ENV: '" + p + "' is not of the form K=V";
          return false;
        }
      }
      ins.args = std::move(pairs);
      return true;
    }
    case RecipeOp::Cmd:
    case RecipeOp::Entrypoint:
    case RecipeOp::Run:
      if (!command_args(rest, ins.args, why)) {
        why = keyword + ": " + why;
        return false;
      }
      return true;
    case RecipeOp::Workdir:
      if (rest.empty()) {
        why = "WORKDIR needs a path";
        return false;
      }
      ins.args = {std::string(rest)};
      return true;
  }
  return false;
}

}  // namespace

const char* recipe_op_name(RecipeOp op) { return kOpNames[static_cast<size_t>(op)]; }

bool parse_recipe(std::string_view text, const std::string& file, Recipe& out, std::string& error) {
  out.file = file;
  out.steps.clear();
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  auto fail = [&](int line, const std::string& what) {
    error = file + ":" + std::to_string(line) + ": " + what;
    return false;
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view first = trim(lines[i]);
    if (first.empty() || first.front() == '#') continue;
    const int start_line = static_cast<int>(i + 1);
    std::string logical;
    std::string_view part = first;
    // A trailing '\' joins the next line; blank and comment lines inside a
    // continuation are skipped (as Docker does).
    while (!part.empty() && part.back() == '\\') {
      part.remove_suffix(1);
      logical += part;
      do {
        if (++i >= lines.size()) return fail(start_line, "line continuation '\\' at the end of the file");
        part = trim(lines[i]);
      } while (part.empty() || part.front() == '#');
    }
    logical += part;
    Instruction ins;
    ins.line = start_line;
    std::string why;
    if (!parse_instruction(logical, ins, why)) return fail(start_line, why);
    if (out.steps.empty() && ins.op != RecipeOp::From)
      return fail(start_line, std::string("the first instruction must be FROM, not ") + recipe_op_name(ins.op));
    if (!out.steps.empty() && ins.op == RecipeOp::From)
      return fail(start_line, "a second FROM (multi-stage builds are not supported)");
    out.steps.push_back(std::move(ins));
  }
  if (out.steps.empty()) return fail(1, "the recipe has no instructions (it must start with FROM)");
  return true;
}

bool load_recipe(const std::string& path, Recipe& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read recipe '" + path + "'";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (!parse_recipe(text.str(), path, out, error)) return false;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  out.context_dir = dir.empty() ? "." : dir.string();
  return true;
}

}  // namespace vs::container_image
