#!/bin/sh
# unpack.sh ARCHIVE OUT: a kube-apiserver of ../shared/envtest/ unpacked for the tests.
set -eu
mkdir -p "$(dirname "$2")"
xz -dc "$1" > "$2.tmp"
chmod +x "$2.tmp"
mv "$2.tmp" "$2"
