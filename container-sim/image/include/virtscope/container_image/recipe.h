// The recipe: a subset of the Containerfile / Dockerfile format
// (docs/container-sim/images.md has the full description).
//
//   # comment            FROM scratch | FROM <image in the store>
//   COPY <src> <dest>    ENV K=V [K2=V2 ...] | ENV K V
//   CMD ["a","b"]        CMD a b          (shell form: ["/bin/sh","-c","a b"])
//   ENTRYPOINT [...]     ENTRYPOINT a b   (likewise)
//   WORKDIR /path        RUN <command>    (needs a RunStep from the caller)
//
// Keywords are case-insensitive; a line ending in '\' continues on the next
// line; comment lines may sit inside a continuation. Every error names
// file:line (the line where the instruction starts) and what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vs::container_image {

enum class RecipeOp : uint8_t { From, Copy, Env, Cmd, Entrypoint, Workdir, Run };

struct Instruction {
  RecipeOp op = RecipeOp::From;
  int line = 0;                   // 1-based line where the instruction starts
  std::string text;               // "KEYWORD arguments", continuations joined: the history's created_by
  std::vector<std::string> args;  // From: {image}; Copy: {src (normalized, relative to the context), dest};
                                  // Env: {"K=V", ...}; Cmd/Entrypoint/Run: argv; Workdir: {path}
};

struct Recipe {
  std::string file;         // for messages: the name the recipe was read from
  std::string context_dir;  // COPY sources are relative to this (the recipe's directory)
  std::vector<Instruction> steps;  // steps[0] is the FROM
};

bool parse_recipe(std::string_view text, const std::string& file, Recipe& out, std::string& error);
// Reads and parses the file; context_dir becomes the file's directory.
bool load_recipe(const std::string& path, Recipe& out, std::string& error);

const char* recipe_op_name(RecipeOp op);  // "FROM", "COPY", ...

}  // namespace vs::container_image
