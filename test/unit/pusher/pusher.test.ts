/**
 * The push loop against an in-memory target: what each connection is sent, across loops and
 * reconnects. Pacing is switched off (an infinite burst) so these run in milliseconds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlvTag } from '../../../src/formats/flv/tag.js';
import { isPushError, maskQueries, PushError } from '../../../src/pusher/push-error.js';
import { type PushOptions, pushFile } from '../../../src/pusher/pusher.js';
import { lossSignal, type OpenTarget, type PushTarget } from '../../../src/pusher/target.js';

const FLV_3S = new URL('../../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;
const MP4_10S = new URL('../../fixtures/media/h264-aac-bframes-10s.mp4', import.meta.url).pathname;

/** Records tags; `failAt` makes the n-th send (1-based) fail as a lost connection. */
class FakeTarget implements PushTarget {
  readonly description = 'fake';
  readonly tags: FlvTag[] = [];
  readonly lost: Promise<PushError>;
  private readonly report: (e: PushError) => void;
  finished = false;

  constructor(private readonly failAt = Number.POSITIVE_INFINITY) {
    const s = lossSignal();
    this.lost = s.lost;
    this.report = s.report;
  }

  async send(type: number, timestamp: number, body: Buffer): Promise<void> {
    if (this.tags.length + 1 >= this.failAt) {
      const err = new PushError('connection-lost', 'fake: connection reset');
      this.report(err);
      throw err;
    }
    this.tags.push({ type, timestamp, body });
  }

  async finish(): Promise<void> {
    this.finished = true;
  }

  destroy(): void {}
}

/** Targets (or errors) handed out in turn. */
function opener(...plan: (FakeTarget | PushError)[]): OpenTarget & { calls: number } {
  const fn = async () => {
    const next = plan[fn.calls++];
    if (!next) throw new Error('no more connections planned');
    if (next instanceof PushError) throw next;
    return next;
  };
  fn.calls = 0;
  return fn;
}

const FAST: Partial<PushOptions> = { burstMs: Number.POSITIVE_INFINITY, backoff: { initialMs: 1, maxMs: 2 } };
const label = (t: FlvTag) =>
  t.type === 18
    ? 'meta'
    : `${t.type === 9 ? 'v' : 'a'}${t.body[1] === 0 ? '-seq' : t.type === 9 && t.body[0]! >> 4 === 1 ? '-key' : ''}`;
const frames = (tags: FlvTag[]) => tags.filter((t) => t.type !== 18 && t.body[1] !== 0);

function assertMonotonic(tags: FlvTag[]): void {
  for (const type of [8, 9]) {
    const ts = frames(tags)
      .filter((t) => t.type === type)
      .map((t) => t.timestamp);
    for (let i = 1; i < ts.length; i++)
      assert.ok(ts[i]! >= ts[i - 1]!, `type ${type}: ${ts[i]} after ${ts[i - 1]}`);
  }
}

test('one pass: metadata and both headers first, then every frame, then finish', async () => {
  const target = new FakeTarget();
  const result = await pushFile({ file: FLV_3S, url: 'x', openTarget: opener(target), ...FAST });
  assert.deepEqual(target.tags.slice(0, 4).map(label), ['meta', 'v-seq', 'a-seq', 'v-key']);
  assert.equal(frames(target.tags).length, 75 + 131);
  assert.equal(result.frames, 75 + 131);
  assert.equal(result.interrupted, false);
  assert.ok(target.finished);
  assertMonotonic(target.tags);
});

test('MP4 with B-frames: starts at 0, composition times kept in the tags', async () => {
  const target = new FakeTarget();
  await pushFile({ file: MP4_10S, url: 'x', openTarget: opener(target), ...FAST });
  const video = frames(target.tags).filter((t) => t.type === 9);
  assert.equal(video.length, 250);
  assert.equal(video[0]!.timestamp, 0);
  // First frame: dts -80 → 0, pts 0 → 80: CompositionTime SI24 = 80 (E.4.3.1).
  assert.equal(video[0]!.body.readIntBE(2, 3), 80);
  assertMonotonic(target.tags);
});

test('--loop: headers and metadata once, timestamps keep growing; the signal ends it cleanly', async () => {
  const target = new FakeTarget();
  const abort = new AbortController();
  const seen = { pass: 0 };
  const result = await pushFile({
    file: FLV_3S,
    url: 'x',
    loop: true,
    signal: abort.signal,
    openTarget: opener(target),
    onProgress: (p) => {
      seen.pass = p.pass;
      if (p.pass === 3) abort.abort();
    },
    ...FAST,
  });
  assert.equal(result.interrupted, true);
  assert.ok(result.pass >= 3);
  assert.ok(target.finished, 'the publish is ended, not cut');
  assert.equal(target.tags.filter((t) => label(t) === 'meta').length, 1);
  assert.equal(target.tags.filter((t) => label(t) === 'v-seq').length, 1);
  assert.equal(target.tags.filter((t) => label(t) === 'a-seq').length, 1);
  assertMonotonic(target.tags);
  const video = frames(target.tags).filter((t) => t.type === 9);
  assert.ok(video.length > 150);
  assert.ok(video.at(-1)!.timestamp > 6000);
});

test('reconnect: backoff past a refused connection, then headers, a keyframe and continuous times', async () => {
  const first = new FakeTarget(60);
  const second = new FakeTarget();
  const open = opener(first, new PushError('unreachable', 'fake: ECONNREFUSED'), second);
  const logs: string[] = [];
  const result = await pushFile({
    file: FLV_3S,
    url: 'x',
    openTarget: open,
    log: (m) => logs.push(m),
    ...FAST,
  });
  assert.equal(open.calls, 3);
  assert.equal(result.reconnects, 1);
  assert.equal(logs.filter((l) => l.includes('reconnecting in')).length, 2);
  assert.ok(logs.some((l) => l.startsWith('reconnected')));
  assert.deepEqual(second.tags.slice(0, 4).map(label), ['meta', 'v-seq', 'a-seq', 'v-key']);
  const lastBefore = Math.max(...frames(first.tags).map((t) => t.timestamp));
  const firstAfter = frames(second.tags)[0]!.timestamp;
  // The fixture's keyframes are 2 s apart: the next one after the loss is at 2000 ms.
  assert.ok(lastBefore < 2000, `${lastBefore}`);
  assert.equal(firstAfter, 2000);
  assertMonotonic(second.tags);
  assert.ok(second.finished);
});

test('--no-reconnect: the first loss fails the push', async () => {
  const err = await pushFile({
    file: FLV_3S,
    url: 'x',
    reconnect: false,
    openTarget: opener(new FakeTarget(10)),
    ...FAST,
  }).catch((e: unknown) => e);
  assert.ok(isPushError(err, 'connection-lost'));
});

test('reconnect: a name still taken is retried, an auth refusal is final', async () => {
  const busy = new PushError('publish-refused', 'x: HTTP 409: ERR_STREAM_BUSY: live/a is already published');
  const second = new FakeTarget();
  const open = opener(new FakeTarget(30), busy, second);
  await pushFile({ file: FLV_3S, url: 'x', openTarget: open, ...FAST });
  assert.equal(open.calls, 3);
  assert.ok(second.finished);

  const auth = new PushError('publish-refused', 'x: HTTP 403: ERR_AUTH: bad signature');
  const err = await pushFile({
    file: FLV_3S,
    url: 'x',
    openTarget: opener(new FakeTarget(30), auth),
    ...FAST,
  }).catch((e: unknown) => e);
  assert.equal(err, auth);
});

test('reconnect: attempts keep counting and the backoff doubles while the name stays taken', async () => {
  const busy = () =>
    new PushError('publish-refused', 'x: HTTP 409: ERR_STREAM_BUSY: live/a is already published');
  const last = new FakeTarget();
  const open = opener(new FakeTarget(30), busy(), busy(), busy(), last);
  const logs: string[] = [];
  await pushFile({
    file: FLV_3S,
    url: 'x',
    openTarget: open,
    log: (m) => logs.push(m),
    ...FAST,
    backoff: { initialMs: 100, maxMs: 400 },
  });
  const tries = logs
    .filter((l) => l.includes('reconnecting in'))
    .map((l) => /in ([\d.]+) s \(attempt (\d+)\)/.exec(l)!);
  assert.deepEqual(
    tries.map((m) => [m[1], m[2]]),
    [
      ['0.1', '1'],
      ['0.2', '2'],
      ['0.4', '3'],
      ['0.4', '4'],
    ],
  );
  assert.ok(last.finished);
});

test('a publish refused at the start is never retried, busy or not', async () => {
  const busy = new PushError('publish-refused', 'x: HTTP 409: ERR_STREAM_BUSY: live/a is already published');
  const open = opener(busy, new FakeTarget());
  const err = await pushFile({ file: FLV_3S, url: 'x', openTarget: open, loop: true, ...FAST }).catch(
    (e: unknown) => e,
  );
  assert.equal(err, busy);
  assert.equal(open.calls, 1);
});

test('PushError masks the query values of the URLs in its message (credentials)', () => {
  const e = new PushError(
    'publish-refused',
    'http://h:1/live/cam?sign=123-abcdef&key=k1&x: HTTP 403: ERR_AUTH: rtmp://h/live?secret=s2 refused',
  );
  assert.equal(
    e.message,
    'http://h:1/live/cam?sign=***&key=***&x: HTTP 403: ERR_AUTH: rtmp://h/live?secret=*** refused',
  );
  assert.equal(maskQueries('no url here: a=b'), 'no url here: a=b');
});
