#!/usr/bin/env bash
# The container image's build stage as a script: the Dockerfile runs it, and `make test` runs it
# too (target test-image), so that the image is built and checked where no container engine
# runs. Same packages and CMake flags as `make build`, tests off.
#   scripts/image-build.sh BUILD_DIR ROOT    builds build/podmortem in BUILD_DIR, stages the
#                                            runtime stage's files (binary, libraries, passwd)
#                                            into ROOT
set -euo pipefail
root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir=${1:?usage: image-build.sh BUILD_DIR ROOT}
stage_root=${2:?usage: image-build.sh BUILD_DIR ROOT}

"$root_dir/scripts/install-deps.sh" --build-only
cmake -S "$root_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPODMORTEM_BUILD_TESTS=OFF
cmake --build "$build_dir" --target podmortem
rm -rf "$stage_root"
"$root_dir/scripts/runtime-libs.sh" stage "$build_dir/podmortem" "$stage_root"
