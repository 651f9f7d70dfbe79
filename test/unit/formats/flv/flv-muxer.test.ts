import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlvMuxer } from '../../../../src/formats/flv/flv-muxer.js';
import { FlvToFrames } from '../../../../src/formats/flv/flv-to-frame.js';
import { FlvTagReader } from '../../../../src/formats/flv/tag-reader.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { VideoTrack } from '../../../../src/media/track.js';
import { AVCC, audio, video } from '../mp4/tracks.js';

describe('FlvMuxer', () => {
  it('writes what FlvTagReader + FlvToFrames read back: tracks, times, composition offsets, payloads', () => {
    const mux = new FlvMuxer({ video, audio });
    const frames: MediaFrame[] = [
      { track: video, dts: 0, pts: 80, keyframe: true, data: Buffer.from([0, 0, 0, 1, 0x65]) },
      { track: audio, dts: 10, pts: 10, keyframe: true, data: Buffer.from([0x21, 0x22]) },
      { track: video, dts: 40, pts: 40, keyframe: false, data: Buffer.from([0, 0, 0, 1, 0x41]) },
    ];
    const bytes = Buffer.concat([mux.head({ duration: 0 }).bytes, ...frames.flatMap((f) => mux.frame(f))]);
    const demux = new FlvToFrames();
    const events = new FlvTagReader().push(bytes).flatMap((t) => demux.push(t, t.timestamp));
    assert.deepEqual(
      events.map((e) => e.kind),
      ['metadata', 'track', 'track', 'frame', 'frame', 'frame'],
    );
    const back = events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
    assert.deepEqual(
      back.map((f) => [f.track.kind, f.dts, f.pts, f.keyframe, f.data.toString('hex')]),
      frames.map((f) => [f.track.kind, f.dts, f.pts, f.keyframe, f.data.toString('hex')]),
    );
    assert.ok(demux.videoTrack?.config?.equals(AVCC));
  });

  it('announces a changed configuration with a new sequence header before the frame', () => {
    const mux = new FlvMuxer({ video });
    mux.head({});
    const changed: VideoTrack = { ...video, config: Buffer.concat([AVCC, Buffer.from([0])]) };
    const same: VideoTrack = { ...video };
    assert.equal(
      mux.frame({ track: same, dts: 0, pts: 0, keyframe: true, data: Buffer.from([0]) }).length,
      1,
    );
    assert.equal(
      mux.frame({ track: changed, dts: 40, pts: 40, keyframe: true, data: Buffer.from([0]) }).length,
      2,
    );
  });
});
