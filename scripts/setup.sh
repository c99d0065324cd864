#!/usr/bin/env bash
# Installs what onestep needs on Debian 12 / Ubuntu with Node 20: system libraries, then the npm packages.
#   OpenBLAS        fast TF.js training kernels (sgemm through koffi)
#   Cyclone DDS, Fast DDS, fastddsgen, iproute2
#                   real DDS peers for the ROS 2 interop tests (run in a private network namespace)
#   libmujoco       native MuJoCo, only for the sim speed benchmark against mujoco-js
#   numpy, h5py     the dataset tests write .npz and Minari-shaped HDF5 files with the real Python writers
#   chromium        headless browser that renders `onestep profile`'s HTML report in its test
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas0-pthread cyclonedds-dev cyclonedds-tools libfastrtps-dev libfastcdr-dev fastddsgen
          iproute2 util-linux g++ cmake make libmujoco-dev libmujoco-samples python3-numpy python3-h5py
          chromium)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "setup: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node's postinstall would download CUDA binaries (the CPU runtime ships in the package). npm >= 11.10
# skips it by package.json's allowScripts ("onnxruntime-node": false); older npm runs it, and the script itself
# honours ONNXRUNTIME_NODE_INSTALL=skip. (An .npmrc key would make every npm and npx call warn "Unknown project config".)
# tfjs-node(-gpu) and rclnodejs are optional peer dependencies: npm does not install them (add them where they build).
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
