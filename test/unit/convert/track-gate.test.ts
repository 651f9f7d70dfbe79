import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrackGate } from '../../../src/convert/track-gate.js';
import type { MediaFrame } from '../../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';

const video: VideoTrack = { kind: 'video', codec: 'h264', width: 2, height: 2, config: Buffer.from([1]) };
const audio: AudioTrack = {
  kind: 'audio',
  codec: 'mp3',
  sampleRate: 44100,
  channels: 2,
  flvAudioHeader: 0x2f,
};

function frame(track: VideoTrack | AudioTrack, dts: number, pts = dts): MediaFrame {
  return { track, dts, pts, keyframe: true, data: Buffer.from([0]) };
}

describe('TrackGate', () => {
  it('holds frames until both a video and an audio frame came (MP3 in FLV has no header of its own)', () => {
    const g = new TrackGate();
    assert.equal(g.push(frame(video, 0)), undefined);
    assert.equal(g.push(frame(video, 40)), undefined);
    const open = g.push(frame(audio, 60));
    assert.ok(open);
    assert.equal(open.tracks.video, video);
    assert.equal(open.tracks.audio, audio);
    assert.deepEqual(
      open.frames.map((f) => f.dts),
      [0, 40, 60],
    );
  });

  it('opens with one track after 3 s of media, and shifts a negative start to 0', () => {
    const g = new TrackGate();
    let open: ReturnType<TrackGate['push']>;
    for (let dts = -80; !open; dts += 40) open = g.push(frame(video, dts, dts + 80));
    assert.equal(open.tracks.audio, undefined);
    assert.equal(open.shiftMs, 80);
    assert.equal(open.frames[0].dts, 0);
    assert.equal(open.frames[0].pts, 80);
    assert.ok(open.frames.at(-1)!.dts >= 3000);
  });

  it('decides with what it holds when the source ends early', () => {
    const g = new TrackGate();
    assert.equal(g.end(), undefined);
    g.push(frame(audio, 5));
    assert.equal(g.holding, true);
    const open = g.end();
    assert.equal(open?.tracks.audio, audio);
    assert.equal(open?.shiftMs, 0);
  });
});
