/**
 * Tells an FLV file from an ISO BMFF (MP4/MOV) one by its first bytes, so a file with the wrong
 * extension still works and a file that is neither fails with a clear message before any
 * connection is made.
 */
export type ContainerKind = 'flv' | 'mp4';

/** Bytes `sniffContainer` wants (fewer are fine for a short file). */
export const SNIFF_BYTES = 12;

/**
 * Top-level box types a QuickTime/ISO BMFF file may start with (ISO/IEC 14496-12 4.3 ftyp should
 * come first, but QuickTime files may start with moov, mdat, free, skip, wide or pnot, and
 * segments with styp/sidx/moof).
 */
const FIRST_BOX_TYPES = new Set([
  'ftyp',
  'moov',
  'mdat',
  'free',
  'skip',
  'wide',
  'pnot',
  'styp',
  'sidx',
  'moof',
  'uuid',
]);

export function sniffContainer(head: Buffer): ContainerKind | undefined {
  // FLV spec E.2: Signature 'F' 'L' 'V', then Version 1.
  if (head.length >= 4 && head.toString('latin1', 0, 3) === 'FLV' && head[3] === 1) return 'flv';
  // ISO/IEC 14496-12 4.2: size (UI32) then a four-character type; size 0 or 1 (largesize) or >= 8.
  if (head.length >= 8) {
    const size = head.readUInt32BE(0);
    const type = head.toString('latin1', 4, 8);
    if ((size === 0 || size === 1 || size >= 8) && FIRST_BOX_TYPES.has(type)) return 'mp4';
  }
  return undefined;
}
