/**
 * Byte-exact decoding of what real clients sent, recorded once by test/fixtures/capture-rtmp.ts
 * (FFmpeg publish and play, rtmpdump play, all against 127.0.0.1:19350).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { AmfValue } from '../../../../src/formats/amf/value.js';
import { ChunkReader } from '../../../../src/formats/rtmp/chunk-reader.js';
import { decodeCommand, decodeData } from '../../../../src/formats/rtmp/command.js';
import { parseControl } from '../../../../src/formats/rtmp/control.js';
import { RtmpServerHandshake } from '../../../../src/formats/rtmp/handshake.js';
import type { RtmpMessage } from '../../../../src/formats/rtmp/message.js';
import { feedingStyles, prng, randomSplits } from './test-helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/rtmp/${name}`, import.meta.url));

/** One message as the tests compare it: its header fields and its decoded body. */
interface Decoded {
  csid: number;
  type: number;
  streamId: number;
  timestamp: number;
  body: unknown;
}

function decode(m: RtmpMessage): Decoded {
  let body: unknown;
  if (m.type === 20 || m.type === 17) body = decodeCommand(m);
  else if (m.type === 18 || m.type === 15) body = decodeData(m);
  else body = parseControl(m);
  return { csid: m.chunkStreamId, type: m.type, streamId: m.streamId, timestamp: m.timestamp, body };
}

const cmd = (
  csid: number,
  streamId: number,
  name: string,
  tx: number,
  obj: AmfValue,
  args: AmfValue[] = [],
) => ({
  csid,
  type: 20,
  streamId,
  timestamp: 0,
  body: { name, transactionId: tx, commandObject: obj, args },
});
const ctl = (type: number, timestamp: number, body: unknown) => ({
  csid: 2,
  type,
  streamId: 0,
  timestamp,
  body,
});
const TC_URL = 'rtmp://127.0.0.1:19350/live';

const expected: Record<string, Decoded[]> = {
  'ffmpeg-publish': [
    cmd(3, 0, 'connect', 1, {
      app: 'live',
      type: 'nonprivate',
      flashVer: 'FMLE/3.0 (compatible; Lavf59.27.100)',
      tcUrl: TC_URL,
    }),
    cmd(3, 0, 'releaseStream', 2, null, ['cap']),
    cmd(3, 0, 'FCPublish', 3, null, ['cap']),
    cmd(3, 0, 'createStream', 4, null),
    cmd(8, 1, 'publish', 5, null, ['cap', 'live']),
    {
      csid: 4,
      type: 18,
      streamId: 1,
      timestamp: 0,
      body: [
        '@setDataFrame',
        'onMetaData',
        {
          duration: 1,
          width: 160,
          height: 120,
          videodatarate: 0,
          framerate: 10,
          videocodecid: 7,
          encoder: 'Lavf59.27.100',
          filesize: 0,
        },
      ],
    },
  ],
  'ffmpeg-play': [
    cmd(3, 0, 'connect', 1, {
      app: 'live',
      flashVer: 'LNX 9,0,124,2',
      tcUrl: TC_URL,
      fpad: false,
      capabilities: 15,
      audioCodecs: 4071,
      videoCodecs: 252,
      videoFunction: 1,
    }),
    ctl(5, 0, { kind: 'windowAckSize', size: 2_500_000 }),
    cmd(3, 0, 'createStream', 2, null),
    cmd(8, 0, 'getStreamLength', 3, null, ['cap']),
    cmd(8, 1, 'play', 4, null, ['cap', -2000]),
    ctl(4, 1, { kind: 'userControl', event: 3, value: 1, value2: 3000 }),
  ],
  'rtmpdump-play': [
    cmd(3, 0, 'connect', 1, {
      app: 'live',
      flashVer: 'LNX 10,0,32,18',
      tcUrl: TC_URL,
      fpad: false,
      capabilities: 15,
      audioCodecs: 3191,
      videoCodecs: 252,
      videoFunction: 1,
    }),
    ctl(5, 0, { kind: 'windowAckSize', size: 2_500_000 }),
    ctl(4, 0, { kind: 'userControl', event: 3, value: 0, value2: 300 }),
    cmd(3, 0, 'createStream', 2, null),
    cmd(8, 1, 'play', 3, null, ['cap', 0, 1000]),
    ctl(4, 0, { kind: 'userControl', event: 3, value: 1, value2: 36_000_000 }),
  ],
};

for (const [name, messages] of Object.entries(expected)) {
  test(`captured ${name}: every message decodes exactly, however the bytes are split`, () => {
    const chunks = fixture(`${name}-chunks.bin`);
    for (const style of feedingStyles(chunks, 99)) {
      const reader = new ChunkReader();
      const got = style.pieces.flatMap((p) => reader.push(p)).map(decode);
      assert.deepEqual(got, messages, style.name);
      assert.equal(reader.bytesReceived, chunks.length);
    }
  });

  test(`captured ${name}: handshake then chunks, as a session would feed them`, () => {
    // C2's content is not checked, so any 1536 bytes stand in for it.
    const wire = Buffer.concat([
      fixture(`${name}-c0c1.bin`),
      Buffer.alloc(1536, 0xaa),
      fixture(`${name}-chunks.bin`),
    ]);
    for (let seed = 1; seed <= 5; seed++) {
      const hs = new RtmpServerHandshake();
      const reader = new ChunkReader();
      const got: RtmpMessage[] = [];
      let sent = 0;
      let done = false;
      for (const piece of randomSplits(wire, prng(seed), 1 + seed * 300)) {
        if (done) {
          got.push(...reader.push(piece));
          continue;
        }
        const step = hs.feed(piece);
        sent += step.send?.length ?? 0;
        if (step.done) {
          done = true;
          if (step.remaining) got.push(...reader.push(step.remaining));
        }
      }
      assert.equal(sent, 3073, 'S0 S1 S2 sent once');
      assert.deepEqual(got.map(decode), messages, `seed ${seed}`);
    }
  });
}
