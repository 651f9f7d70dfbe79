import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlvFormatEncoder } from '../../../src/flv/from-stream.js';
import { parseFlvHeader } from '../../../src/formats/flv/header.js';
import { metadataBody, parseScriptTag } from '../../../src/formats/flv/script-tag.js';
import type { PublisherInfo } from '../../../src/hub/live-stream.js';
import { StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import { silentLogger } from '../../../src/log.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';

const video: VideoTrack = { kind: 'video', codec: 'h264', width: 320, height: 240, config: Buffer.from([1]) };
const audio: AudioTrack = {
  kind: 'audio',
  codec: 'aac',
  sampleRate: 44100,
  channels: 2,
  config: Buffer.from([0x12, 0x10]),
};
const VALUES = {
  duration: 0,
  width: 320,
  height: 240,
  framerate: 25,
  videocodecid: 7,
  videodatarate: 150,
  audiocodecid: 10,
  audiosamplerate: 44100,
  audiosamplesize: 16,
  stereo: true,
  hasAudio: true,
  hasVideo: true,
  encoder: 'Lavf',
};

function liveStream() {
  const hub = new StreamHub(silentLogger());
  const publisher: PublisherInfo = { protocol: 'test', remote: 'x', kick: () => {} };
  const s = hub.publish(makeStreamName('live', 'meta'), publisher);
  s.setTrack(video);
  s.setTrack(audio);
  s.setMetadata({ values: VALUES, body: metadataBody(VALUES) });
  return s;
}

/** The script tag's onMetaData values (an FLV tag: 11-byte header, body, PreviousTagSize). */
function metadataOf(tag: Buffer): Record<string, unknown> {
  return parseScriptTag(tag.subarray(11, tag.length - 4))!.values;
}

test('the whole stream: both header flags, metadata as published', () => {
  const s = liveStream();
  const e = new FlvFormatEncoder();
  assert.deepEqual(
    { ...parseFlvHeader(e.header(s)), dataOffset: 9 },
    { version: 1, audio: true, video: true, dataOffset: 9 },
  );
  assert.deepEqual(metadataOf(e.metadata(s)!), VALUES);
  assert.ok(e.carries('audio') && e.carries('video'));
});

test('disableAudio: the header, the metadata and the tags say video only', () => {
  const s = liveStream();
  const e = new FlvFormatEncoder({ audio: false, video: true });
  const h = parseFlvHeader(e.header(s));
  assert.equal(h.audio, false);
  assert.equal(h.video, true);
  assert.deepEqual(metadataOf(e.metadata(s)!), {
    duration: 0,
    width: 320,
    height: 240,
    framerate: 25,
    videocodecid: 7,
    videodatarate: 150,
    hasAudio: false,
    hasVideo: true,
    encoder: 'Lavf',
  });
  assert.equal(e.carries('audio'), false);
});

test('disableVideo: audio only, the video fields gone from the metadata', () => {
  const s = liveStream();
  const e = new FlvFormatEncoder({ audio: true, video: false });
  const h = parseFlvHeader(e.header(s));
  assert.equal(h.audio, true);
  assert.equal(h.video, false);
  assert.deepEqual(metadataOf(e.metadata(s)!), {
    duration: 0,
    audiocodecid: 10,
    audiosamplerate: 44100,
    audiosamplesize: 16,
    stereo: true,
    hasAudio: true,
    hasVideo: false,
    encoder: 'Lavf',
  });
});
