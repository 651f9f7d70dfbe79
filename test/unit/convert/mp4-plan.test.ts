import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Mp4Plan } from '../../../src/convert/mp4-plan.js';
import { parseBoxHeader } from '../../../src/formats/mp4/box-reader.js';
import { bufferReader, Mp4Demuxer } from '../../../src/formats/mp4/demuxer.js';
import type { MediaFrame } from '../../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';
import { AVCC, audio, video } from '../formats/mp4/tracks.js';

function f(
  track: VideoTrack | AudioTrack,
  dts: number,
  pts: number,
  keyframe: boolean,
  byte: number,
): MediaFrame {
  return { track, dts, pts, keyframe, data: Buffer.from([0, 0, 0, 1, byte]) };
}

describe('Mp4Plan', () => {
  it('lays out ftyp, moov, mdat with every sample where add() said, in the order given', async () => {
    const frames = [
      f(video, 0, 80, true, 1),
      f(audio, 0, 0, true, 2),
      f(video, 40, 200, false, 3),
      f(audio, 23, 23, true, 4),
      f(video, 80, 120, false, 5),
      f(audio, 46, 46, true, 6),
    ];
    const plan = new Mp4Plan({ video, audio }, 0);
    const offsets = frames.map((fr) => plan.add(fr));
    assert.deepEqual(offsets, [0, 5, 10, 15, 20, 25]);
    const layout = plan.layout();
    const file = Buffer.concat([layout.ftyp, layout.moov, layout.mdatHeader, ...frames.map((fr) => fr.data)]);
    const types: string[] = [];
    for (let off = 0; off < file.length; ) {
      const h = parseBoxHeader(file, off, file.length);
      types.push(h.type);
      off += h.size;
    }
    assert.deepEqual(types, ['ftyp', 'moov', 'mdat']);
    const back = await Mp4Demuxer.open(bufferReader(file));
    const got: { kind: string; byte: number; keyframe: boolean }[] = [];
    for await (const fr of back.frames())
      got.push({ kind: fr.track.kind, byte: fr.data[4], keyframe: fr.keyframe });
    assert.equal(got.length, 6);
    const videoBytes = got.filter((g) => g.kind === 'video').map((g) => g.byte);
    assert.deepEqual(videoBytes, [1, 3, 5]);
    assert.deepEqual(
      got.filter((g) => g.kind === 'video').map((g) => g.keyframe),
      [true, false, false],
    );
  });

  it('stops at a configuration change, naming it', () => {
    const plan = new Mp4Plan({ video }, 0);
    plan.add(f(video, 0, 0, true, 1));
    const other: VideoTrack = { ...video, config: Buffer.concat([AVCC, Buffer.from([0])]) };
    assert.throws(() => plan.add(f(other, 40, 40, true, 2)), /video configuration changes at 0\.040 s/);
  });
});
