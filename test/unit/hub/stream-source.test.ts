import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EstuaryError } from '../../../src/errors.js';
import type { LiveStream, PublisherInfo } from '../../../src/hub/live-stream.js';
import { StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName, type StreamName } from '../../../src/hub/stream-name.js';
import type { SourceRequest, StreamSource } from '../../../src/hub/stream-source.js';
import { silentLogger } from '../../../src/log.js';
import type { VideoTrack } from '../../../src/media/track.js';

const video: VideoTrack = { kind: 'video', codec: 'h264', width: 320, height: 240, config: Buffer.from([1]) };
const NAME = makeStreamName('live', 's');
const publisher: PublisherInfo = { protocol: 'pull', remote: 'upstream', kick: () => {} };

function keyframe(stream: LiveStream, dts = 0) {
  stream.setTrack(video);
  stream.pushFrame({ track: video, dts, pts: dts, keyframe: true, data: Buffer.alloc(4) });
}

/** A source that publishes into the hub when told to, counting what it was asked. */
class ScriptedSource implements StreamSource {
  opened: { name: StreamName; query: string }[] = [];
  changes: number[] = [];
  constructor(private readonly behave: (name: StreamName) => Promise<void>) {}
  open(name: StreamName, request: SourceRequest): Promise<void> {
    this.opened.push({ name, query: request.query });
    return this.behave(name);
  }
  subscribersChanged(stream: LiveStream): void {
    this.changes.push(stream.subscriberCount);
  }
}

test('without a source, awaitLive answers at once: the stream if live, else undefined', async () => {
  const hub = new StreamHub(silentLogger());
  assert.equal(await hub.awaitLive(NAME), undefined);
  const s = hub.publish(NAME, publisher);
  assert.equal(await hub.awaitLive(NAME), s, 'live without frames yet is still live on the origin');
});

test('a viewer of a stream that is not live waits for the source to publish its first frame', async () => {
  const hub = new StreamHub(silentLogger());
  const source = new ScriptedSource(async (name) => {
    setTimeout(() => {
      const s = hub.publish(name, publisher);
      setTimeout(() => keyframe(s, 100), 20);
    }, 20);
  });
  hub.setSource(source);
  const [a, b] = await Promise.all([
    hub.awaitLive(NAME, { query: '?sign=x' }),
    hub.awaitLive(NAME, { query: '?sign=x' }),
  ]);
  assert.ok(a?.isLive);
  assert.equal(a, b);
  assert.equal(a.framesIn, 1, 'resolved after the first frame, not at the bare publish');
  assert.equal(source.opened.length, 1, 'one source request for viewers that ask together');
  assert.equal(source.opened[0]!.query, '?sign=x', 'the query is passed on unchanged');
  assert.equal(await hub.awaitLive(NAME), a, 'a later viewer gets the live stream at once');
  assert.equal(source.opened.length, 1);
});

test('a source that cannot provide the stream fails the wait at once with its error', async () => {
  const hub = new StreamHub(silentLogger());
  hub.setSource(
    new ScriptedSource(() => Promise.reject(new EstuaryError('ERR_STREAM_NOT_FOUND', 'upstream: 404'))),
  );
  const t0 = Date.now();
  await assert.rejects(hub.awaitLive(NAME, { query: '' }, 5000), { code: 'ERR_STREAM_NOT_FOUND' });
  assert.ok(Date.now() - t0 < 1000);
});

test('the wait is bounded: a source that never publishes gives undefined after the timeout', async () => {
  const hub = new StreamHub(silentLogger());
  hub.setSource(new ScriptedSource(async () => {}));
  const t0 = Date.now();
  assert.equal(await hub.awaitLive(NAME, { query: '' }, 100), undefined);
  assert.ok(Date.now() - t0 >= 90);
});

test('a publish that ends before its first frame ends the wait with undefined', async () => {
  const hub = new StreamHub(silentLogger());
  hub.setSource(
    new ScriptedSource(async (name) => {
      const s = hub.publish(name, publisher);
      setTimeout(() => hub.unpublish(s, publisher, 'upstream gone'), 20);
    }),
  );
  assert.equal(await hub.awaitLive(NAME, { query: '' }, 5000), undefined);
});

test('the source hears when subscribers come and go', () => {
  const hub = new StreamHub(silentLogger());
  const source = new ScriptedSource(async () => {});
  hub.setSource(source);
  const s = hub.publish(NAME, publisher);
  const sub = { onFrame() {} };
  hub.subscribe(NAME, sub);
  hub.unsubscribe(s, sub);
  assert.deepEqual(source.changes, [1, 0]);
});

test('admit is asked for every request, before it joins an open under way', async () => {
  const hub = new StreamHub(silentLogger());
  let release: () => void = () => {};
  const source = new ScriptedSource(
    () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
  );
  const admitted: (string | undefined)[] = [];
  Object.assign(source, {
    admit: (_name: StreamName, request: SourceRequest) => {
      admitted.push(request.via);
      if (request.via?.includes('me')) throw new EstuaryError('ERR_EDGE_LOOP', 'came back to me');
    },
  });
  hub.setSource(source);
  const first = hub.awaitLive(NAME, { query: '' }, 200);
  const t0 = Date.now();
  // The open for NAME is pending; a looped request must not wait on it.
  await assert.rejects(hub.awaitLive(NAME, { query: '', via: '1.1 me' }, 5000), { code: 'ERR_EDGE_LOOP' });
  assert.ok(Date.now() - t0 < 100);
  assert.deepEqual(admitted, [undefined, '1.1 me']);
  release();
  assert.equal(await first, undefined, 'the source never published: the first wait times out');
  assert.equal(source.opened.length, 1);
});
