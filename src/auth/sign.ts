import { createHmac, timingSafeEqual } from 'node:crypto';
import { EstuaryError } from '../errors.js';

/**
 * Signed publish URLs (`--auth-secret`): `?sign={expires}-{hmac}` where `expires` is a Unix time
 * in seconds and `hmac` is hex HMAC-SHA256(secret, "/{app}/{stream}:{expires}"). The stream
 * path is inside the signature, so a signature for one name does not publish another; the
 * expiry bounds how long a leaked URL is good for.
 */
export function signPath(path: string, secret: string, expiresUnix: number): string {
  return `${expiresUnix}-${mac(path, secret, expiresUnix)}`;
}

/** Throws ERR_AUTH_REQUIRED when there is no signature, ERR_AUTH (saying why) unless `query` carries a valid, unexpired signature for `path`. */
export function verifySignedPath(
  path: string,
  query: string,
  secret: string,
  nowUnix: number,
  action: 'publish' | 'play' = 'publish',
): void {
  const sign = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query).get('sign');
  if (!sign) {
    const doing = action === 'publish' ? 'publishing' : 'playing';
    throw new EstuaryError(
      'ERR_AUTH_REQUIRED',
      `${doing} ${path} needs a signed URL (?sign=…; see estuary sign)`,
    );
  }
  // Only the canonical form `estuary sign` prints: decimal seconds without leading zeros (else
  // "0001800000000" and "1800000000" would be two spellings of one signature), lowercase hex.
  const m = /^(0|[1-9]\d{0,11})-([0-9a-f]{64})$/.exec(sign);
  if (!m) throw new EstuaryError('ERR_AUTH', `the signature for ${path} is malformed`);
  const expires = Number(m[1]);
  if (expires < nowUnix) throw new EstuaryError('ERR_AUTH', `the signature for ${path} expired`);
  const want = Buffer.from(mac(path, secret, expires), 'hex');
  if (!timingSafeEqual(want, Buffer.from(m[2]!, 'hex'))) {
    throw new EstuaryError('ERR_AUTH', `the signature for ${path} is wrong`);
  }
}

function mac(path: string, secret: string, expiresUnix: number): string {
  return createHmac('sha256', secret).update(`${path}:${expiresUnix}`).digest('hex');
}
