import type { AvcConfig } from './avc-config.js';

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * RFC 6381 3.3 codec string for H.264: 'avc1.' + profile, compatibility and level as two hex
 * digits each (e.g. avc1.64001f = High, level 3.1), used in HLS CODECS and MSE mime types.
 */
export function avcCodecString(config: Pick<AvcConfig, 'profile' | 'compatibility' | 'level'>): string {
  return `avc1.${hex2(config.profile)}${hex2(config.compatibility)}${hex2(config.level)}`;
}
