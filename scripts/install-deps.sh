#!/usr/bin/env bash
# Installs the Debian 12 packages podmortem needs to build, test and benchmark, and the
# npm packages of the schema tests (tests/schema/).
# Idempotent: apt-get runs only when a package is missing and npm only when the lock file
# changed, so a second call costs a few dpkg queries and nothing else.
set -euo pipefail

# --build-only: what building the binary needs and nothing else (the image's build stage).
build_only=false
[[ "${1:-}" == "--build-only" ]] && build_only=true

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost-dev libboost-system-dev libssl-dev
  libcpprest-dev nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev libyaml-dev
  prometheus-cpp-dev libnats-dev
)
if ! $build_only; then
  packages+=(libgtest-dev libgmock-dev openssl curl jq yq prometheus wrk nginx-light)
  # bench/soak.sh draws its plot with gnuplot.
  packages+=(gnuplot-nox)
  # make fuzz: clang with libFuzzer and the sanitizer runtimes.
  packages+=(clang libclang-rt-14-dev)
  # The replica tests run real NATS servers (JetStream built in).
  packages+=(nats-server)
  # The syslog findings sink's tests: a real rsyslogd receiving over TLS (its openssl driver).
  packages+=(rsyslog rsyslog-openssl)
  # The kube-apiserver tests: etcd for the real API server, xz to unpack its binaries.
  packages+=(etcd-server xz-utils)
  # The report tests load the responder's page in a real headless Chromium.
  packages+=(chromium)
  # node and npm run the schema tests; a node that was installed some other way is kept.
  if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
  fi
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

$build_only && exit 0

# The npm packages of the schema tests, of the S3 tests (a real S3-compatible server) and of the
# browser tests (puppeteer-core, driving Debian's chromium; it downloads no browser),
# exactly as their package-lock.json pins them. npm writes node_modules/.package-lock.json last, so
# it marks an install that finished; reinstall when it is missing or older than the lock file.
for folder in tests/schema tests/s3 tests/browser; do
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../$folder" && pwd)"
  installed="$dir/node_modules/.package-lock.json"
  if [[ ! -f "$installed" || "$dir/package-lock.json" -nt "$installed" ]]; then
    echo "install-deps: installing the npm packages of $folder" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
    touch "$installed"
  fi
done
