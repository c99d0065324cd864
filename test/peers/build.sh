#!/usr/bin/env bash
# Builds the DDS interop peers into .test-out/peers/ (ignored by git). Rebuilds only when a source changed:
# the stamp holds a hash of every input. Needs cyclonedds-dev + cyclonedds-tools (idlc), libfastrtps-dev +
# fastddsgen, gcc/g++ (scripts/setup.sh installs them). Prints the output directory on success.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${ONESTEP_PEERS_DIR:-$here/../../.test-out/peers}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

for tool in idlc fastddsgen gcc g++; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done

# one build at a time (test files building in parallel share the output directory)
exec 9>"$out/.lock"
flock 9

inputs=("$here/ros_types.idl" "$here/peer_common.h" "$here/cyclone_peer.c" "$here/fastdds_peer.cpp" "$here/build.sh")
hash="$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -x "$out/cyclone_peer" && -x "$out/fastdds_peer" && "$(cat "$out/stamp" 2>/dev/null)" == "$hash" ]]; then
  echo "$out"
  exit 0
fi

rm -f "$out/stamp"
mkdir -p "$out/cyclone" "$out/fastdds"
# generated type support, one directory per vendor
idlc -o "$out/cyclone" "$here/ros_types.idl"
(cd "$out/fastdds" && fastddsgen -replace "$here/ros_types.idl" >/dev/null)

gcc -O2 -Wall -I"$out/cyclone" -I"$here" -o "$out/cyclone_peer" "$here/cyclone_peer.c" "$out/cyclone/ros_types.c" -lddsc &
cyclone=$!
g++ -O2 -std=c++17 -I"$out/fastdds" -I"$here" -o "$out/fastdds_peer" "$here/fastdds_peer.cpp" \
  "$out/fastdds/ros_types.cxx" "$out/fastdds/ros_typesPubSubTypes.cxx" -lfastrtps -lfastcdr
wait "$cyclone"
echo "$hash" >"$out/stamp"
echo "$out"
