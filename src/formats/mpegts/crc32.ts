/**
 * CRC-32 of MPEG-2 PSI sections (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value
 * 0xFFFFFFFF, bits processed most-significant first (no reflection) and no final XOR. This is
 * not the zlib/Ethernet CRC-32, which reflects its bits.
 *
 * A decoder checks a section by running the CRC over the whole section including its CRC_32
 * field: the result is 0 for an intact section (Annex A.1).
 */

const POLY = 0x04c11db7;

/** 256-entry table for the MSB-first byte-at-a-time algorithm, built once at module load. */
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80000000 ? (crc << 1) ^ POLY : crc << 1;
    }
    table[i] = crc >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 of `buf[start, end)`. */
export function crc32Mpeg2(buf: Buffer, start = 0, end = buf.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ buf[i]) & 0xff]) >>> 0;
  }
  return crc >>> 0;
}
