#!/usr/bin/env bash
# The runtime libraries of a podmortem binary, from ldd, checked against scripts/runtime-libs.txt.
#   runtime-libs.sh check BINARY          exit 1 and say what differs when ldd and the list disagree
#   runtime-libs.sh stage BINARY ROOT     copy the binary and every listed library into ROOT,
#                                         at the paths the loader looks them up at
set -euo pipefail
list="$(dirname "${BASH_SOURCE[0]}")/runtime-libs.txt"
mode=${1:?usage: runtime-libs.sh check|stage BINARY [ROOT]}
binary=${2:?binary missing}

# "name path" for every library ldd resolves; the loader is its own path.
resolved() {
  ldd "$binary" | awk '
    $2 == "=>" && $3 ~ /^\// { print $1, $3; next }
    $2 == "=>"               { print $1, "NOT-FOUND"; next }
    $1 ~ /^\//               { print $1, $1 }'
}

wanted=$(grep -v '^#' "$list" | sed '/^$/d' | sort)
found=$(resolved | awk '{print $1}' | sort)
if [[ "$wanted" != "$found" ]]; then
  echo "runtime-libs: scripts/runtime-libs.txt and ldd $binary disagree:" >&2
  diff <(echo "$wanted") <(echo "$found") | sed -n 's/^< /  only in the list: /p; s/^> /  only in ldd:      /p' >&2
  exit 1
fi
if resolved | grep -q NOT-FOUND; then
  echo "runtime-libs: ldd cannot find a library of $binary" >&2
  exit 1
fi

case "$mode" in
  check)
    echo "runtime-libs: $(echo "$found" | wc -l) libraries, as listed"
    ;;
  stage)
    root=${3:?root missing}
    install -D -m 0755 "$binary" "$root/usr/local/bin/podmortem"
    while read -r name path; do
      # The real file, at the path ldd found it (symlinks resolved), so the loader finds it.
      install -D -m 0755 "$(readlink -f "$path")" "$root$path"
    done < <(resolved)
    # The user the image runs as; no shell exists in the image.
    mkdir -p "$root/etc"
    echo "nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin" > "$root/etc/passwd"
    echo "nonroot:x:65532:" > "$root/etc/group"
    echo "runtime-libs: staged $binary and $(echo "$found" | wc -l) libraries into $root"
    ;;
  *) echo "usage: runtime-libs.sh check|stage BINARY [ROOT]" >&2; exit 2 ;;
esac
