import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FlvTagIngest } from '../../../src/flv/to-stream.js';
import { parseAudioTag } from '../../../src/formats/flv/audio-tag.js';
import { type FlvTag, FlvTagType } from '../../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../../src/formats/flv/tag-reader.js';
import { parseVideoTag } from '../../../src/formats/flv/video-tag.js';
import { LiveStream } from '../../../src/hub/live-stream.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import { silentLogger } from '../../../src/log.js';
import { fixture } from '../../helpers/media.js';

function ingestOf(tags: FlvTag[]) {
  const s = new LiveStream(makeStreamName('live', 's'), silentLogger());
  s.startPublish({ protocol: 'test', remote: 'x', kick: () => {} });
  const frames: { kind: string; dts: number; key: boolean }[] = [];
  let tracks = 0;
  s.subscribe({
    onTrack: () => {
      tracks++;
    },
    onFrame: (f) => frames.push({ kind: f.track.kind, dts: f.dts, key: f.keyframe }),
  });
  const ingest = new FlvTagIngest(s, silentLogger());
  for (const t of tags) ingest.push(t);
  return { s, frames, tracks: () => tracks };
}

/** The tags of a real FFmpeg-made file (test/fixtures/make-fixtures.ts). */
function fixtureTags(name: string): FlvTag[] {
  return new FlvTagReader().push(readFileSync(fixture(name)));
}

test('a real FLV becomes metadata, both tracks and every frame', () => {
  const tags = fixtureTags('h264-aac-3s.flv');
  const media = tags.filter((t) => t.type !== FlvTagType.Script);
  const { s, frames, tracks } = ingestOf(tags);
  assert.equal(s.videoTrack?.codec, 'h264');
  assert.equal(s.videoTrack?.width, 320);
  assert.equal(s.audioTrack?.codec, 'aac');
  assert.equal(tracks(), 2);
  assert.ok(s.metadata, 'onMetaData kept');
  // Every media tag but the sequence headers and the end-of-sequence marker is a frame.
  const coded = media.filter((t) =>
    t.type === FlvTagType.Video
      ? parseVideoTag(t.body).kind === 'frame'
      : parseAudioTag(t.body).kind === 'frame',
  );
  assert.equal(media.length - coded.length, 3, 'two sequence headers and one end of sequence');
  assert.equal(frames.length, coded.length);
  assert.ok(frames[0]!.key || frames[0]!.kind === 'audio');
});

/** [what, timestamps of the video tags as sent, the frame dts the stream sees] */
const CLOCK_CASES: [string, number[], number[]][] = [
  ['plain', [0, 40, 80], [0, 40, 80]],
  ['the 32-bit wrap is undone (E.4.1)', [2 ** 32 - 40, 0, 40], [2 ** 32 - 40, 2 ** 32, 2 ** 32 + 40]],
];

for (const [what, wire, dts] of CLOCK_CASES) {
  test(`FlvTagIngest clock: ${what}`, () => {
    const tags = fixtureTags('video-only-3s.flv').filter((t) => t.type === FlvTagType.Video);
    const seq = tags[0]!;
    const coded = tags.slice(1, 1 + wire.length);
    const { frames } = ingestOf([
      { ...seq, timestamp: wire[0]! },
      ...coded.map((t, i) => ({ ...t, timestamp: wire[i]! })),
    ]);
    assert.deepEqual(
      frames.map((f) => f.dts),
      dts,
    );
  });
}

test('a repeated identical sequence header is not a new track; frames before any are dropped', () => {
  const tags = fixtureTags('video-only-3s.flv').filter((t) => t.type === FlvTagType.Video);
  const [seq, ...coded] = tags as [FlvTag, ...FlvTag[]];
  const { frames, tracks } = ingestOf([coded[0]!, seq, coded[0]!, seq, coded[1]!]);
  assert.equal(tracks(), 1);
  assert.equal(frames.length, 2);
});

test('a tag type that is not audio, video or script is ERR_FLV_FORMAT', () => {
  const { s } = ingestOf([]);
  assert.throws(
    () => new FlvTagIngest(s, silentLogger()).push({ type: 7, timestamp: 0, body: Buffer.alloc(1) }),
    {
      code: 'ERR_FLV_FORMAT',
    },
  );
});
