import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlvStreamCheck, videoFrameKind } from '../../../../bench/load/flv-check.js';
import { clockSei, readClock, stampVideoBody } from '../../../../bench/load/sei-clock.js';
import { encodeFlvHeader } from '../../../../src/formats/flv/header.js';
import { encodeFlvTag } from '../../../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../../../src/formats/flv/tag-reader.js';

/** AVC video bodies (E.4.3.1): 0x17 00 = keyframe + sequence header, 0x17 01 keyframe NALU, 0x27 01 inter. */
const SEQ = Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f]);
const KEY = Buffer.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88]);
const INTER = Buffer.from([0x27, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a]);
const AAC = Buffer.from([0xaf, 0x01, 0x21, 0x10]);

function stream(...tags: [number, number, Buffer][]): Buffer {
  return Buffer.concat([
    encodeFlvHeader({ audio: true, video: true }),
    ...tags.map(([type, ts, body]) => encodeFlvTag(type, ts, body)),
  ]);
}

test('walks the same tags as the tag reader, at every split of the bytes', () => {
  const bytes = stream(
    [9, 0, SEQ],
    [9, 0, KEY],
    [8, 10, AAC],
    [9, 40, INTER],
    [9, 80, stampVideoBody(INTER, 1)],
  );
  const expected = new FlvTagReader().push(bytes).length;
  for (let split = 1; split < bytes.length; split++) {
    let firstKey = 0;
    const check = new FlvStreamCheck({ onFirstKeyframe: () => firstKey++ });
    assert.equal(check.push(bytes.subarray(0, split)), true);
    assert.equal(check.push(bytes, split), true);
    assert.equal(check.tags, expected);
    assert.equal(check.videoFrames, 3);
    assert.equal(firstKey, 1);
    assert.equal(check.bytes, bytes.length);
  }
});

test('fails a stream whose first video frame is not a keyframe', () => {
  const check = new FlvStreamCheck();
  assert.equal(check.push(stream([9, 0, SEQ], [9, 40, INTER])), false);
  assert.equal(check.error, 'first video frame is not a keyframe');
});

test('fails bad signatures, bad PreviousTagSize and unknown tag types', () => {
  const bad = stream([9, 0, KEY]);
  bad[0] = 0x47;
  assert.equal(new FlvStreamCheck().push(bad), false);
  const prev = stream([9, 0, KEY], [9, 40, INTER]);
  prev.writeUInt32BE(99, 13 + 11 + KEY.length);
  const c = new FlvStreamCheck();
  assert.equal(c.push(prev), false);
  assert.match(c.error!, /PreviousTagSize 99/);
  const type = stream([9, 0, KEY]);
  type[13] = 0x29; // video with the Filter bit (E.4.1)
  assert.equal(new FlvStreamCheck().push(type), false);
});

test('classifies legacy and enhanced video bodies', () => {
  assert.equal(videoFrameKind(SEQ, SEQ.length), 'config');
  assert.equal(videoFrameKind(KEY, KEY.length), 'key');
  assert.equal(videoFrameKind(INTER, INTER.length), 'inter');
  // Enhanced RTMP: IsExHeader | FrameType 1 | PacketType 0 (SequenceStart) / 1 (CodedFrames).
  assert.equal(videoFrameKind(Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31]), 5), 'config');
  assert.equal(videoFrameKind(Buffer.from([0x91, 0x68, 0x76, 0x63, 0x31]), 5), 'key');
  assert.equal(videoFrameKind(Buffer.from([0xa3, 0x68, 0x76, 0x63, 0x31]), 5), 'inter');
});

test('the clock SEI round-trips and never needs emulation prevention', () => {
  const micros = 1_795_000_000_123_456;
  const body = stampVideoBody(KEY, micros);
  assert.equal(readClock(body, body.length), micros);
  assert.equal(readClock(KEY, KEY.length), undefined);
  const sei = clockSei(micros);
  // nal_unit_type 6, payloadType 5, payloadSize 32, stop bit 0x80 (H.264 7.3.2.3, D.1.6).
  assert.deepEqual([...sei.subarray(4, 7)], [0x06, 0x05, 32]);
  assert.equal(sei.at(-1), 0x80);
  for (let i = 4; i + 2 < sei.length; i++) assert.ok(!(sei[i] === 0 && sei[i + 1] === 0), `00 00 at ${i}`);
});
