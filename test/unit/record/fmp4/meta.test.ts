/** meta.json and the separate master playlist for each track set. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Listings } from '../../../../src/record/fmp4/meta.js';
import { mergedMeta, separateMaster, separateMeta } from '../../../../src/record/fmp4/meta.js';
import { audio, video } from '../../formats/mp4/tracks.js';

const listed: Listings = {
  merged: [{ uri: 'seg_1.m4s', seconds: 2.0000001, bytes: 600_000 }],
  video: [
    { uri: 'video_1.m4s', seconds: 2, bytes: 500_000 },
    { uri: 'video_2.m4s', seconds: 1, bytes: 100_000 },
  ],
  audio: [{ uri: 'audio_1.m4s', seconds: 2, bytes: 32_000 }],
};

test('the master: video with its audio group; one track alone', () => {
  const both = separateMaster({ video, audio }, listed);
  assert.match(
    both,
    /^#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio.m3u8"$/m,
  );
  // Peak video 2 Mbit/s (500 kB in 2 s) + audio 128 kbit/s.
  assert.match(
    both,
    /^#EXT-X-STREAM-INF:BANDWIDTH=2128000,CODECS="[^"]+,mp4a\.40\.2",.*AUDIO="audio"\nvideo\.m3u8$/m,
  );
  const audioOnly = separateMaster({ audio }, listed);
  assert.doesNotMatch(audioOnly, /EXT-X-MEDIA/);
  assert.match(audioOnly, /^#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS="mp4a\.40\.2"\naudio\.m3u8$/m);
  const videoOnly = separateMaster({ video }, listed);
  assert.doesNotMatch(videoOnly, /EXT-X-MEDIA|AUDIO=/);
});

test('meta.json: codecs, MIME types, segments to the millisecond', () => {
  const m = mergedMeta({ video, audio }, listed, true, 'x_full.mp4') as Record<string, unknown>;
  assert.equal(m.init, 'init.mp4');
  assert.equal(m.full, 'x_full.mp4');
  assert.deepEqual(m.segments, [{ uri: 'seg_1.m4s', duration: 2 }]);
  assert.match(String(m.mimeType), /^video\/mp4; codecs="[^"]+, mp4a\.40\.2"$/);
  const s = separateMeta({ audio }, listed, false) as Record<string, { mimeType?: string }>;
  assert.equal(s.video, undefined);
  assert.equal(s.audio?.mimeType, 'audio/mp4; codecs="mp4a.40.2"');
  assert.equal(String(s.mimeType), 'audio/mp4; codecs="mp4a.40.2"');
});
