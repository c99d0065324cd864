#!/usr/bin/env bash
# Builds the sim-bridge controller peer (bridge-client.c, Cyclone DDS) next to the interop peers, reusing their
# idlc-generated ROS types (test/peers/build.sh). Rebuilds only when an input changed. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(bash "$here/build.sh" | tail -n 1)"
out="$dir/bridge_client"
hash="$(cat "$here/bridge-client.c" "$here/bridge-client-build.sh" "$dir/stamp" | sha256sum | cut -d' ' -f1)"
if [[ -x "$out" && "$(cat "$out.stamp" 2>/dev/null)" == "$hash" ]]; then
  echo "$out"
  exit 0
fi
gcc -O2 -Wall -I"$dir/cyclone" -o "$out" "$here/bridge-client.c" "$dir/cyclone/ros_types.c" -lddsc
echo "$hash" >"$out.stamp"
echo "$out"
