/**
 * Sans-IO RTMP handshake (spec section 5.2): bytes in, bytes to send and "done" out. The server
 * side also speaks the Flash "complex" digest handshake (see handshake-digest.ts) when C1 carries
 * a valid digest, and falls back to the plain echo handshake otherwise.
 */
import { randomBytes } from 'node:crypto';
import { EstuaryError } from '../../errors.js';
import {
  DIGEST_SIZE,
  type DigestScheme,
  digestOf,
  FMS_KEY_SHORT,
  FP_KEY_SHORT,
  findDigestScheme,
  GENUINE_FMS_KEY,
  HANDSHAKE_SIZE,
  responseSignature,
  signPacket,
} from './handshake-digest.js';

/** Section 5.2.2: C0/S0 carry the version; 3 is plain RTMP. */
export const RTMP_VERSION = 3;
/** Version field of our digest S1 (bytes 4..7); FFmpeg validates S1 only when byte 4 is >= 3. */
const SERVER_VERSION = 0x04050001;

export interface HandshakeStep {
  /** Bytes to write to the peer now. */
  send?: Buffer;
  /** True once the handshake is complete; every later byte belongs to the chunk stream. */
  done: boolean;
  /** Bytes that arrived after the handshake's last packet (the first chunks). */
  remaining?: Buffer;
}

export interface HandshakeOptions {
  /** Source of random filler; injectable so tests are deterministic. */
  random?: (size: number) => Buffer;
}

/** Builds a step without undefined-valued keys, so callers (and deepEqual) see only what is set. */
function step(done: boolean, send?: Buffer, remaining?: Buffer): HandshakeStep {
  const out: HandshakeStep = { done };
  if (send) out.send = send;
  if (remaining && remaining.length > 0) out.remaining = remaining;
  return out;
}

function handshakeError(message: string): EstuaryError {
  return new EstuaryError('ERR_RTMP_HANDSHAKE', message);
}

/** Names what a wrong C0/S0 most likely is, so the log says more than "bad version". */
function describeBadVersion(bytes: Buffer, who: string): string {
  const head = bytes.subarray(0, 8).toString('latin1');
  // An upper-case ASCII letter first ("GET /", "POST ") is text, most likely an HTTP request.
  if (bytes[0] >= 0x41 && bytes[0] <= 0x5a) {
    const text = head.replace(/[^\x20-\x7e]/g, '.');
    return `${who} sent text "${text}…" (an HTTP request?) instead of an RTMP handshake (version byte 3)`;
  }
  if (bytes[0] === 6 || bytes[0] === 8) {
    return `${who} asked for RTMPE (encrypted RTMP, version byte ${bytes[0]}), which is not supported; use rtmp://`;
  }
  if (bytes[0] === 0x16) return `${who} started a TLS handshake; rtmps:// is not served on this port`;
  return `${who} sent RTMP version byte 0x${bytes[0].toString(16).padStart(2, '0')}; only version 3 is supported`;
}

/** Accumulates input until at least `n` bytes are held (handshake packets are at most 3073). */
class Accumulator {
  private buf: Buffer = Buffer.alloc(0);

  add(chunk: Buffer): Buffer {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return this.buf;
  }

  keep(rest: Buffer): void {
    this.buf = rest;
  }
}

export class RtmpServerHandshake {
  private state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  private readonly acc = new Accumulator();
  private readonly random: (size: number) => Buffer;
  /** 'simple', or the digest scheme the client used (known once C1 is in). */
  mode: 'simple' | 'complex' | undefined;

  constructor(opts: HandshakeOptions = {}) {
    this.random = opts.random ?? randomBytes;
  }

  feed(chunk: Buffer): HandshakeStep {
    if (this.state === 'done') return step(true, undefined, chunk);
    const buf = this.acc.add(chunk);
    let send: Buffer | undefined;
    let off = 0;
    if (this.state === 'c0c1') {
      if (buf.length >= 1 && buf[0] !== RTMP_VERSION) throw handshakeError(describeBadVersion(buf, 'client'));
      if (buf.length < 1 + HANDSHAKE_SIZE) return { done: false };
      send = this.answer(buf.subarray(1, 1 + HANDSHAKE_SIZE));
      off = 1 + HANDSHAKE_SIZE;
      this.state = 'c2';
    }
    // C2 is not validated: FFmpeg, OBS and Flash send different things and real servers accept all.
    if (buf.length - off < HANDSHAKE_SIZE) {
      this.acc.keep(Buffer.from(buf.subarray(off)));
      return step(false, send);
    }
    this.state = 'done';
    this.acc.keep(Buffer.alloc(0));
    return step(true, send, buf.subarray(off + HANDSHAKE_SIZE));
  }

  /** Builds S0+S1+S2 for the given C1. */
  private answer(c1: Buffer): Buffer {
    // Flash-style clients put a non-zero version in C1 bytes 4..7 (section 5.2.3 says zero).
    const scheme = c1.readUInt32BE(4) !== 0 ? findDigestScheme(c1, FP_KEY_SHORT) : undefined;
    const out = Buffer.alloc(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    this.random(HANDSHAKE_SIZE - 8).copy(s1, 8); // time (0..3) and zero/version (4..7) stay 0
    if (scheme === undefined) {
      this.mode = 'simple';
      c1.copy(s2); // section 5.2.4: S2 echoes C1
      return out;
    }
    this.mode = 'complex';
    s1.writeUInt32BE(SERVER_VERSION, 4);
    signPacket(s1, scheme, FMS_KEY_SHORT);
    this.random(HANDSHAKE_SIZE).copy(s2);
    const signature = responseSignature(s2, GENUINE_FMS_KEY, digestOf(c1, scheme as DigestScheme));
    signature.copy(s2, HANDSHAKE_SIZE - DIGEST_SIZE);
    return out;
  }
}

export class RtmpClientHandshake {
  private state: 'start' | 's0s1s2' | 'done' = 'start';
  private readonly acc = new Accumulator();
  private readonly random: (size: number) => Buffer;

  constructor(opts: HandshakeOptions = {}) {
    this.random = opts.random ?? randomBytes;
  }

  /** C0 + C1 of the simple handshake: time 0, zero field, random filler (section 5.2.3). */
  start(): Buffer {
    if (this.state !== 'start') throw handshakeError('client handshake already started');
    this.state = 's0s1s2';
    const out = Buffer.alloc(1 + HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    this.random(HANDSHAKE_SIZE - 8).copy(out, 9);
    return out;
  }

  feed(chunk: Buffer): HandshakeStep {
    if (this.state === 'start') throw handshakeError('client handshake fed before start()');
    if (this.state === 'done') return step(true, undefined, chunk);
    const buf = this.acc.add(chunk);
    if (buf.length >= 1 && buf[0] !== RTMP_VERSION) throw handshakeError(describeBadVersion(buf, 'server'));
    if (buf.length < 1 + 2 * HANDSHAKE_SIZE) return { done: false };
    this.state = 'done';
    this.acc.keep(Buffer.alloc(0));
    // C2 echoes S1 (section 5.2.4); S2 is not checked, as a digest server need not echo C1.
    const send = Buffer.from(buf.subarray(1, 1 + HANDSHAKE_SIZE));
    return step(true, send, buf.subarray(1 + 2 * HANDSHAKE_SIZE));
  }
}
