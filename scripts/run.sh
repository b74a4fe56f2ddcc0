#!/usr/bin/env bash
# The main job: install what is missing, build everything, run virtscope.
# With no arguments it boots the built-in demo guest headless; any arguments
# are passed to the virtscope command (e.g. `scripts/run.sh bench`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
exec "$root/build/app/virtscope" "$@"
