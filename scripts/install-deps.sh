#!/usr/bin/env bash
# Installs the Debian 12 packages podmortem needs to build, test and benchmark.
# Idempotent: apt-get runs only when a package is missing, so a second call costs
# a few dpkg queries and nothing else.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost-dev libboost-system-dev libssl-dev
  libcpprest-dev nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev
  openssl curl jq prometheus wrk nginx-light
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
