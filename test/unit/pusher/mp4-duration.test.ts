import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bufferReader } from '../../../src/formats/mp4/demuxer.js';
import { parseMvhdDurationMs, readMp4DurationMs } from '../../../src/pusher/mp4-duration.js';

/** mvhd version 0 (ISO/IEC 14496-12 8.2.2.2): times, timescale, duration, then 80 bytes we skip. */
function mvhdV0(timescale: number, duration: number): Buffer {
  const b = Buffer.alloc(108);
  b.writeUInt32BE(108, 0);
  b.write('mvhd', 4, 'latin1');
  b.writeUInt32BE(timescale, 20);
  b.writeUInt32BE(duration, 24);
  return b;
}

function mvhdV1(timescale: number, durationHigh: number, durationLow: number): Buffer {
  const b = Buffer.alloc(120);
  b.writeUInt32BE(120, 0);
  b.write('mvhd', 4, 'latin1');
  b[8] = 1; // version
  b.writeUInt32BE(timescale, 28);
  b.writeUInt32BE(durationHigh, 32);
  b.writeUInt32BE(durationLow, 36);
  return b;
}

function box(type: string, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

const header = (b: Buffer) => ({ type: 'mvhd', start: 0, headerSize: 8, size: b.length });

test('parseMvhdDurationMs: version 0 and 1', () => {
  const v0 = mvhdV0(1000, 10_067);
  assert.equal(parseMvhdDurationMs(v0, header(v0)), 10_067);
  const v0b = mvhdV0(90_000, 900_000);
  assert.equal(parseMvhdDurationMs(v0b, header(v0b)), 10_000);
  const v1 = mvhdV1(48_000, 1, 0); // 2^32 / 48000 s
  assert.equal(parseMvhdDurationMs(v1, header(v1)), Math.round((2 ** 32 * 1000) / 48_000));
});

test('parseMvhdDurationMs: 0, all ones and timescale 0 mean unknown', () => {
  for (const b of [mvhdV0(1000, 0), mvhdV0(1000, 0xffffffff), mvhdV0(0, 5000)]) {
    assert.equal(parseMvhdDurationMs(b, header(b)), undefined);
  }
});

test('parseMvhdDurationMs: a truncated mvhd throws ERR_MP4_FORMAT', () => {
  const b = mvhdV0(1000, 5000).subarray(0, 20);
  assert.throws(() => parseMvhdDurationMs(b, { ...header(b), size: 20 }), { code: 'ERR_MP4_FORMAT' });
});

test('readMp4DurationMs: finds mvhd in a moov after mdat, past other boxes', async () => {
  const file = Buffer.concat([
    box('ftyp', Buffer.from('isom')),
    box('mdat', Buffer.alloc(100)),
    box('moov', box('udta'), mvhdV0(600, 1800), box('trak')),
  ]);
  assert.equal(await readMp4DurationMs(bufferReader(file)), 3000);
  assert.equal(await readMp4DurationMs(bufferReader(box('ftyp', Buffer.from('isom')))), undefined);
  assert.equal(await readMp4DurationMs(bufferReader(box('moov', box('trak')))), undefined);
});
