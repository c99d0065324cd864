// Reassembly of DATA_FRAG samples with bounded memory: a per-sample size cap, a cap on samples in flight per
// remote writer, and a byte budget shared by the whole participant.
import type { SequenceNumber } from '../ids/sequence-number.ts';

export class FragmentBudget {
  used = 0;
  constructor(
    /** Largest sample accepted, bytes. */
    readonly maxSampleSize: number,
    /** Bytes all partial samples of a participant may hold together. */
    readonly maxTotal: number,
  ) {}
}

interface Partial {
  sn: SequenceNumber;
  buffer: Uint8Array;
  fragmentSize: number;
  fragmentCount: number;
  received: Uint8Array; // one flag per fragment
  missing: number;
}

export const MAX_PARTIALS_PER_WRITER = 4;

export class FragmentAssembler {
  private readonly partials: Partial[] = [];

  constructor(private readonly budget: FragmentBudget) {}

  /**
   * Adds fragments [first, first+count) carried in bytes[start, end). Returns the complete sample when this
   * completed it, else undefined. Inconsistent fragments are dropped.
   */
  add(
    sn: SequenceNumber,
    sampleSize: number,
    fragmentSize: number,
    first: number,
    count: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): Uint8Array | undefined {
    if (sampleSize > this.budget.maxSampleSize || sampleSize === 0) return undefined;
    let p = this.partials.find((x) => x.sn === sn);
    if (!p) {
      if (this.budget.used + sampleSize > this.budget.maxTotal) {
        // make room from our own oldest sample first; if still over budget, drop this one
        if (this.partials.length) this.evict(0);
        if (this.budget.used + sampleSize > this.budget.maxTotal) return undefined;
      }
      if (this.partials.length >= MAX_PARTIALS_PER_WRITER) this.evict(0);
      const fragmentCount = Math.ceil(sampleSize / fragmentSize);
      p = {
        sn,
        buffer: new Uint8Array(sampleSize),
        fragmentSize,
        fragmentCount,
        received: new Uint8Array(fragmentCount),
        missing: fragmentCount,
      };
      this.budget.used += sampleSize;
      this.partials.push(p);
    }
    if (p.fragmentSize !== fragmentSize || p.buffer.length !== sampleSize) return undefined;
    let offset = start;
    for (let f = first; f < first + count && f <= p.fragmentCount; f++) {
      const at = (f - 1) * fragmentSize;
      const len = Math.min(fragmentSize, sampleSize - at);
      if (offset + len > end) break; // truncated submessage: keep what is whole
      if (!p.received[f - 1]) {
        p.buffer.set(bytes.subarray(offset, offset + len), at);
        p.received[f - 1] = 1;
        p.missing--;
      }
      offset += len;
    }
    if (p.missing > 0) return undefined;
    this.evict(this.partials.indexOf(p));
    return p.buffer;
  }

  /** Fragment numbers (1-based) still missing for sn up to lastFragment, or undefined if sn is unknown. */
  missingFragments(sn: SequenceNumber, lastFragment: number, out: (fragment: number) => boolean): boolean {
    const p = this.partials.find((x) => x.sn === sn);
    if (!p) return false;
    for (let f = 1; f <= Math.min(lastFragment, p.fragmentCount); f++) if (!p.received[f - 1] && !out(f)) break;
    return true;
  }

  has(sn: SequenceNumber): boolean {
    return this.partials.some((x) => x.sn === sn);
  }

  /** Drop partial samples below sn (delivered, gapped or abandoned). */
  dropBelow(sn: SequenceNumber): void {
    for (let i = this.partials.length - 1; i >= 0; i--) if (this.partials[i].sn < sn) this.evict(i);
  }

  clear(): void {
    while (this.partials.length) this.evict(0);
  }

  get inFlight(): number {
    return this.partials.length;
  }

  private evict(i: number): void {
    const [p] = this.partials.splice(i, 1);
    if (p) this.budget.used -= p.buffer.length;
  }
}
