/**
 * The FLV play encoder through a real fan-out: what a viewer joining mid-stream reads, tag by tag.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlvFormatEncoder } from '../../../src/flv/from-stream.js';
import { encodeAmf0 } from '../../../src/formats/amf/amf0.js';
import { FlvTagReader } from '../../../src/formats/flv/tag-reader.js';
import { FanOut } from '../../../src/hub/fan-out.js';
import type { PublisherInfo } from '../../../src/hub/live-stream.js';
import { StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import type { Viewer } from '../../../src/hub/viewer.js';
import { silentLogger } from '../../../src/log.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';

const video: VideoTrack = {
  kind: 'video',
  codec: 'h264',
  width: 320,
  height: 240,
  config: Buffer.from('0164000dffe1000467640028ac01000468ee3c80', 'hex'),
};
const audio: AudioTrack = {
  kind: 'audio',
  codec: 'aac',
  sampleRate: 44100,
  channels: 2,
  config: Buffer.from([0x12, 0x10]),
};

function viewer(): Viewer & { bytes: Buffer[] } {
  const bytes: Buffer[] = [];
  return { bytes, buffered: 0, write: (b) => bytes.push(b), close: () => {}, streamEnded: () => {} };
}

test('a viewer joining mid-stream: onMetaData at 0, then sequence headers and the GOP, media never going back', () => {
  const hub = new StreamHub(silentLogger());
  const publisher: PublisherInfo = { protocol: 'test', remote: 'x', kick: () => {} };
  const stream = hub.publish(makeStreamName('live', 'a'), publisher);
  const encoder = new FlvFormatEncoder();
  let metadataEncodes = 0;
  const counting = Object.assign(Object.create(encoder) as FlvFormatEncoder, {
    metadata: (s: typeof stream) => {
      metadataEncodes++;
      return encoder.metadata(s);
    },
  });
  const fan = new FanOut(stream, counting, silentLogger(), () => {});
  stream.subscribe(fan);
  stream.setMetadata({ values: { width: 320 }, body: encodeAmf0('onMetaData', { width: 320 }) });
  stream.setTrack(video);
  stream.setTrack(audio);
  const frame = (track: VideoTrack | AudioTrack, dts: number, keyframe = false) =>
    stream.pushFrame({ track, dts, pts: dts, keyframe, data: Buffer.from([0, 0, 0, 1, 0x65]) });
  for (let t = 0; t < 4000; t += 40) {
    frame(video, t, t % 2000 === 0);
    frame(audio, t + 20);
  }
  const viewers = [viewer(), viewer(), viewer()];
  for (const v of viewers) fan.add(v);
  frame(video, 4000, true); // a new GOP: the next join is rebuilt
  fan.flush();
  const late = viewer();
  fan.add(late);
  assert.equal(metadataEncodes, 1, 'the metadata is encoded once per change, not per join');
  for (const v of [viewers[0]!, late]) {
    const tags = new FlvTagReader().push(Buffer.concat(v.bytes));
    const [script, ...rest] = tags;
    assert.equal(script!.type, 18);
    assert.equal(script!.timestamp, 0, 'onMetaData is stamped 0');
    assert.equal(rest[0]!.type, 9);
    assert.equal(rest[0]!.body[1], 0, 'the AVC sequence header comes next');
    const media = rest.map((t) => t.timestamp);
    assert.ok(media[0]! >= 2000, `the join starts at the GOP (${media[0]})`);
    for (let i = 1; i < media.length; i++)
      assert.ok(media[i]! >= media[i - 1]!, `timestamps go back at tag ${i}: ${media.join(',')}`);
  }
  assert.ok(
    viewers.every((v) => v.bytes[0] === viewers[0]!.bytes[0]),
    'every joining viewer got the same cached join Buffer',
  );
});
