import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bufferReader, Mp4Demuxer } from '../../../../src/formats/mp4/demuxer.js';
import { Fmp4Muxer } from '../../../../src/formats/mp4/fmp4-muxer.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import { audio, video } from './tracks.js';

function frames(track: typeof video | typeof audio, from: number, n: number, step: number): MediaFrame[] {
  return Array.from({ length: n }, (_, i) => ({
    track,
    dts: from + i * step,
    pts: from + i * step,
    keyframe: i === 0,
    data: Buffer.from([0, 0, 0, 1, i]),
  }));
}

describe('Fmp4Muxer', () => {
  it('numbers fragments from 1, times them from the origin and reads back whole', async () => {
    const mux = new Fmp4Muxer({ video, audio }, { originMs: 1000 });
    const a = mux.fragment({
      video: frames(video, 1000, 50, 40),
      audio: frames(audio, 1000, 86, 23),
      next: { video: 3000 },
    });
    const b = mux.fragment({ video: frames(video, 3000, 25, 40) });
    assert.ok(a && b);
    assert.equal(a.seconds, 2, 'the video decides the duration: 50 frames of 40 ms');
    assert.equal(mux.fragment({}), undefined, 'no frames, no fragment');
    // mfhd sequence_number: moof(8) + mfhd header(8) + version/flags(4), then the number (8.8.5).
    assert.equal(a.parts[0].readUInt32BE(20), 1);
    assert.equal(b.parts[0].readUInt32BE(20), 2);
    const back = await Mp4Demuxer.open(bufferReader(Buffer.concat([mux.init, ...a.parts, ...b.parts])));
    const got: MediaFrame[] = [];
    for await (const f of back.frames()) got.push(f);
    assert.equal(got.length, 50 + 86 + 25);
    assert.equal(
      got.filter((f) => f.track.kind === 'video')[50].dts,
      2000,
      'second fragment starts 2 s after the origin',
    );
  });

  it('refuses frames before the origin', () => {
    const mux = new Fmp4Muxer({ video }, { originMs: 100 });
    assert.throws(() => mux.fragment({ video: frames(video, 0, 2, 40) }), /before the origin/);
  });
});
