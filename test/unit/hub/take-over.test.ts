/**
 * A publisher that arrives where a relay holds its stream (a worker whose holder died, reached by
 * the reconnecting publisher) takes the stream over: subscribers see no end and no new publish,
 * the new publish's sequence headers as tracks, and times that go on increasing on the relay's
 * timeline; the hooks (recorders, the worker's claim) see a new publish. A relay that cannot
 * hand over (an edge's) still refuses a publisher, and so does the taken-over publish.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ContinuousTimeline } from '../../../src/edge/timeline.js';
import { FlvTagIngest } from '../../../src/flv/to-stream.js';
import { FlvTagReader } from '../../../src/formats/flv/tag-reader.js';
import type { PublisherInfo } from '../../../src/hub/live-stream.js';
import { StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import { silentLogger } from '../../../src/log.js';
import { fixture } from '../../helpers/media.js';

const NAME = makeStreamName('live', 's');
const tags = new FlvTagReader().push(readFileSync(fixture('h264-aac-3s.flv')));

function setUp(handOver: boolean) {
  const hub = new StreamHub(silentLogger());
  const hooks: string[] = [];
  hub.addHooks({
    onPublish: (s) => hooks.push(`publish ${s.publisher?.protocol}`),
    onUnpublish: () => hooks.push('unpublish'),
  });
  const timeline = new ContinuousTimeline();
  let handedOver = 0;
  let kicked = 0;
  const relay: PublisherInfo = {
    protocol: 'pull',
    remote: 'http://127.0.0.1:1/live/s.flv',
    relay: true,
    kick: () => {
      kicked++;
    },
    ...(handOver
      ? {
          handOver: () => {
            handedOver++;
            timeline.reanchor();
            return timeline;
          },
        }
      : {}),
  };
  const stream = hub.publish(NAME, relay);
  const seen: string[] = [];
  const dts: number[] = [];
  stream.subscribe({
    onPublish: () => seen.push('publish'),
    onUnpublish: () => seen.push('unpublish'),
    onTrack: (t) => seen.push(`track ${t.kind}`),
    onFrame: (f) => {
      if (f.track.kind === 'video') dts.push(f.dts);
    },
  });
  // The relay's pull delivered the whole fixture once, on its timeline.
  const relayIngest = new FlvTagIngest(stream, silentLogger(), timeline);
  for (const t of tags) relayIngest.push(t);
  return { hub, stream, hooks, seen, dts, relay, counts: () => ({ handedOver, kicked }) };
}

test('a publisher takes a stream over from a relay that hands over: viewers go on, times increase', () => {
  const { hub, stream, hooks, seen, dts, counts } = setUp(true);
  const lastBefore = dts.at(-1)!;
  assert.ok(lastBefore > 2000, `the relay delivered the fixture (last video dts ${lastBefore})`);
  const seenBefore = seen.length;
  const local: PublisherInfo = { protocol: 'rtmp', remote: '127.0.0.1:5000', kick: () => {} };
  hub.checkPublish(NAME); // the early refusal (HTTP-FLV, Expect) lets it through too
  const s = hub.publish(NAME, local);
  assert.equal(s, stream, 'the same stream: its subscribers stay');
  assert.equal(s.publisher, local);
  assert.deepEqual(counts(), { handedOver: 1, kicked: 0 }, 'the relay handed over, was not kicked');
  assert.equal(s.handedOver !== undefined, true);
  assert.equal(s.framesIn, 0, 'the new publish counts from 0');
  assert.equal(s.gop.frames.length, 0, 'the GOP cache starts again');

  // The new publisher's clock starts at 0 again (a restarted FFmpeg/OBS).
  const firstAfter = dts.length;
  const ingest = new FlvTagIngest(s, silentLogger());
  for (const t of tags) ingest.push(t);
  assert.equal(dts.length, 2 * firstAfter, 'every video frame of the new publish reached the viewer');
  assert.deepEqual(
    seen.slice(seenBefore).filter((e) => !e.startsWith('track')),
    [],
    'no end and no new publish for the subscriber',
  );
  assert.ok(seen.slice(seenBefore).includes('track video'), 'the new sequence headers reach it');
  assert.ok(
    dts[firstAfter]! > lastBefore,
    `first frame after the takeover ${dts[firstAfter]} > ${lastBefore}`,
  );
  for (let i = 1; i < dts.length; i++) assert.ok(dts[i]! > dts[i - 1]!, `video dts increase at ${i}`);
  assert.deepEqual(hooks, ['publish pull', 'publish rtmp'], 'the hooks see a new publish');

  // The taken-over publish is an ordinary one: a second publisher is refused.
  assert.throws(() => hub.publish(NAME, { protocol: 'rtmp', remote: 'b', kick: () => {} }), {
    code: 'ERR_STREAM_BUSY',
  });
  hub.unpublish(s, local, 'done');
  assert.deepEqual(seen.slice(-1), ['unpublish'], 'its end ends the viewers, as any publish');
  assert.equal(s.handedOver, undefined);
});

test("a relay that cannot hand over (an edge's pull) refuses a publisher", () => {
  const { hub, stream, relay, counts } = setUp(false);
  const local: PublisherInfo = { protocol: 'rtmp', remote: 'x', kick: () => {} };
  assert.throws(() => hub.checkPublish(NAME), { code: 'ERR_STREAM_BUSY' });
  assert.throws(() => hub.publish(NAME, local), { code: 'ERR_STREAM_BUSY' });
  assert.equal(stream.publisher, relay);
  assert.deepEqual(counts(), { handedOver: 0, kicked: 0 });
});
