//! A bit-exact port of java.util.Random (48-bit LCG) on plain numbers, so the Nexmark generator reproduces the Java generators' draws.

const TWO_24 = 0x1000000;
const MASK_24 = 0xffffff;
/** The LCG multiplier 0x5DEECE66D, split at bit 24. */
const MUL_HI = 0x5de;
const MUL_LO = 0xece66d;
/** MUL_LO's 12-bit halves. */
const MUL_LO_1 = 0xece;
const MUL_LO_0 = 0x66d;
const ADDEND = 0xb;
const TWO_NEG_53 = 2 ** -53;

/**
 * java.util.Random with the same seeding, `next(bits)`, `nextInt`, `nextInt(bound)`, `nextLong`
 * and `nextDouble` as the JDK (17), so a seed yields the same numbers here and in Java.
 *
 * The 48-bit state is kept as two 24-bit halves and advanced with 32-bit integer operations, so
 * V8 keeps it in registers and no BigInt is needed on the hot path.
 */
export class JavaRandom {
  private hi = 0;
  private lo = 0;

  constructor(seed = 0) {
    this.setSeed(seed);
  }

  /**
   * `setSeed(seed)` of Java for a non-negative integer seed below 2^53 (the Nexmark event ids);
   * `mix` (below 2^48) is XOR-ed into the seed first, as Java's `new Random(seed ^ mix)` would.
   */
  setSeed(seed: number, mix = 0): void {
    const sLo = seed % TWO_24;
    const sHi = Math.floor(seed / TWO_24) % TWO_24;
    const mLo = mix % TWO_24;
    const mHi = Math.floor(mix / TWO_24) % TWO_24;
    this.lo = (sLo ^ mLo ^ MUL_LO) & MASK_24;
    this.hi = (sHi ^ mHi ^ MUL_HI) & MASK_24;
  }

  /** Advances the state once (seed = seed * 0x5DEECE66D + 0xB mod 2^48) in 32-bit integer arithmetic. */
  private step(): void {
    const lo = this.lo;
    // lo * 0xECE66D on 12-bit limbs, so every partial product fits an int.
    const l0 = lo & 0xfff;
    const l1 = lo >>> 12;
    const a0 = l0 * MUL_LO_0 + ADDEND;
    const a1 = l1 * MUL_LO_0 + l0 * MUL_LO_1 + (a0 >>> 12);
    const a2 = l1 * MUL_LO_1 + (a1 >>> 12); // the product's bits 24 and up
    this.lo = ((a1 & 0xfff) << 12) | (a0 & 0xfff);
    this.hi = (a2 + Math.imul(this.hi, MUL_LO) + Math.imul(lo, MUL_HI)) & MASK_24;
  }

  /** Java's protected `next(bits)`, 1 ≤ bits ≤ 32: the top `bits` bits of the advanced state, as a signed int. */
  next(bits: number): number {
    this.step();
    if (bits >= 24) return (this.hi << (bits - 24)) | (this.lo >>> (48 - bits));
    return this.hi >>> (24 - bits);
  }

  /** `nextInt()`: a signed 32-bit int. */
  nextInt(): number {
    this.step();
    return (this.hi << 8) | (this.lo >>> 16);
  }

  /** `nextInt(bound)`: uniform in [0, bound), with Java's rejection loop (bound ≤ 2^31 - 1). */
  nextIntBounded(bound: number): number {
    this.step();
    let r = (this.hi << 7) | (this.lo >>> 17);
    const m = bound - 1;
    if ((bound & m) === 0) return Math.floor((r * bound) / 2147483648);
    for (let u = r; ((u - (r = u % bound) + m) | 0) < 0; u = this.next(31));
    return r;
  }

  /** `nextLong()` as a BigInt (only needed for ranges of 2^31 and more). */
  nextLong(): bigint {
    const a = BigInt(this.next(32));
    const b = BigInt(this.next(32));
    return BigInt.asIntN(64, (a << 32n) + b);
  }

  /** `nextDouble()`: 53 random bits in [0, 1). */
  nextDouble(): number {
    return (this.next(26) * 134217728 + this.next(27)) * TWO_NEG_53;
  }
}
