#!/usr/bin/env bash
# Reproduces docs/BENCHMARKS.md "## Simulation speed": mujoco-js vs native MuJoCo (mujoco-testspeed from
# libmujoco-samples) on the task MJCF files, environment steps/s, and random / scripted return floors.
# Usage: bash bench/sim-speed.sh [--repeats 3] [--episodes 50] [--tasks pendulum,arm_reach]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mujoco-testspeed >/dev/null || { echo "sim-speed: mujoco-testspeed not found; run scripts/setup.sh (libmujoco-samples)" >&2; exit 1; }
exec node --import tsx bench/sim-speed.ts "$@"
