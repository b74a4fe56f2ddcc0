#!/usr/bin/env bash
# All tests: install what is missing, build incrementally, run every suite
# with CTest (which ends with its "N tests passed, M failed" summary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j"$(nproc)" --timeout 900
