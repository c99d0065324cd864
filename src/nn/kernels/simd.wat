;; The loops JS runs slowest in a training step (ReLU, its gradient mask, Adam, LayerNorm forward, backward and JVP),
;; four float32 lanes at a time. src/nn/kernels/simd.ts runs them; `node scripts/build-wasm.ts` assembles this
;; file with wabt into src/nn/kernels/simd-wasm.ts (the bytes, checked in, so nothing compiles at install time),
;; and test/kernels-simd.test.ts checks that the checked-in bytes are what this file assembles to.
;;
;; Every pointer is a byte offset into the module's memory, 16-byte aligned; every length `n` is a multiple of 4
;; (callers pad regions to whole lanes). Loops walk a byte offset in steps of 16 (one v128).
(module
  ;; relu(x, n): x ← max(x, 0) in place (max keeps NaN as NaN).
  (func $relu (param $x i32) (param $n i32)
    (local $i i32) (local $end i32) (local $zero v128)
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $x) (local.get $i))
          (f32x4.max (v128.load (i32.add (local.get $x) (local.get $i))) (local.get $zero)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; reluMask(dz, dy, y, n): dz ← dy where y > 0, else 0 (the ReLU gradient, given the forward output y).
  (func $reluMask (param $dz i32) (param $dy i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end i32) (local $zero v128)
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $dz) (local.get $i))
          (v128.and
            (v128.load (i32.add (local.get $dy) (local.get $i)))
            (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $i))) (local.get $zero))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; adam(p, g, m, v, n, β1, 1−β1, β2, 1−β2, stepSize, 1/√(1−β2ᵗ), ε, gradScale, decay), PyTorch's formulation:
  ;;   g' = g·gradScale;  m ← β1·m + (1−β1)·g';  v ← β2·v + (1−β2)·g'²
  ;;   p ← p·decay − stepSize·m / (√v·(1/√(1−β2ᵗ)) + ε)
  (func $adam (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $step f32) (param $invSqrtBc2 f32)
    (param $eps f32) (param $scale f32) (param $decay f32)
    (local $i i32) (local $end i32)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $STEP v128) (local $INVSQ v128)
    (local $EPS v128) (local $SCALE v128) (local $DECAY v128)
    (local $G v128) (local $M v128) (local $V v128)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $STEP (f32x4.splat (local.get $step)))
    (local.set $INVSQ (f32x4.splat (local.get $invSqrtBc2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $SCALE (f32x4.splat (local.get $scale)))
    (local.set $DECAY (f32x4.splat (local.get $decay)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $G (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $SCALE)))
        (local.set $M
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $B1))
            (f32x4.mul (local.get $G) (local.get $C1))))
        (local.set $V
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $B2))
            (f32x4.mul (f32x4.mul (local.get $G) (local.get $G)) (local.get $C2))))
        (v128.store (i32.add (local.get $m) (local.get $i)) (local.get $M))
        (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $V))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.sub
            (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $DECAY))
            (f32x4.div
              (f32x4.mul (local.get $M) (local.get $STEP))
              (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $V)) (local.get $INVSQ)) (local.get $EPS)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; layerNorm(x, γ, β, mean, rstd, rows, n, ε, lo) over `rows` rows of n floats, in place over x. Per row:
  ;;   μ = mean(x);  rstd = 1/√(mean((x − μ)²) + ε);  x ← max((x − μ)·rstd·γ + β, lo)   (lo = 0: ReLU, −∞: none)
  ;; and μ, rstd are stored (one float per row) for the backward pass. Sums are float32, four lanes wide.
  (func $layerNorm (param $x i32) (param $gamma i32) (param $beta i32) (param $mean i32) (param $rstd i32)
    (param $rows i32) (param $n i32) (param $eps f32) (param $lo f32)
    (local $r i32) (local $j i32) (local $rowBytes i32) (local $row i32) (local $rowFloat i32)
    (local $mu f32) (local $scale f32) (local $nf f32)
    (local $acc v128) (local $t v128) (local $muV v128) (local $scaleV v128) (local $loV v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $nf (f32.convert_i32_u (local.get $n)))
    (local.set $loV (f32x4.splat (local.get $lo)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $rowFloat (i32.shl (local.get $r) (i32.const 2)))
        ;; μ
        (local.set $acc (f32x4.splat (f32.const 0)))
        (local.set $j (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $row) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next)))
        (local.set $mu
          (f32.div
            (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
              (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))
            (local.get $nf)))
        (local.set $muV (f32x4.splat (local.get $mu)))
        ;; rstd
        (local.set $acc (f32x4.splat (f32.const 0)))
        (local.set $j (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $t (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $j))) (local.get $muV)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $t) (local.get $t))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next)))
        (local.set $scale
          (f32.div
            (f32.const 1)
            (f32.sqrt
              (f32.add
                (f32.div
                  (f32.add
                    (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                    (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))
                  (local.get $nf))
                (local.get $eps)))))
        (local.set $scaleV (f32x4.splat (local.get $scale)))
        (f32.store (i32.add (local.get $mean) (local.get $rowFloat)) (local.get $mu))
        (f32.store (i32.add (local.get $rstd) (local.get $rowFloat)) (local.get $scale))
        ;; y
        (local.set $j (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $row) (local.get $j))
              (f32x4.max
                (f32x4.add
                  (f32x4.mul
                    (f32x4.mul
                      (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $j))) (local.get $muV))
                      (local.get $scaleV))
                    (v128.load (i32.add (local.get $gamma) (local.get $j))))
                  (v128.load (i32.add (local.get $beta) (local.get $j))))
                (local.get $loV)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextRow))))

  ;; layerNormGrad(dy, y, x, γ, mean, rstd, dmean, drstd, dγ, dβ, rows, n, lo, all): the backward of layerNorm.
  ;; dx is written in place over dy; dγ and dβ are added into. Per row, with x̂ = (x − μ)·rstd:
  ;;   dz = dy where y > lo or `all` (an i32 lane mask: −1 every lane, 0 the ReLU mask);  g = dz·γ
  ;;   a = (dμ − rstd·Σg)/n;  b = (rstd·Σg·x̂ + drstd·rstd²)/n;  dx = rstd·g + a − x̂·(rstd·b)
  ;; where dμ, drstd are the gradients flowing into the stored mean and rstd.
  (func $layerNormGrad (param $dy i32) (param $y i32) (param $x i32) (param $gamma i32) (param $mean i32)
    (param $rstd i32) (param $dmean i32) (param $drstd i32) (param $dgamma i32) (param $dbeta i32)
    (param $rows i32) (param $n i32) (param $lo f32) (param $all i32)
    (local $r i32) (local $j i32) (local $rowBytes i32) (local $off i32) (local $rowFloat i32)
    (local $scale f32) (local $nf f32) (local $a f32) (local $b f32)
    (local $loV v128) (local $allV v128) (local $muV v128) (local $scaleV v128) (local $dz v128) (local $xhat v128)
    (local $g v128) (local $sumG v128) (local $sumGXhat v128) (local $aV v128) (local $scaleBV v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $nf (f32.convert_i32_u (local.get $n)))
    (local.set $loV (f32x4.splat (local.get $lo)))
    (local.set $allV (i32x4.splat (local.get $all)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $off (i32.mul (local.get $r) (local.get $rowBytes)))
        (local.set $rowFloat (i32.shl (local.get $r) (i32.const 2)))
        (local.set $muV (f32x4.splat (f32.load (i32.add (local.get $mean) (local.get $rowFloat)))))
        (local.set $scale (f32.load (i32.add (local.get $rstd) (local.get $rowFloat))))
        (local.set $scaleV (f32x4.splat (local.get $scale)))
        (local.set $sumG (f32x4.splat (f32.const 0)))
        (local.set $sumGXhat (f32x4.splat (f32.const 0)))
        (local.set $j (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $dz
              (v128.and
                (v128.load (i32.add (i32.add (local.get $dy) (local.get $off)) (local.get $j)))
                (v128.or
                  (f32x4.gt (v128.load (i32.add (i32.add (local.get $y) (local.get $off)) (local.get $j))) (local.get $loV))
                  (local.get $allV))))
            (local.set $xhat
              (f32x4.mul
                (f32x4.sub (v128.load (i32.add (i32.add (local.get $x) (local.get $off)) (local.get $j))) (local.get $muV))
                (local.get $scaleV)))
            (v128.store (i32.add (local.get $dbeta) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $dbeta) (local.get $j))) (local.get $dz)))
            (v128.store (i32.add (local.get $dgamma) (local.get $j))
              (f32x4.add
                (v128.load (i32.add (local.get $dgamma) (local.get $j)))
                (f32x4.mul (local.get $dz) (local.get $xhat))))
            (local.set $g (f32x4.mul (local.get $dz) (v128.load (i32.add (local.get $gamma) (local.get $j)))))
            (v128.store (i32.add (i32.add (local.get $dy) (local.get $off)) (local.get $j)) (local.get $g))
            (local.set $sumG (f32x4.add (local.get $sumG) (local.get $g)))
            (local.set $sumGXhat (f32x4.add (local.get $sumGXhat) (f32x4.mul (local.get $g) (local.get $xhat))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next)))
        (local.set $a
          (f32.div
            (f32.sub
              (f32.load (i32.add (local.get $dmean) (local.get $rowFloat)))
              (f32.mul
                (local.get $scale)
                (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $sumG)) (f32x4.extract_lane 1 (local.get $sumG)))
                  (f32.add (f32x4.extract_lane 2 (local.get $sumG)) (f32x4.extract_lane 3 (local.get $sumG))))))
            (local.get $nf)))
        (local.set $b
          (f32.div
            (f32.add
              (f32.mul
                (local.get $scale)
                (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $sumGXhat)) (f32x4.extract_lane 1 (local.get $sumGXhat)))
                  (f32.add (f32x4.extract_lane 2 (local.get $sumGXhat)) (f32x4.extract_lane 3 (local.get $sumGXhat)))))
              (f32.mul
                (f32.mul (f32.load (i32.add (local.get $drstd) (local.get $rowFloat))) (local.get $scale))
                (local.get $scale)))
            (local.get $nf)))
        (local.set $aV (f32x4.splat (local.get $a)))
        (local.set $scaleBV (f32x4.splat (f32.mul (local.get $scale) (local.get $b))))
        (local.set $j (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (v128.store (i32.add (i32.add (local.get $dy) (local.get $off)) (local.get $j))
              (f32x4.sub
                (f32x4.add
                  (f32x4.mul (v128.load (i32.add (i32.add (local.get $dy) (local.get $off)) (local.get $j))) (local.get $scaleV))
                  (local.get $aV))
                (f32x4.mul
                  (f32x4.sub (v128.load (i32.add (i32.add (local.get $x) (local.get $off)) (local.get $j))) (local.get $muV))
                  (local.get $scaleBV))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextRow))))

  ;; layerNormTangent(d, x, γ, y, mean, rstd, rows, n, lo, all): the forward-mode tangent of layerNorm (the JVP),
  ;; in place over the input tangent d. Per row, with the forward's μ and s = rstd:
  ;;   m = mean(d);  k = s²·(Σ(x − μ)d − m·Σ(x − μ))/n;  d ← γ·s·((d − m) − (x − μ)·k)
  ;; then masked where y ≤ lo unless `all` (an i32 lane mask: −1 every lane, 0 the ReLU mask), as layerNormGrad.
  (func $layerNormTangent (param $d i32) (param $x i32) (param $gamma i32) (param $y i32) (param $mean i32)
    (param $rstd i32) (param $rows i32) (param $n i32) (param $lo f32) (param $all i32)
    (local $r i32) (local $j i32) (local $rowBytes i32) (local $off i32) (local $rowFloat i32)
    (local $scale f32) (local $nf f32) (local $m f32) (local $k f32)
    (local $loV v128) (local $allV v128) (local $muV v128) (local $mV v128) (local $kV v128) (local $scaleV v128)
    (local $dv v128) (local $xc v128) (local $sumD v128) (local $sumC v128) (local $sumP v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $nf (f32.convert_i32_u (local.get $n)))
    (local.set $loV (f32x4.splat (local.get $lo)))
    (local.set $allV (i32x4.splat (local.get $all)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $off (i32.mul (local.get $r) (local.get $rowBytes)))
        (local.set $rowFloat (i32.shl (local.get $r) (i32.const 2)))
        (local.set $muV (f32x4.splat (f32.load (i32.add (local.get $mean) (local.get $rowFloat)))))
        (local.set $scale (f32.load (i32.add (local.get $rstd) (local.get $rowFloat))))
        (local.set $scaleV (f32x4.splat (local.get $scale)))
        (local.set $sumD (f32x4.splat (f32.const 0)))
        (local.set $sumC (f32x4.splat (f32.const 0)))
        (local.set $sumP (f32x4.splat (f32.const 0)))
        (local.set $j (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $dv (v128.load (i32.add (i32.add (local.get $d) (local.get $off)) (local.get $j))))
            (local.set $xc (f32x4.sub (v128.load (i32.add (i32.add (local.get $x) (local.get $off)) (local.get $j))) (local.get $muV)))
            (local.set $sumD (f32x4.add (local.get $sumD) (local.get $dv)))
            (local.set $sumC (f32x4.add (local.get $sumC) (local.get $xc)))
            (local.set $sumP (f32x4.add (local.get $sumP) (f32x4.mul (local.get $xc) (local.get $dv))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next)))
        (local.set $m
          (f32.div
            (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $sumD)) (f32x4.extract_lane 1 (local.get $sumD)))
              (f32.add (f32x4.extract_lane 2 (local.get $sumD)) (f32x4.extract_lane 3 (local.get $sumD))))
            (local.get $nf)))
        (local.set $k
          (f32.div
            (f32.mul
              (f32.mul (local.get $scale) (local.get $scale))
              (f32.sub
                (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $sumP)) (f32x4.extract_lane 1 (local.get $sumP)))
                  (f32.add (f32x4.extract_lane 2 (local.get $sumP)) (f32x4.extract_lane 3 (local.get $sumP))))
                (f32.mul
                  (local.get $m)
                  (f32.add
                    (f32.add (f32x4.extract_lane 0 (local.get $sumC)) (f32x4.extract_lane 1 (local.get $sumC)))
                    (f32.add (f32x4.extract_lane 2 (local.get $sumC)) (f32x4.extract_lane 3 (local.get $sumC)))))))
            (local.get $nf)))
        (local.set $mV (f32x4.splat (local.get $m)))
        (local.set $kV (f32x4.splat (local.get $k)))
        (local.set $j (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (v128.store (i32.add (i32.add (local.get $d) (local.get $off)) (local.get $j))
              (v128.and
                (f32x4.mul
                  (f32x4.mul (v128.load (i32.add (local.get $gamma) (local.get $j))) (local.get $scaleV))
                  (f32x4.sub
                    (f32x4.sub (v128.load (i32.add (i32.add (local.get $d) (local.get $off)) (local.get $j))) (local.get $mV))
                    (f32x4.mul
                      (f32x4.sub (v128.load (i32.add (i32.add (local.get $x) (local.get $off)) (local.get $j))) (local.get $muV))
                      (local.get $kV))))
                (v128.or
                  (f32x4.gt (v128.load (i32.add (i32.add (local.get $y) (local.get $off)) (local.get $j))) (local.get $loV))
                  (local.get $allV))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextRow))))

  (memory 1)
  (export "relu" (func $relu))
  (export "reluMask" (func $reluMask))
  (export "adam" (func $adam))
  (export "layerNorm" (func $layerNorm))
  (export "layerNormGrad" (func $layerNormGrad))
  (export "layerNormTangent" (func $layerNormTangent))
  (export "memory" (memory 0)))
