// The one seeded random number generator every part of onestep uses: training (networks, exploration, replay
// sampling), the simulator's reset distributions and random policies, and the policy runtime's action noise.
// xoshiro128** (32-bit integer operations, fast in V8) seeded through splitmix32, with Box–Muller normals drawn
// in pairs. The whole state (four words and the cached second normal) is plain data, so a resumed training run
// or a restarted stream draws exactly the numbers an uninterrupted one would.
//
// Streams: training's is the generator onestep has always trained with (checkpoints' RngState is unchanged).
// The simulator (formerly sfc32) and the runtime's noise (formerly its own xoshiro seeding) moved onto this one
// generator at the same time, so an evaluation with a given --seed draws different episodes and noise than it
// did before that change (docs/training.md, "Seeds and reproducibility").

/** A generator's complete state: restore it with `setState` to continue the stream exactly. */
export interface RngState {
  s: [number, number, number, number];
  /** The second normal of the last Box–Muller pair when it has not been drawn yet. */
  spare: number | null;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.seed(seed);
  }

  /** Restarts the stream: the same seed always gives the same numbers. Seeds are integers (taken modulo 2³²). */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number (got ${seed})`);
    // splitmix32 spreads a small integer seed over the 128-bit state; s3 is odd, so the state is never all zero
    let x = (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
    this.hasSpare = false;
    this.spare = 0;
  }

  /** Uniform 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
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

  /** Uniform in [lo, hi) (default [0, 1)). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * (this.nextU32() / 4294967296);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller; the pair's second value is returned by the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.uniform();
    while (u <= 1e-12) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with normals of standard deviation `std`. Allocates nothing. */
  fillNormal(out: Float32Array, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = std * this.normal();
    return out;
  }

  /** Fills `out` with uniforms in [lo, hi). Allocates nothing. */
  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** The complete state, as plain JSON-able data. */
  getState(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.hasSpare ? this.spare : null };
  }

  /** Continues from a state `getState` returned (by this generator or another). */
  setState(state: RngState): void {
    if (!Array.isArray(state?.s) || state.s.length !== 4 || !state.s.every((w) => Number.isInteger(w))) {
      throw new RangeError(`RNG state must hold four 32-bit words (got ${JSON.stringify(state?.s)})`);
    }
    if ((state.s[0] | state.s[1] | state.s[2] | state.s[3]) === 0) throw new RangeError('RNG state must not be all zero (xoshiro128** would stay at zero)');
    [this.s0, this.s1, this.s2, this.s3] = state.s.map((v) => v >>> 0) as [number, number, number, number];
    this.hasSpare = state.spare !== null && state.spare !== undefined;
    this.spare = state.spare ?? 0;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
