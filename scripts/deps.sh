#!/usr/bin/env bash
# Installs the Debian packages virtscope needs, only those missing.
# Idempotent, non-interactive, and quick when everything is present.
set -euo pipefail

packages=(
  cmake ninja-build g++ binutils pkg-config       # build
  clang libclang-rt-14-dev                        # sanitizers and libFuzzer with clang
  libgtest-dev libbenchmark-dev                   # tests and benchmarks
  libcapstone-dev                                 # disassembly, decode oracle
  libunicorn-dev                                  # lockstep oracle (tests only)
  liblua5.4-dev libimgui-dev libglfw3-dev         # lessons and the visualizer
  zlib1g-dev                                      # reading the SingleStepTests data
  bochsbios                                       # a third-party BIOS ROM the firmware tests boot
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "virtscope: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
