/**
 * An MSB-first bit writer, the inverse of BitReader: used to build AudioSpecificConfig and ADTS
 * headers, whose fields do not fall on byte boundaries.
 */
export class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private used = 0;

  /** Writes the low n ≤ 32 bits of value, most significant first. */
  writeBits(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      const bit = Math.floor(value / 2 ** i) & 1;
      this.current = (this.current << 1) | bit;
      this.used += 1;
      if (this.used === 8) {
        this.bytes.push(this.current);
        this.current = 0;
        this.used = 0;
      }
    }
  }

  writeBit(bit: number | boolean): void {
    this.writeBits(bit ? 1 : 0, 1);
  }

  /** Unsigned Exp-Golomb ue(v) (H.264 9.1). */
  writeUE(value: number): void {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    this.writeBits(0, len);
    this.writeBits(v, len + 1);
  }

  /** The bytes written so far; a partial last byte is padded with zero bits. */
  toBuffer(): Buffer {
    const out = [...this.bytes];
    if (this.used > 0) out.push(this.current << (8 - this.used));
    return Buffer.from(out);
  }
}
