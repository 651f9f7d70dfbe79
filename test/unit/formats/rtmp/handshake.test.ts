import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import {
  type HandshakeStep,
  RtmpClientHandshake,
  RtmpServerHandshake,
} from '../../../../src/formats/rtmp/handshake.js';
import { oneByteAtATime, prng, randomSplits } from './test-helpers.js';

const FIXTURES = new URL('../../../fixtures/rtmp/', import.meta.url);
const SIZE = 1536;
// Independent copies of the keys (not imported), so a wrong constant in src cannot agree with itself.
const TAIL = 'f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae';
const FMS_KEY = Buffer.concat([
  Buffer.from('Genuine Adobe Flash Media Server 001'),
  Buffer.from(TAIL, 'hex'),
]);
const FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001'), Buffer.from(TAIL, 'hex')]);

const hmac = (key: Buffer, ...data: Buffer[]) => {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
};

/** A deterministic "random" source so handshakes can be compared byte for byte. */
function fakeRandom(seed: number): (n: number) => Buffer {
  const rnd = prng(seed);
  return (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
}

function digestPos(p: Buffer, scheme: 0 | 1): number {
  const base = scheme === 0 ? 772 : 8;
  return base + 4 + ((p[base] + p[base + 1] + p[base + 2] + p[base + 3]) % 728);
}

/** Builds C0+C1 the way Flash Player / FFmpeg do: version set, digest keyed with the FP key. */
function flashC0C1(scheme: 0 | 1, seed = 7): Buffer {
  const c1 = fakeRandom(seed)(SIZE);
  c1.writeUInt32BE(0, 0);
  c1.writeUInt32BE(0x80000702, 4);
  const pos = digestPos(c1, scheme);
  hmac(FP_KEY.subarray(0, 30), c1.subarray(0, pos), c1.subarray(pos + 32)).copy(c1, pos);
  return Buffer.concat([Buffer.from([3]), c1]);
}

function simpleC0C1(seed = 3): Buffer {
  const c1 = fakeRandom(seed)(SIZE);
  c1.fill(0, 0, 8);
  return Buffer.concat([Buffer.from([3]), c1]);
}

function feedAll(hs: RtmpServerHandshake, pieces: Buffer[]): { sent: Buffer; last: HandshakeStep } {
  const sent: Buffer[] = [];
  let last: HandshakeStep = { done: false };
  for (const p of pieces) {
    last = hs.feed(p);
    if (last.send) sent.push(last.send);
  }
  return { sent: Buffer.concat(sent), last };
}

test('simple handshake: S0 S1 S2 once C0C1 is in, S2 echoes C1, done after C2', () => {
  const c0c1 = simpleC0C1();
  const hs = new RtmpServerHandshake({ random: fakeRandom(1) });
  assert.deepEqual(hs.feed(c0c1.subarray(0, 1000)), { done: false });
  const step = hs.feed(c0c1.subarray(1000));
  assert.equal(hs.mode, 'simple');
  assert.equal(step.done, false);
  assert.equal(step.send?.length, 1 + 2 * SIZE);
  assert.equal(step.send?.[0], 3);
  assert.deepEqual(step.send?.subarray(1, 9), Buffer.alloc(8), 'S1 time and zero fields');
  assert.deepEqual(step.send?.subarray(1 + SIZE), c0c1.subarray(1), 'S2 echoes C1');
  const c2 = Buffer.alloc(SIZE, 0x55);
  assert.deepEqual(hs.feed(c2.subarray(0, 10)), { done: false });
  assert.deepEqual(hs.feed(Buffer.concat([c2.subarray(10), Buffer.from('chunk')])), {
    done: true,
    remaining: Buffer.from('chunk'),
  });
});

test('any split of C0 C1 C2 + first chunks gives the same answer and remaining bytes', () => {
  const input = Buffer.concat([simpleC0C1(), Buffer.alloc(SIZE, 1), Buffer.from([0x03, 0, 0, 0])]);
  const expected = feedAll(new RtmpServerHandshake({ random: fakeRandom(2) }), [input]);
  assert.equal(expected.last.done, true);
  assert.deepEqual(expected.last.remaining, Buffer.from([0x03, 0, 0, 0]));
  const splits = [
    oneByteAtATime(input),
    randomSplits(input, prng(5), 700),
    randomSplits(input, prng(6), 3000),
  ];
  for (const pieces of splits) {
    const hs = new RtmpServerHandshake({ random: fakeRandom(2) });
    const sent: Buffer[] = [];
    const rest: Buffer[] = [];
    let done = false;
    for (const p of pieces) {
      const step = hs.feed(p);
      if (step.send) sent.push(step.send);
      if (done || step.done) rest.push(step.remaining ?? Buffer.alloc(0));
      done ||= step.done;
    }
    assert.ok(done);
    assert.deepEqual(Buffer.concat(sent), expected.sent);
    assert.deepEqual(Buffer.concat(rest), Buffer.from([0x03, 0, 0, 0]));
  }
});

for (const scheme of [0, 1] as const) {
  test(`complex handshake, digest scheme ${scheme}: S1 digest and S2 signature validate`, () => {
    const c0c1 = flashC0C1(scheme);
    const hs = new RtmpServerHandshake({ random: fakeRandom(9) });
    const step = hs.feed(c0c1);
    assert.equal(hs.mode, 'complex');
    const out = step.send!;
    assert.equal(out.length, 1 + 2 * SIZE);
    const s1 = out.subarray(1, 1 + SIZE);
    const s2 = out.subarray(1 + SIZE);
    assert.ok(s1[4] >= 3, 'S1 version major >= 3, so FFmpeg checks (and accepts) the digest');
    // S1: digest at the same scheme's position, keyed with the first 36 bytes of the FMS key.
    const pos = digestPos(s1, scheme);
    const expectedS1 = hmac(FMS_KEY.subarray(0, 36), s1.subarray(0, pos), s1.subarray(pos + 32));
    assert.deepEqual(s1.subarray(pos, pos + 32), expectedS1);
    // S2: last 32 bytes = HMAC(HMAC(full FMS key, C1 digest), S2[0..1504]).
    const c1 = c0c1.subarray(1);
    const c1Digest = c1.subarray(digestPos(c1, scheme), digestPos(c1, scheme) + 32);
    const key = hmac(FMS_KEY, c1Digest);
    assert.deepEqual(s2.subarray(SIZE - 32), hmac(key, s2.subarray(0, SIZE - 32)));
  });
}

test('a C1 with a version but no valid digest falls back to the simple handshake', () => {
  const c0c1 = simpleC0C1();
  c0c1.writeUInt32BE(0x80000702, 5);
  const hs = new RtmpServerHandshake();
  const step = hs.feed(c0c1);
  assert.equal(hs.mode, 'simple');
  assert.deepEqual(step.send?.subarray(1 + SIZE), c0c1.subarray(1));
});

test('captured C0C1: FFmpeg uses the digest handshake, rtmpdump the simple one', () => {
  const ff = new RtmpServerHandshake();
  ff.feed(readFileSync(new URL('ffmpeg-publish-c0c1.bin', FIXTURES)));
  assert.equal(ff.mode, 'complex');
  const rd = new RtmpServerHandshake();
  rd.feed(readFileSync(new URL('rtmpdump-play-c0c1.bin', FIXTURES)));
  assert.equal(rd.mode, 'simple');
});

test('a wrong C0 throws ERR_RTMP_HANDSHAKE saying what arrived', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['RTMPE', Buffer.from([6, 0, 0]), /RTMPE/],
    ['HTTP request', Buffer.from('GET / HTTP/1.1\r\n'), /HTTP request/],
    ['TLS', Buffer.from([0x16, 3, 1]), /TLS/],
    ['other version', Buffer.from([0]), /version byte 0x00/],
  ];
  for (const [name, bytes, msg] of cases) {
    assert.throws(
      () => new RtmpServerHandshake().feed(bytes),
      (e: unknown) => isEstuaryError(e, 'ERR_RTMP_HANDSHAKE') && msg.test(e.message),
      name,
    );
  }
});

test('client and server handshakes complete against each other', () => {
  const client = new RtmpClientHandshake({ random: fakeRandom(11) });
  const server = new RtmpServerHandshake({ random: fakeRandom(12) });
  const c0c1 = client.start();
  assert.equal(c0c1.length, 1 + SIZE);
  assert.equal(c0c1[0], 3);
  assert.deepEqual(c0c1.subarray(1, 9), Buffer.alloc(8));
  const s = server.feed(c0c1);
  const s0s1s2 = Buffer.concat([s.send!, Buffer.from('first-chunk')]);
  let c: HandshakeStep = { done: false };
  for (const piece of randomSplits(s0s1s2, prng(4), 900)) {
    const step = client.feed(piece);
    if (step.done) c = step;
  }
  assert.equal(c.done, true);
  assert.deepEqual(c.send, s.send!.subarray(1, 1 + SIZE), 'C2 echoes S1');
  assert.deepEqual(c.remaining, Buffer.from('first-chunk'));
  assert.equal(server.feed(c.send!).done, true);
});

test('the client rejects a wrong S0 and misuse', () => {
  const client = new RtmpClientHandshake();
  assert.throws(
    () => client.feed(Buffer.from([3])),
    (e: unknown) => isEstuaryError(e, 'ERR_RTMP_HANDSHAKE'),
  );
  client.start();
  assert.throws(
    () => client.start(),
    (e: unknown) => isEstuaryError(e, 'ERR_RTMP_HANDSHAKE'),
  );
  assert.throws(
    () => client.feed(Buffer.from('HTTP/1.1 400')),
    (e: unknown) => isEstuaryError(e, 'ERR_RTMP_HANDSHAKE') && /HTTP/.test(e.message),
  );
});
