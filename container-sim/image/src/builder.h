// Executing a recipe's steps (after FROM) on top of a base image: COPY
// reads the build context, ENV/CMD/ENTRYPOINT/WORKDIR edit the config, RUN
// goes to the caller's RunStep. The store writes each new layer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "virtscope/container_image/store.h"

namespace vs::container_image {

// Stores one layer (index = its position from the bottom) and returns its DiffID.
using StoreLayerFn = std::function<bool(const ChangeSet& changes, size_t index, std::string& diff_id,
                                        std::string& error)>;

// `config` and `layers` hold the base image on entry and the result on exit.
bool run_recipe_steps(const Recipe& recipe, ImageConfig& config, std::vector<ChangeSet>& layers,
                      const RunStep& run, const StoreLayerFn& store, std::string& error);

}  // namespace vs::container_image
