// Seeded Gaussian noise for the policy runtime: xoshiro128** (32-bit integer ops, fast in V8) seeded through
// splitmix32, with Box–Muller pairs. `fillNormal` writes into a caller-owned buffer and allocates nothing.

/** splitmix32: spreads one 32-bit seed over the generator state so nearby seeds give unrelated streams. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class GaussianNoise {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`noise seed must be a finite number (got ${seed})`);
    const st = { s: Math.trunc(seed) | 0 };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next uniform 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1): never 0, so log() in Box–Muller stays finite. */
  nextUniform(): number {
    return (this.nextUint32() + 0.5) * 2.3283064365386963e-10;
  }

  nextNormal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextUniform()));
    const theta = 6.283185307179586 * this.nextUniform();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Fills `out` with i.i.d. N(0, 1) samples. Allocates nothing. */
  fillNormal(out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.nextNormal();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
