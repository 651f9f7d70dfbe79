import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamDirectory } from '../../../src/cluster/directory.js';
import { sumStreams } from '../../../src/cluster/sum-streams.js';
import { workerCount } from '../../../src/cluster/worker-count.js';
import type { StreamInfo } from '../../../src/http/api/stream-info.js';

test('one holder per name; the same worker may ask again; release only by the holder', () => {
  const d = new StreamDirectory();
  assert.deepEqual(d.claim('live/a', 1), { ok: true, fresh: true });
  assert.deepEqual(d.claim('live/a', 2), { ok: false, holder: 1 });
  assert.deepEqual(d.claim('live/a', 1), { ok: true, fresh: false });
  assert.equal(d.release('live/a', 2), false);
  assert.equal(d.holder('live/a'), 1);
  assert.equal(d.release('live/a', 1), true);
  assert.deepEqual(d.claim('live/a', 2), { ok: true, fresh: true });
});

test('a dead worker frees every name it held, and its URL', () => {
  const d = new StreamDirectory();
  d.setUrl(1, 'http://127.0.0.1:1111');
  d.setUrl(2, 'http://127.0.0.1:2222');
  d.claim('live/a', 1);
  d.claim('live/b', 1);
  d.claim('live/c', 2);
  assert.deepEqual(d.dropWorker(1).sort(), ['live/a', 'live/b']);
  assert.equal(d.holder('live/a'), undefined);
  assert.equal(d.url(1), undefined);
  assert.equal(d.holder('live/c'), 2);
  assert.equal(d.url(2), 'http://127.0.0.1:2222');
});

test('held names are refused to every worker until released', () => {
  const d = new StreamDirectory();
  d.hold(['live/a']);
  assert.deepEqual(d.claim('live/a', 1), { ok: false, held: true });
  assert.deepEqual(d.claim('live/b', 1), { ok: true, fresh: true });
  d.unhold(['live/a']);
  assert.deepEqual(d.claim('live/a', 2), { ok: true, fresh: true });
});

function info(path: string, protocol: string, viewers: Record<string, number>, bytesOut: number): StreamInfo {
  const total = Object.values(viewers).reduce((a, b) => a + b, 0);
  return {
    app: path.split('/')[0]!,
    stream: path.split('/')[1]!,
    path,
    publisher: { clientId: 'x', protocol, remote: 'r' },
    startedAt: '',
    uptimeSeconds: 1,
    video: null,
    audio: null,
    bitrateKbps: 250,
    bytesIn: 1,
    bytesOut,
    framesIn: 1,
    viewers: { ...viewers, total },
  };
}

test('the API sum: each stream once, as its holder describes it, with every worker’s viewers less the relays', () => {
  const w1 = [info('live/a', 'rtmp', { 'http-flv': 3, rtmp: 1 }, 100)]; // 1 of the 3 is worker 2's relay
  const w2 = [info('live/a', 'pull', { 'http-flv': 2, 'ws-flv': 1 }, 50), info('live/b', 'rtmp', {}, 0)];
  const out = sumStreams([w1, w2]);
  assert.deepEqual(
    out.map((s) => s.path),
    ['live/a', 'live/b'],
  );
  assert.equal(out[0]!.publisher?.protocol, 'rtmp');
  assert.deepEqual(out[0]!.viewers, { 'http-flv': 4, rtmp: 1, 'ws-flv': 1, total: 6 });
  assert.equal(out[0]!.bytesOut, 150);
  assert.equal(out[1]!.viewers.total, 0);
});

test('--workers auto is one per core, a number is itself', () => {
  assert.ok(workerCount('auto') >= 1);
  assert.equal(workerCount(3), 3);
});

test('the workers setting takes a whole number from 1 or auto, from flags, env and files alike', async () => {
  const { coerce } = await import('../../../src/config/setting.js');
  const { SERVE_SETTINGS } = await import('../../../src/config/schema.js');
  const s = SERVE_SETTINGS.workers;
  assert.deepEqual(coerce(s, 'auto'), { ok: true, value: 'auto' });
  assert.deepEqual(coerce(s, '2'), { ok: true, value: 2 });
  assert.deepEqual(coerce(s, 4), { ok: true, value: 4 });
  assert.equal(coerce(s, '0').ok, false);
  assert.equal(coerce(s, 'two').ok, false);
  assert.equal(coerce(s, 0).ok, false);
});
