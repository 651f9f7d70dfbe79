/**
 * The "complex" (digest) RTMP handshake that Flash Player introduced and that the spec does not
 * describe; FFmpeg, librtmp, nginx-rtmp and SRS all implement it the same way. Flash Player and
 * some encoders refuse a server whose S1/S2 do not carry the expected HMAC-SHA256 digests.
 *
 * A 1536-byte C1/S1 is: time (4) | version (4) | 764-byte block | 764-byte block. One block holds
 * a 32-byte digest at an offset derived from its first 4 bytes:
 * - scheme 0 (key block first): digest block at 772, digest at 776 + sum(bytes 772..775) % 728;
 * - scheme 1 (digest block first): digest block at 8, digest at 12 + sum(bytes 8..11) % 728.
 * 728 = 764 - 4 (offset bytes) - 32 (digest). Using node:crypto here is pure computation.
 */
import { createHmac } from 'node:crypto';

export const HANDSHAKE_SIZE = 1536;
export const DIGEST_SIZE = 32;

/** The 32 constant bytes both Genuine keys end with. */
const KEY_TAIL = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
/** "Genuine Adobe Flash Media Server 001" + tail (68 bytes); S1 digests use the first 36. */
export const GENUINE_FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001'), KEY_TAIL]);
/** "Genuine Adobe Flash Player 001" + tail (62 bytes); C1 digests use the first 30. */
export const GENUINE_FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001'), KEY_TAIL]);
export const FMS_KEY_SHORT = GENUINE_FMS_KEY.subarray(0, 36);
export const FP_KEY_SHORT = GENUINE_FP_KEY.subarray(0, 30);

export type DigestScheme = 0 | 1;

export function hmacSha256(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** Where the 32-byte digest sits in a 1536-byte C1/S1 for the given scheme. */
export function digestOffset(packet: Buffer, scheme: DigestScheme): number {
  const base = scheme === 0 ? 772 : 8;
  const sum = packet[base] + packet[base + 1] + packet[base + 2] + packet[base + 3];
  return base + 4 + (sum % 728);
}

/** HMAC over the packet with its 32 digest bytes left out. */
export function packetDigest(packet: Buffer, offset: number, key: Buffer): Buffer {
  return hmacSha256(key, packet.subarray(0, offset), packet.subarray(offset + DIGEST_SIZE));
}

/** Returns the scheme whose digest validates against `key`, trying 0 then 1 (as FFmpeg does). */
export function findDigestScheme(packet: Buffer, key: Buffer): DigestScheme | undefined {
  for (const scheme of [0, 1] as const) {
    const off = digestOffset(packet, scheme);
    if (packetDigest(packet, off, key).equals(packet.subarray(off, off + DIGEST_SIZE))) return scheme;
  }
  return undefined;
}

/** Writes the digest into `packet` in place (for S1, and for a Flash-like C1 in tests/clients). */
export function signPacket(packet: Buffer, scheme: DigestScheme, key: Buffer): Buffer {
  const off = digestOffset(packet, scheme);
  packetDigest(packet, off, key).copy(packet, off);
  return packet;
}

/**
 * The last 32 bytes of S2 (or C2): HMAC keyed with HMAC(fullKey, peerDigest) over the first 1504
 * bytes, where peerDigest is the digest found in the peer's C1 (or S1).
 */
export function responseSignature(response: Buffer, fullKey: Buffer, peerDigest: Buffer): Buffer {
  const key = hmacSha256(fullKey, peerDigest);
  return hmacSha256(key, response.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE));
}

/** Extracts the digest bytes of a packet signed with `scheme`. */
export function digestOf(packet: Buffer, scheme: DigestScheme): Buffer {
  const off = digestOffset(packet, scheme);
  return packet.subarray(off, off + DIGEST_SIZE);
}
