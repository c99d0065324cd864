#!/usr/bin/env bash
# Builds the service interop peers (service_peer_cyclone.c speaking rmw_cyclonedds's request header,
# service_peer_fastdds.cpp speaking rmw_fastrtps's sample identities) next to the other peers (.test-out/peers,
# test/peers/build.sh). Rebuilds only when an input changed. Prints the output directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(bash "$here/build.sh" | tail -n 1)"
exec 9>"$out/.service-lock"
flock 9
inputs=("$here/service_types.idl" "$here/service_peer_common.h" "$here/service_peer_cyclone.c" "$here/service_peer_fastdds.cpp" "$here/service-build.sh")
hash="$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -x "$out/service_peer_cyclone" && -x "$out/service_peer_fastdds" && "$(cat "$out/service.stamp" 2>/dev/null)" == "$hash" ]]; then
  echo "$out"
  exit 0
fi
rm -f "$out/service.stamp"
mkdir -p "$out/service-cyclone" "$out/service-fastdds"
# the Cyclone types carry the request header members (service_types.idl, CYCLONE_REQUEST_HEADER)
idlc -DCYCLONE_REQUEST_HEADER -o "$out/service-cyclone" "$here/service_types.idl"
(cd "$out/service-fastdds" && fastddsgen -replace "$here/service_types.idl" >/dev/null)
gcc -O2 -Wall -I"$out/service-cyclone" -I"$here" -o "$out/service_peer_cyclone" "$here/service_peer_cyclone.c" \
  "$out/service-cyclone/service_types.c" -lddsc &
cyclone=$!
g++ -O2 -std=c++17 -I"$out/service-fastdds" -I"$here" -o "$out/service_peer_fastdds" "$here/service_peer_fastdds.cpp" \
  "$out/service-fastdds/service_types.cxx" "$out/service-fastdds/service_typesPubSubTypes.cxx" -lfastrtps -lfastcdr
wait "$cyclone"
echo "$hash" >"$out/service.stamp"
echo "$out"
