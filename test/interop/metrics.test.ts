/**
 * `GET /metrics` (Prometheus text format) on the origin's web port, an edge's port and the file
 * gateway's port, while FFmpeg publishes over RTMP and viewers watch over HTTP-FLV (origin and
 * edge): every documented family is there, the figures are the live ones, and two servers in one
 * process keep separate registries. Also: the close line of an HTTP-FLV viewer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveSettings } from '../../src/config/load.js';
import { FILES_SETTINGS } from '../../src/config/schema.js';
import { FileGateway } from '../../src/files/file-gateway.js';
import { silentLogger } from '../../src/log.js';
import { captureLog, startEdge } from '../helpers/edge.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, waitLive } from '../helpers/origin.js';
import { start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

/** Every sample of the text format as `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<{ type: string; samples: Map<string, number>; text: string }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { type: res.headers.get('content-type') ?? '', samples: parse(text), text };
}

/** The families README "Metrics" lists for the origin. */
const ORIGIN_FAMILIES = [
  'estuary_connections',
  'estuary_connections_accepted_total',
  'estuary_received_bytes_total',
  'estuary_sent_bytes_total',
  'estuary_clients',
  'estuary_streams',
  'estuary_publishers',
  'estuary_viewers',
  'estuary_viewer_skips_total',
  'estuary_viewers_stalled_total',
  'estuary_recorder_errors_total',
  'estuary_admission_refusals_total',
  'estuary_limit_hits_total',
  'nodejs_eventloop_lag_seconds',
  'nodejs_gc_duration_seconds',
  'process_cpu_seconds_total',
];

test('origin and edge /metrics while FFmpeg publishes over RTMP and viewers watch', async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  if (!ffmpeg) return;
  const o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
  // A second origin in the same process: its own registry (prom-client's global one would throw).
  const other = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
  const cap = captureLog();
  const edge = await startEdge(`http://127.0.0.1:${o.ports.http}`, {}, cap.log);
  const pub = start(
    ffmpeg,
    publishArgs(fixture('h264-aac-bframes-10s.flv'), o.rtmpUrl('live/m'), true),
    30_000,
  );
  const viewers: Awaited<ReturnType<typeof httpGetStream>>[] = [];
  try {
    await waitLive(o.origin, 'live/m');
    viewers.push(await httpGetStream(o.flvUrl('live/m')), await httpGetStream(edge.flvUrl('live/m')));
    let got = 0;
    for (const v of viewers) v.onData((c) => (got += c.length));
    await until('both viewers to receive', () => got > 50_000, 10_000);
    const m = await scrape(`http://127.0.0.1:${o.ports.web}/metrics`);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    for (const f of ORIGIN_FAMILIES) assert.match(m.text, new RegExp(`^# TYPE ${f} `, 'm'), f);
    const s = m.samples;
    assert.equal(s.get('estuary_clients{protocol="rtmp",role="publisher"}'), 1);
    // The origin's two viewers: the test's and the edge's pull.
    assert.equal(s.get('estuary_clients{protocol="http-flv",role="viewer"}'), 2);
    assert.equal(s.get('estuary_streams'), 1);
    assert.equal(s.get('estuary_publishers'), 1);
    assert.equal(s.get('estuary_viewers'), 2);
    assert.ok((s.get('estuary_received_bytes_total{port="rtmp"}') ?? 0) > 10_000);
    assert.ok((s.get('estuary_sent_bytes_total{port="http"}') ?? 0) > 20_000);
    assert.ok((s.get('estuary_connections{port="http"}') ?? 0) >= 2);
    assert.equal(s.get('estuary_recorder_errors_total'), 0);

    const e = await scrape(`${edge.base}/metrics`);
    assert.equal(e.samples.get('estuary_clients{protocol="http-flv",role="viewer"}'), 1);
    assert.equal(e.samples.get('estuary_upstream_pulls{state="live"}'), 1);
    assert.ok((e.samples.get('estuary_upstream_received_bytes_total') ?? 0) > 10_000);
    assert.ok((e.samples.get('estuary_sent_bytes_total{port="edge"}') ?? 0) > 10_000);
    assert.match(e.text, /^nodejs_eventloop_lag_seconds /m);

    const idle = await scrape(`http://127.0.0.1:${other.ports.web}/metrics`);
    assert.equal(idle.samples.get('estuary_streams'), 0, 'the other origin counts its own streams');

    // A viewer's close: one line with why, bytes and duration.
    viewers.pop()!.destroy();
    await until(
      "the edge viewer's close line",
      () => cap.lines().some((l) => l.msg === 'closed' && l.role === 'viewer'),
      5000,
    );
    const line = cap.lines().find((l) => l.msg === 'closed' && l.role === 'viewer')!;
    assert.equal(line.proto, 'http-flv');
    assert.equal(line.path, 'live/m');
    assert.match(String(line.reason), /by the client/);
    assert.ok(Number(line.bytesOut) > 10_000, JSON.stringify(line));
    assert.ok(Number(line.durationMs) > 0);
  } finally {
    for (const v of viewers) v.destroy();
    pub.child.kill('SIGKILL');
    await pub.done;
    await edge.stop();
    await other.stop();
    await o.stop();
  }
});

test('the file gateway serves /metrics with its port and limit figures', async () => {
  const root = mkdtempSync(join(tmpdir(), 'estuary-metrics-files-'));
  const config = resolveSettings(FILES_SETTINGS, [
    { host: '127.0.0.1', port: 0, root, accessLog: 'off' },
  ]).config;
  const g = new FileGateway(config, silentLogger());
  try {
    const port = await g.start();
    await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.text());
    const m = await scrape(`http://127.0.0.1:${port}/metrics`);
    assert.ok((m.samples.get('estuary_connections_accepted_total{port="files"}') ?? 0) >= 1);
    assert.match(m.text, /^# TYPE estuary_limit_hits_total counter/m);
    assert.match(m.text, /^# TYPE nodejs_gc_duration_seconds histogram/m);
  } finally {
    await g.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
