#!/bin/bash
# The arm_push model's recipe: behaviour cloning of the scripted controller with DAgger (Ross et al., 2011).
#   round 0  1000 DART episodes of the scripted controller (noise σ 0.03 executed, clean labels), Gaussian BC on them
#   round i  the latest policy drives 200 episodes (sampled, as served), the scripted controller labels every state
#            it reached (`collect --label scripted`), the rounds are merged, a fresh policy is trained on the merge
# Rounds 1–8 train 256×256 for 20k updates; a 512×512, 40k-update policy on the round-5 aggregate did better
# (76 % vs 62 %), so rounds 9+ train 512×512 for 40k updates, starting from that policy.
# Every file lands in OUT (default runs/dagger/arm_push-gaussian-bc); finished steps are skipped on a rerun, so an
# interrupted recipe resumes. Usage: bash scripts/dagger-arm_push.sh [OUT] [LAST_ROUND (default 10, the shipped model)]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/dagger/arm_push-gaussian-bc}
last=${2:-10}
onestep() { node bin/onestep.js "$@"; }
mkdir -p "$out"
[ -f "$out/aggregate-0.npz" ] || onestep collect --task arm_push --policy scripted --episodes 1000 --noise 0.03 --seed 100 --out "$out/aggregate-0.npz" --progress none
train() { # dataset, out folder, widths, updates, evaluation interval (as the shipped runs were made)
  [ -f "$2/policy.onnx" ] || onestep train --algo gaussian-bc --dataset "$1" --offline-steps "$4" --hidden "$3" --seed 0 --eval-every "$5" --eval-episodes 20 --out "$2" --progress lines > "$2.log" 2>&1
}
train "$out/aggregate-0.npz" "$out/round-0" 256,256 20000 2500
model=$out/round-0/policy.onnx
for i in $(seq 1 "$last"); do
  [ -f "$out/aggregate-$i.npz" ] || {
    onestep collect --task arm_push --policy "$model" --label scripted --episodes 200 --seed $((20000 + 1000 * i)) --out "$out/learner-$i.npz" --progress none
    onestep dataset merge "$out/aggregate-$((i - 1)).npz" "$out/learner-$i.npz" --out "$out/aggregate-$i.npz"
  }
  if [ "$i" -le 8 ]; then train "$out/aggregate-$i.npz" "$out/round-$i" 256,256 20000 5000; else train "$out/aggregate-$i.npz" "$out/round-$i" 512,512 40000 10000; fi
  model=$out/round-$i/policy.onnx
  if [ "$i" -eq 5 ]; then train "$out/aggregate-5.npz" "$out/round-5-512" 512,512 40000 10000; fi
  if [ "$i" -eq 8 ]; then model=$out/round-5-512/policy.onnx; fi
done
echo "final policy: $model"
