/**
 * Small seeded pseudo-random generator (sfc32 seeded through splitmix32), so that every spread,
 * noise draw and fault of a run is reproducible from one integer seed. Not cryptographic.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = Number.NaN;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = Number.NaN;
      return v;
    }
    let u = this.next();
    if (u < 1e-300) u = 1e-300;
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Normal with mean 0 and `sd`, redrawn until within ±`limit`·sd. */
  truncatedNormal(sd: number, limit = 3): number {
    if (sd <= 0) return 0;
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= limit) return z * sd;
    }
  }

  /** An independent stream derived from this seed and a label (spread, sensors, … stay separate). */
  static derive(seed: number, label: number): Prng {
    return new Prng((Math.imul(seed >>> 0, 0x27d4eb2d) ^ Math.imul(label + 1, 0x165667b1)) >>> 0);
  }
}
