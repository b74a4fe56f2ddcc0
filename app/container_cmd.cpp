// `virtscope container ...` (docs/container-cli.md): build images from
// recipes, run containers on container-sim, and look at what they left.
// Each command is one emulated machine; `session` keeps one up for many.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bare_machine.h"
#include "container_machine.h"
#include "container_state.h"
#include "options.h"
#include "virtscope/container_image/image_config.h"
#include "virtscope/container_image/recipe.h"
#include "virtscope/container_image/store.h"
#include "virtscope/trace/event.h"
#include "virtscope/trace/export.h"

namespace vs::app {

namespace {

constexpr const char* kUsage =
    "usage: virtscope container [--root DIR] COMMAND [ARGS]\n"
    "  build -t NAME [--context DIR] RECIPE   build an image from a recipe (FROM, COPY, ENV, CMD, ENTRYPOINT, WORKDIR)\n"
    "  images                                 list the images in the store\n"
    "  inspect NAME                           a container's record, or an image's config, layers and digests\n"
    "  rmi NAME                               remove an image tag (and blobs nothing else uses)\n"
    "  run [OPTIONS] IMAGE [COMMAND...]       run a container in the foreground on a new emulated machine\n"
    "        --name N  --hostname H  -e KEY=VALUE  --userns  --rm  --network none|veth|host\n"
    "        --pid host  --uts host  --ipc host   (share the host's namespace instead of a new one)\n"
    "        --memory-max V  --memory-high V  --cpu-max \"QUOTA PERIOD\"  --cpu-weight W\n"
    "        --pids-max N  --io-max \"MAJ:MIN rbps=N ...\"  (written to the cgroup v2 files as given)\n"
    "  ps [-a]                                containers (running ones exist only inside a session)\n"
    "  stats [NAME]                           the last cgroup figures of containers that ran\n"
    "  exec NAME COMMAND...                   run a command in a running container (inside a session)\n"
    "  rm NAME                                forget a container that has exited\n"
    "  session [FILE]                         one machine, many commands: run [-d], exec, ps, stats,\n"
    "                                         wait NAME, sleep MS, rm NAME; one per line from FILE or stdin\n"
    "  common: -m SIZE (machine RAM, default 256M)  --max-instructions N\n"
    "          --trace FILE (build: image operations; run, session: every event;\n"
    "                        .json = Chrome trace, else JSON Lines)\n"
    "  the store: --root DIR, else $VIRTSCOPE_HOME, else ./.virtscope";

int fail(const std::string& what) {
  std::fprintf(stderr, "virtscope container: %s\n", what.c_str());
  return 1;
}

struct Common {
  std::string root, trace;
  uint32_t ram = 256u << 20;
  uint64_t max_instructions = 20'000'000'000ull;
};

// A recipe's RUN: the command runs as a container on a machine of its own,
// over the layers built so far; what it changed (its overlay's upper layer)
// becomes the step's layer — how `docker build` commits a RUN step.
container_image::RunStep build_runner(const Common& common) {
  return [common](const std::vector<container_image::ChangeSet>& layers, const container_image::RunCommand& c,
                  container_image::ChangeSet& changes, std::string& error) {
    container_sim::HostConfig config;
    config.ram_bytes = common.ram;
    container_sim::ContainerHost host(config);
    host.set_console([](std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); });
    host.close_input();
    container_sim::ContainerSpec spec;
    spec.name = "build";
    spec.argv = c.argv;
    spec.env = c.env;
    spec.cwd = c.working_dir.empty() ? "/" : c.working_dir;
    spec.layers = layers;
    const uint32_t pid = host.create_container(spec, error);
    if (!pid) {
      error = c.where + ": RUN: " + error;
      return false;
    }
    host.run(common.max_instructions);
    const std::optional<int> status = host.exit_status(pid);
    if (!status || *status != 0) {
      error = c.where + ": RUN " + (c.argv.empty() ? "" : c.argv[0]) + ": " +
              (!host.panic_reason().empty() ? "the kernel panicked"
               : !status                    ? "did not finish within --max-instructions"
                                            : "exited with status " + std::to_string(shell_status(*status)));
      return false;
    }
    return host.container_changes("build", changes, error);
  };
}

int cmd_build(const ContainerState& state, const Common& common, const std::vector<std::string>& args) {
  std::string tag, context, recipe_path;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-t" || args[i] == "--tag") && i + 1 < args.size()) {
      tag = args[++i];
    } else if (args[i] == "--context" && i + 1 < args.size()) {
      context = args[++i];
    } else if (args[i][0] == '-' || !recipe_path.empty()) {
      return fail("build: unexpected " + args[i] + "\n" + kUsage);
    } else {
      recipe_path = args[i];
    }
  }
  if (tag.empty() || recipe_path.empty()) return fail("build needs -t NAME and a RECIPE");
  container_image::Recipe recipe;
  std::string error;
  if (!container_image::load_recipe(recipe_path, recipe, error)) return fail(error);
  if (!context.empty()) recipe.context_dir = context;
  // --trace: the store's ImageOp events (layers made, stored, reused; the image committed).
  trace::EventLog log;
  std::ofstream trace_file;
  std::unique_ptr<trace::TraceWriter> writer;
  if (!common.trace.empty()) {
    trace_file.open(common.trace);
    if (!trace_file) return fail("cannot write trace file " + common.trace);
    writer = std::make_unique<trace::TraceWriter>(trace_file, trace::TraceWriter::format_for_path(common.trace));
    log.subscribe(trace::KindSet::of({trace::EventKind::ImageOp}), [&writer](const trace::Event& e) { writer->write(e); });
  }
  container_image::ImageStore store(state.images(), &log);
  container_image::ImageInfo image;
  if (!store.build(recipe, tag, image, error, build_runner(common))) return fail(error);
  std::printf("built %s %s (%zu layers, %" PRId64 " bytes)\n", tag.c_str(), image.id.c_str(), image.layers.size(),
              image.size);
  return 0;
}

int cmd_images(const ContainerState& state) {
  container_image::ImageStore store(state.images());
  std::vector<container_image::ImageInfo> images;
  std::string error;
  if (!store.list(images, error)) return fail(error);
  std::printf("%-20s %-19s %7s %10s\n", "TAG", "IMAGE ID", "LAYERS", "SIZE");
  for (const auto& i : images)
    for (const std::string& tag : i.tags)
      std::printf("%-20s %-19s %7zu %10" PRId64 "\n", tag.c_str(), i.id.substr(0, 19).c_str(), i.layers.size(),
                  i.size);
  return 0;
}

int cmd_inspect(const ContainerState& state, const std::vector<std::string>& args) {
  if (args.size() != 1) return fail("inspect takes one NAME");
  std::string error;
  ContainerRecord r;
  if (state.exists(args[0])) {
    if (!state.load(args[0], r, error)) return fail(error);
    std::printf("container %s\n  image      %s (%s)\n  hostname   %s\n  command   ", r.name.c_str(), r.image.c_str(),
                r.image_id.c_str(), r.hostname.c_str());
    for (const std::string& a : r.command) std::printf(" %s", a.c_str());
    std::printf("\n  status     %s, exit code %d\n", r.status.c_str(), r.exit_code);
    for (const auto& [file, value] : r.limits) std::printf("  limit      %s = %s\n", file.c_str(), value.c_str());
    for (const auto& [k, v] : r.figures) std::printf("  %-22s %s\n", k.c_str(), v.c_str());
    return 0;
  }
  container_image::ImageStore store(state.images());
  container_image::ImageInfo i;
  if (!store.inspect(args[0], i, error)) return fail("no container or image " + args[0] + " (" + error + ")");
  std::printf("image %s\n  id        %s\n  manifest  %s\n", args[0].c_str(), i.id.c_str(), i.manifest_digest.c_str());
  for (size_t k = 0; k < i.layers.size(); ++k)
    std::printf("  layer %zu   diff_id %s\n            chain_id %s\n            %" PRId64 " bytes\n", k,
                i.layers[k].digest.c_str(), i.chain_ids[k].c_str(), i.layers[k].size);
  std::printf("  config    %s\n", container_image::config_to_json(i.config).c_str());
  return 0;
}

int cmd_rm(const ContainerState& state, const std::vector<std::string>& args, bool image) {
  if (args.empty()) return fail(std::string(image ? "rmi" : "rm") + " needs a NAME");
  int status = 0;
  for (const std::string& name : args) {
    std::string error;
    if (image) {
      container_image::ImageStore store(state.images());
      size_t deleted = 0;
      if (!store.remove(name, error, &deleted)) status = fail(error);
      else std::printf("untagged %s (%zu blobs deleted)\n", name.c_str(), deleted);
    } else if (!state.remove(name, error)) {
      status = fail(error);
    } else {
      std::printf("%s\n", name.c_str());
    }
  }
  return status;
}

int cmd_records(const ContainerState& state, bool stats, const std::vector<std::string>& args) {
  // Outside a session nothing is running: these are the records of containers that ran.
  if (!stats) std::printf("%-16s %-14s %-14s %s\n", "NAME", "IMAGE", "STATUS", "COMMAND");
  else std::printf("%-16s %12s %10s %12s %5s %10s\n", "NAME", "CPU usec", "THROTTLED", "MEM peak", "PIDS", "IO read");
  for (const std::string& name : state.names()) {
    if (stats && !args.empty() && name != args[0]) continue;
    ContainerRecord r;
    std::string error;
    if (!state.load(name, r, error)) {
      std::fprintf(stderr, "virtscope container: %s\n", error.c_str());
      continue;
    }
    if (!stats) {
      std::string cmd;
      for (const std::string& a : r.command) cmd += (cmd.empty() ? "" : " ") + a;
      const std::string status = r.status + " (" + std::to_string(r.exit_code) + ")";
      std::printf("%-16s %-14s %-14s %s\n", r.name.c_str(), r.image.c_str(), status.c_str(), cmd.c_str());
    } else {
      auto f = r.figures;
      std::printf("%-16s %12s %10s %12s %5s %10s\n", r.name.c_str(), f["cpu.usage_usec"].c_str(),
                  f["cpu.nr_throttled"].c_str(), f["memory.peak"].c_str(), f["pids.current"].c_str(),
                  f["io.rbytes"].c_str());
    }
  }
  return 0;
}

int cmd_run(const ContainerState& state, const Common& common, const std::vector<std::string>& args) {
  RunOptions o;
  std::string error, name;
  if (!parse_run_options(args, o, error)) return fail(error + "\n" + kUsage);
  if (o.detach)
    return fail("-d: a container runs only while the machine does, and each command is one machine; "
                "use `virtscope container session` to keep containers running");
  ContainerMachine machine(state, common.ram, std::cout, true);
  machine.budget = common.max_instructions;
  if (!common.trace.empty() && !machine.trace_to(common.trace, error)) return fail(error);
  if (!machine.start(o, name, error)) {
    fail(error);
    return 125;
  }
  const int status = machine.wait(name, error);
  if (status < 0) {
    fail(error);
    return 125;  // docker run's status when the container could not run to its end
  }
  return status;
}

// One line of a session: the words, with "double quotes" keeping spaces.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::string w;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted, any = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (any) out.push_back(w);
      w.clear(), any = false;
    } else {
      w += c, any = true;
    }
  }
  if (any) out.push_back(w);
  return out;
}

int cmd_session(const ContainerState& state, const Common& common, const std::vector<std::string>& args) {
  std::ifstream file;
  if (!args.empty()) {
    file.open(args[0]);
    if (!file) return fail("cannot read " + args[0]);
  }
  std::istream& in = args.empty() ? std::cin : file;
  ContainerMachine machine(state, common.ram, std::cout, false);
  machine.budget = common.max_instructions;
  std::string trace_error;
  if (!common.trace.empty() && !machine.trace_to(common.trace, trace_error)) return fail(trace_error);
  int status = 0;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::vector<std::string> w = words(line);
    if (w.empty() || w[0][0] == '#') continue;
    std::printf("$ %s\n", line.c_str());
    std::fflush(stdout);
    const std::vector<std::string> rest(w.begin() + 1, w.end());
    std::string error, name;
    int r = 0;
    if (w[0] == "run") {
      RunOptions o;
      if (!parse_run_options(rest, o, error) || !machine.start(o, name, error)) r = -1;
      else if (o.detach) std::printf("%s\n", name.c_str());
      else if ((r = machine.wait(name, error)) >= 0) std::printf("(exit %d)\n", r);
    } else if (w[0] == "exec" && rest.size() >= 2) {
      if ((r = machine.exec(rest[0], {rest.begin() + 1, rest.end()}, error)) >= 0) std::printf("(exit %d)\n", r);
    } else if (w[0] == "wait" && rest.size() == 1) {
      if ((r = machine.wait(rest[0], error)) >= 0) std::printf("(exit %d)\n", r);
    } else if (w[0] == "sleep" && rest.size() == 1 && std::strtoull(rest[0].c_str(), nullptr, 10) > 0) {
      machine.sleep(std::strtoull(rest[0].c_str(), nullptr, 10));
    } else if (w[0] == "ps" && rest.empty()) {
      machine.ps(std::cout);
    } else if (w[0] == "stats" && rest.size() <= 1) {
      machine.stats(std::cout, rest.empty() ? "" : rest[0]);
    } else if (w[0] == "rm" && rest.size() == 1) {
      if (!machine.host().remove_container(rest[0], error)) r = -1;
    } else {
      error = "line " + std::to_string(number) + ": unknown or malformed command \"" + line +
              "\" (run [-d] ..., exec NAME CMD..., wait NAME, sleep MS, ps, stats [NAME], rm NAME)";
      r = -1;
    }
    std::cout.flush();
    if (r < 0) {
      std::fprintf(stderr, "virtscope container: %s\n", error.c_str());
      status = 1;
      if (!machine.host().panic_reason().empty()) break;  // nothing more can run
    }
  }
  machine.finish();
  return status;
}

}  // namespace

int run_container(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  Common common;
  size_t i = 0;
  for (; i < args.size() && args[i][0] == '-'; ++i) {
    if (args[i] == "--root" && i + 1 < args.size()) {
      common.root = args[++i];
    } else if (args[i] == "-m" && i + 1 < args.size()) {
      const std::optional<uint32_t> bytes = parse_memory_size(args[++i]);
      if (!bytes) return fail("-m wants a size such as 256M");
      common.ram = *bytes;
    } else if (args[i] == "--max-instructions" && i + 1 < args.size()) {
      const std::optional<uint64_t> n = parse_count(args[++i]);
      if (!n || *n == 0) return fail("--max-instructions wants a positive whole number");
      common.max_instructions = *n;
    } else if (args[i] == "--trace" && i + 1 < args.size()) {
      common.trace = args[++i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::puts(kUsage);
      return 0;
    } else {
      return fail("unknown option " + args[i] + "\n" + kUsage);
    }
  }
  if (i >= args.size()) return fail(std::string("which command?\n") + kUsage);
  const std::string cmd = args[i];
  const std::vector<std::string> rest(args.begin() + long(i) + 1, args.end());
  const ContainerState state(common.root);
  if (cmd == "build") return cmd_build(state, common, rest);
  if (cmd == "images") return cmd_images(state);
  if (cmd == "inspect") return cmd_inspect(state, rest);
  if (cmd == "rmi") return cmd_rm(state, rest, true);
  if (cmd == "rm") return cmd_rm(state, rest, false);
  if (cmd == "ps") return cmd_records(state, false, rest);
  if (cmd == "stats") return cmd_records(state, true, rest);
  if (cmd == "run") return cmd_run(state, common, rest);
  if (cmd == "session") return cmd_session(state, common, rest);
  if (cmd == "exec")
    return fail("exec: no container is running: each virtscope command is one emulated machine, and a container "
                "runs only while the command that started it does; use `virtscope container session` and exec there");
  return fail("unknown command " + cmd + "\n" + kUsage);
}

}  // namespace vs::app
