import type { HevcConfig } from './hevc-config.js';

/** general_profile_space 0..3 as the codec string writes it (ISO/IEC 14496-15 E.3). */
const PROFILE_SPACE = ['', 'A', 'B', 'C'];

/** The 32 bits of `n` in reverse order. */
function reverse32(n: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) out = (out * 2) | ((n >>> i) & 1);
  return out >>> 0;
}

/**
 * RFC 6381 codec string for H.265 (ISO/IEC 14496-15 E.3), e.g. `hvc1.1.6.L93.B0` (Main, level
 * 3.1): the sample entry, then profile space and profile idc, the compatibility flags in reverse
 * bit order as hex, tier (L/H) and level idc, then the constraint bytes as hex with trailing zero
 * bytes left out.
 */
export function hevcCodecString(
  c: Pick<
    HevcConfig,
    | 'generalProfileSpace'
    | 'generalProfileIdc'
    | 'generalProfileCompatibilityFlags'
    | 'generalTierFlag'
    | 'generalLevelIdc'
    | 'generalConstraintIndicatorFlags'
  >,
  sampleEntry = 'hvc1',
): string {
  const constraints = [...c.generalConstraintIndicatorFlags];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  return [
    sampleEntry,
    `${PROFILE_SPACE[c.generalProfileSpace] ?? ''}${c.generalProfileIdc}`,
    reverse32(c.generalProfileCompatibilityFlags).toString(16).toUpperCase(),
    `${c.generalTierFlag ? 'H' : 'L'}${c.generalLevelIdc}`,
    ...constraints.map((b) => b.toString(16).toUpperCase().padStart(2, '0')),
  ].join('.');
}
