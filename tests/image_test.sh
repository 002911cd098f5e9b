#!/usr/bin/env bash
# ImageRuntimeStageHasWhatTheBinaryNeeds: the Dockerfile's runtime stage carries exactly the
# libraries ldd lists for the binary, and the binary runs from the staged root with nothing
# from the host (chroot when root, else the staged loader with only the staged libraries).
# Usage: image_test.sh SOURCE_DIR BINARY
set -euo pipefail
source_dir=$1
binary=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$source_dir/scripts/runtime-libs.sh" check "$binary"
grep -q '^FROM scratch AS runtime$' "$source_dir/Dockerfile" || { echo "the runtime stage is not FROM scratch" >&2; exit 1; }
grep -q '^USER 65532:65532$' "$source_dir/Dockerfile" || { echo "the image does not run as 65532" >&2; exit 1; }
grep -q 'scripts/image-build.sh' "$source_dir/Dockerfile" || { echo "the build stage does not use scripts/image-build.sh" >&2; exit 1; }

"$source_dir/scripts/runtime-libs.sh" stage "$binary" "$work/root"
if [[ -e "$work/root/bin/sh" ]]; then echo "a shell was staged" >&2; exit 1; fi
if [[ $(id -u) -eq 0 ]] && chroot_bin=$(command -v chroot); then
  out=$(env -i "$chroot_bin" --userspec=65532:65532 "$work/root" /usr/local/bin/podmortem version)
else
  out=$(env -i "$work/root/lib64/ld-linux-x86-64.so.2" --inhibit-cache \
        --library-path "$work/root/lib/x86_64-linux-gnu" "$work/root/usr/local/bin/podmortem" version)
fi
echo "staged binary says: $out"
[[ "$out" == podmortem* ]]
