import { EstuaryError } from '../errors.js';

/**
 * A bounds-checked, MSB-first bit reader over a Buffer (the order of H.264/H.265 syntax elements
 * and of the MPEG-4 Audio bitstream). Every read past the end throws
 * EstuaryError('ERR_CODEC_CONFIG'), so a truncated SPS or AudioSpecificConfig fails cleanly.
 */
export class BitReader {
  private readonly buf: Buffer;
  /** Position in bits from the start of `buf`. */
  private pos = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }

  get bitPosition(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (n > this.bitsLeft) {
      throw new EstuaryError(
        'ERR_CODEC_CONFIG',
        `bitstream truncated: need ${n} bits at bit ${this.pos}, ${this.bitsLeft} left`,
      );
    }
  }

  readBit(): number {
    this.need(1);
    const byte = this.buf[this.pos >> 3];
    const bit = (byte >> (7 - (this.pos & 7))) & 1;
    this.pos += 1;
    return bit;
  }

  readFlag(): boolean {
    return this.readBit() === 1;
  }

  /** Reads n ≤ 32 bits as an unsigned integer. */
  readBits(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > 32) {
      throw new EstuaryError('ERR_CODEC_CONFIG', `readBits: n must be 0..32, got ${n}`);
    }
    this.need(n);
    let value = 0;
    for (let left = n; left > 0; ) {
      const bitInByte = this.pos & 7;
      const take = Math.min(8 - bitInByte, left);
      const byte = this.buf[this.pos >> 3];
      const bits = (byte >> (8 - bitInByte - take)) & ((1 << take) - 1);
      // Multiplication, not <<, so 32-bit values stay positive.
      value = value * (1 << take) + bits;
      this.pos += take;
      left -= take;
    }
    return value;
  }

  skipBits(n: number): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new EstuaryError('ERR_CODEC_CONFIG', `skipBits: n must be a non-negative integer, got ${n}`);
    }
    this.need(n);
    this.pos += n;
  }

  /**
   * Unsigned Exp-Golomb ue(v) (H.264 9.1): leadingZeroBits zeros, a 1, then leadingZeroBits bits.
   * More than 31 leading zeros cannot encode a value any syntax element allows, so it is an error
   * (and stops a run of zero bytes from being read as a huge number).
   */
  readUE(): number {
    let zeros = 0;
    while (this.readBit() === 0) {
      zeros += 1;
      if (zeros > 31) throw new EstuaryError('ERR_CODEC_CONFIG', 'Exp-Golomb code longer than 32 bits');
    }
    if (zeros === 0) return 0;
    return 2 ** zeros - 1 + this.readBits(zeros);
  }

  /** Signed Exp-Golomb se(v) (H.264 9.1.1): k maps to (-1)^(k+1) * ceil(k / 2). */
  readSE(): number {
    const k = this.readUE();
    if (k === 0) return 0; // not -0
    const magnitude = Math.ceil(k / 2);
    return k % 2 === 1 ? magnitude : -magnitude;
  }
}
