/**
 * The bounds against abuse (README "Limits that protect the server") that are settings, each
 * through its real protocol on a real origin: raw TCP for connection bounds, slow and oversized
 * HTTP heads, a silent RTMP handshake, an oversized RTMP message, a WebSocket viewer that talks
 * too much, RTMP and HTTP publishers past maxPublishers, viewers past maxViewersPerStream. Each
 * hit must cost that one connection, be counted in /metrics and be logged (rate-limited).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { resolveServeConfig } from '../../src/config/load.js';
import type { ServeConfig } from '../../src/config/schema.js';
import { Origin, type OriginPorts } from '../../src/origin/origin.js';
import { pushFile } from '../../src/pusher/pusher.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import { startEdge } from '../helpers/edge.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture } from '../helpers/media.js';
import { waitLive } from '../helpers/origin.js';
import { until } from '../helpers/wait.js';

type Line = Record<string, unknown>;

interface Running {
  origin: Origin;
  ports: OriginPorts;
  logs: Line[];
  stop(): Promise<void>;
}

/** An origin in this process whose log lines the test reads. */
async function origin(overrides: Partial<ServeConfig>): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'estuary-limits-'));
  const logs: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as Line);
      done();
    },
  });
  const config = resolveServeConfig([
    {
      host: '127.0.0.1',
      rtmpPort: 0,
      httpPort: 0,
      webPort: 0,
      dataDir,
      record: { flv: false, hls: false, mp4: false },
    },
    overrides,
  ]);
  const o = new Origin(config, pino({ level: 'info' }, sink));
  const ports = await o.start();
  return {
    origin: o,
    ports,
    logs,
    stop: async () => {
      await o.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `estuary_limit_hits_total{limit="…"}` as /metrics on the web port says it. */
async function hits(o: Running, limit: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${o.ports.web}/metrics`)).text();
  const m = new RegExp(`^estuary_limit_hits_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** `estuary_connections{port="…"}`: connections open on a port now. */
async function openOn(o: Running, port: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${o.ports.web}/metrics`)).text();
  const m = new RegExp(`^estuary_connections\\{port="${port}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : -1;
}

function limitLines(o: Running, limit: string): Line[] {
  return o.logs.filter((l) => l.limit === limit && String(l.msg).startsWith('limit reached'));
}

/** A TCP connection and what the server sent on it until it closed (or `ms` passed). */
async function rawExchange(
  port: number,
  send: string | Buffer,
  ms = 3000,
): Promise<{ data: string; closed: boolean }> {
  const s = connect(port, '127.0.0.1');
  let data = '';
  s.on('data', (d: Buffer) => {
    data += d.toString('latin1');
  });
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  if (send.length > 0) s.write(send);
  const closed = await Promise.race([
    new Promise<boolean>((r) => s.once('close', () => r(true))),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
  s.destroy();
  return { data, closed };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function closedWithin(s: Socket, ms: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  return Promise.race([
    new Promise<boolean>((r) => s.once('close', () => r(true))),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
}

/** A publish that runs until aborted (the pusher, looping a fixture in real time). */
function publish(url: string): { stop: () => Promise<void> } {
  const ac = new AbortController();
  const done = pushFile({
    file: fixture('h264-aac-3s.flv'),
    url,
    loop: true,
    reconnect: false,
    signal: ac.signal,
  }).catch(() => undefined);
  return {
    stop: async () => {
      ac.abort();
      await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}

function httpStatus(port: number, path: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('no answer in 5 s')));
    req.end();
  });
}

test('maxConnectionsPerAddress and maxConnections: the next connection is refused on every port, counted and logged once', async () => {
  const o = await origin({ maxConnectionsPerAddress: 2 });
  const held: Socket[] = [];
  try {
    for (const port of [o.ports.rtmp, o.ports.http])
      held.push(await openSocket(port), await openSocket(port));
    // RTMP: closed at once, nothing said (there is no RTMP answer before the handshake).
    const rtmp = await openSocket(o.ports.rtmp);
    assert.ok(await closedWithin(rtmp, 2000), 'the third RTMP connection is closed');
    // HTTP: a 503 before a byte of the request is read.
    const http = await rawExchange(o.ports.http, 'GET /api?name=listPushStream HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(http.data, /^HTTP\/1\.1 503 /);
    assert.ok(http.closed);
    // node:http parses a refused connection's request all the same: it must reach no handler.
    let asked = 0;
    o.origin.admission.use(() => {
      asked++;
      return undefined;
    });
    const flv = readFileSync(fixture('h264-aac-3s.flv'));
    const head = `POST /live/sneak HTTP/1.1\r\nHost: x\r\nContent-Length: ${flv.length}\r\n\r\n`;
    const sneak = await rawExchange(o.ports.http, Buffer.concat([Buffer.from(head), flv]));
    assert.match(sneak.data, /^HTTP\/1\.1 503 /);
    assert.equal(asked, 0, 'the refused publish was never asked about');
    assert.equal(o.origin.hub.get('live/sneak'), undefined);
    for (const s of held) assert.equal(s.destroyed, false, 'connections under the bound stay open');
    // The per-address bound counts this address only: the first two still work.
    assert.equal(await hits(o, 'max_connections_per_address'), 3);
    assert.equal(limitLines(o, 'max_connections_per_address').length, 1, 'logged once per 10 s');
    // A live change (what SIGHUP does): the bound lifts, the next connection is served.
    o.origin.reconfigure({ ...o.origin.config, maxConnectionsPerAddress: 0, maxConnections: 3 });
    assert.equal(await httpStatus(o.ports.http, '/api?name=listPushStream'), 200);
    await until('that request to close', async () => (await openOn(o, 'http')) === 2, 3000);
    held.push(await openSocket(o.ports.http));
    await until('the third to count', async () => (await openOn(o, 'http')) === 3, 3000);
    const full = await rawExchange(o.ports.http, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(full.data, /^HTTP\/1\.1 503 /, 'maxConnections (3) is now the bound');
    assert.equal(await hits(o, 'max_connections'), 1);
  } finally {
    for (const s of held) s.destroy();
    await o.stop();
  }
});

test('slowloris and huge heads: 408 after headersTimeoutMs, 431 over maxHeaderBytes, on the live and web ports', async () => {
  const o = await origin({ headersTimeoutMs: 1000, maxHeaderBytes: 2048 });
  try {
    const t0 = Date.now();
    const slow = await rawExchange(o.ports.http, 'GET /live/x.flv HTTP/1.1\r\nHost: x\r\n', 5000);
    assert.match(slow.data, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - t0 < 3500, `408 came after ${Date.now() - t0} ms`);
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`;
    for (const port of [o.ports.http, o.ports.web]) {
      const r = await rawExchange(port, big);
      assert.match(r.data, /^HTTP\/1\.1 431 /, `port ${port}`);
    }
    const slowWeb = await rawExchange(o.ports.web, 'GET / HTTP/1.1\r\n', 5000);
    assert.match(slowWeb.data, /^HTTP\/1\.1 408 /);
    assert.equal(await hits(o, 'headers_timeout'), 2);
    assert.equal(await hits(o, 'max_header_bytes'), 2);
  } finally {
    await o.stop();
  }
});

test('RTMP: a silent handshake, a connection that never publishes or plays, an oversized message: closed and counted', async () => {
  const o = await origin({ rtmpHandshakeTimeoutMs: 1000, idleTimeoutMs: 1000 });
  try {
    const t0 = Date.now();
    const silent = await rawExchange(o.ports.rtmp, '', 4000);
    assert.ok(silent.closed, 'a silent RTMP connection is closed');
    assert.ok(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);
    assert.equal(await hits(o, 'rtmp_handshake_timeout'), 1);
    // Handshake done, then nothing (idle) — and one with a 100 KiB message before any publish.
    for (const extra of [Buffer.alloc(0), chunkHeader(100 * 1024)]) {
      const s = await openSocket(o.ports.rtmp);
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= 1 + 1536 * 2 && !s.writableEnded) {
          s.write(Buffer.alloc(1536)); // C2
          if (extra.length > 0) s.write(extra);
        }
      });
      s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)])); // C0 + C1
      assert.ok(await closedWithin(s, 4000), 'closed');
      s.destroy();
    }
    assert.equal(await hits(o, 'idle_timeout'), 1);
    assert.equal(await hits(o, 'rtmp_message_bytes'), 1);
    const closed = o.logs.filter((l) => l.msg === 'closed' && l.proto === 'rtmp');
    assert.ok(closed.length >= 3, JSON.stringify(closed));
    for (const l of closed) {
      assert.equal(typeof l.bytesIn, 'number');
      assert.equal(typeof l.bytesOut, 'number');
      assert.equal(typeof l.durationMs, 'number');
    }
  } finally {
    await o.stop();
  }
});

/** A type-0 chunk header on chunk stream 3 announcing a message of `length` bytes (RTMP spec 5.3.1.2.1). */
function chunkHeader(length: number): Buffer {
  const b = Buffer.alloc(12 + 128);
  b[0] = 3;
  b.writeUIntBE(length, 4, 3);
  b[7] = 20; // AMF0 command
  return b;
}

test('maxPublishers and maxViewersPerStream: RTMP, HTTP-FLV and WebSocket-FLV are refused in their own terms', async () => {
  const o = await origin({ maxPublishers: 1, maxViewersPerStream: 1 });
  const first = publish(`rtmp://127.0.0.1:${o.ports.rtmp}/live/one`);
  const viewers: { destroy(): void }[] = [];
  try {
    await waitLive(o.origin, 'live/one');
    const rtmp = await RtmpClient.connect(`rtmp://127.0.0.1:${o.ports.rtmp}/live/two`);
    await assert.rejects(rtmp.publish(), /NetStream\.Publish\.BadName.*maxPublishers/);
    rtmp.close('done');
    assert.equal(await httpStatus(o.ports.http, '/live/two', 'POST'), 503);
    // One viewer is let in; the next is refused, whatever its protocol.
    const watching = await new Promise<{ destroy(): void; status: number }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: o.ports.http, path: '/live/one.flv' }, (res) =>
        resolve({ status: res.statusCode ?? 0, destroy: () => req.destroy() }),
      );
      req.on('error', reject);
      req.end();
    });
    viewers.push(watching);
    assert.equal(watching.status, 200);
    await until('the viewer to count', () => o.origin.hub.get('live/one')?.viewerCount === 1, 5000);
    assert.equal(await httpStatus(o.ports.http, '/live/one.flv'), 503);
    const ws = new WebSocket(`ws://127.0.0.1:${o.ports.http}/live/one.flv`);
    ws.on('error', () => {});
    const wsStatus = await new Promise<number>((resolve) =>
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    ws.terminate();
    assert.equal(wsStatus, 503);
    const player = await RtmpClient.connect(`rtmp://127.0.0.1:${o.ports.rtmp}/live/one`);
    await assert.rejects(player.play(), /NetStream\.Play\.Failed/);
    player.close('done');
    assert.equal(await hits(o, 'max_publishers'), 2);
    assert.equal(await hits(o, 'max_viewers_per_stream'), 3);
    const text = await (await fetch(`http://127.0.0.1:${o.ports.web}/metrics`)).text();
    assert.match(text, /^estuary_admission_refusals_total\{action="publish",code="ERR_LIMIT"\} 2$/m);
    assert.match(text, /^estuary_admission_refusals_total\{action="play",code="ERR_LIMIT"\} 3$/m);
  } finally {
    for (const v of viewers) v.destroy();
    await first.stop();
    await o.stop();
  }
});

test('a WebSocket-FLV viewer that sends a message over wsViewerMaxMessageBytes is closed with 1009', async () => {
  const o = await origin({ wsViewerMaxMessageBytes: 1024 });
  const pub = publish(`http://127.0.0.1:${o.ports.http}/live/ws`);
  try {
    await waitLive(o.origin, 'live/ws');
    const ws = new WebSocket(`ws://127.0.0.1:${o.ports.http}/live/ws.flv`);
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', () => reject(new Error('refused')));
    });
    const code = new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
    ws.send(Buffer.alloc(2048));
    assert.equal(await Promise.race([code, new Promise((r) => setTimeout(() => r(-1), 5000))]), 1009);
    assert.equal(await hits(o, 'ws_message_bytes'), 1);
    await until(
      'the close line',
      () => o.logs.some((l) => l.msg === 'closed' && l.proto === 'ws-flv' && l.role === 'viewer'),
      3000,
    );
    const line = o.logs.find((l) => l.msg === 'closed' && l.proto === 'ws-flv')!;
    assert.match(String(line.reason), /over 1024 bytes/);
    assert.ok(Number(line.bytesOut) > 0, 'bytes sent are in the close line');
    assert.equal(line.path, 'live/ws');
  } finally {
    await pub.stop();
    await o.stop();
  }
});

test('an edge bounds its viewers per stream and its connections the same way, and counts them in its /metrics', async () => {
  const o = await origin({});
  const e = await startEdge(`http://127.0.0.1:${o.ports.http}`, {
    maxViewersPerStream: 1,
    maxConnectionsPerAddress: 3,
  });
  const pub = publish(`http://127.0.0.1:${o.ports.http}/live/e`);
  const held: { destroy(): void }[] = [];
  try {
    await waitLive(o.origin, 'live/e');
    const first = await httpGetStream(e.flvUrl('live/e'));
    held.push(first);
    assert.equal(first.status, 200);
    await until('the edge viewer to count', () => e.edge.hub.get('live/e')?.viewerCount === 1, 5000);
    assert.equal(await httpStatus(e.port, '/live/e.flv'), 503);
    held.push(await openSocket(e.port), await openSocket(e.port));
    const refused = await rawExchange(e.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(refused.data, /^HTTP\/1\.1 503 /);
    // Room again for the scrape: only the first viewer stays.
    for (const h of held.splice(1)) h.destroy();
    await until('the held connections to close', () => e.edge.stats().connections <= 1, 5000);
    const metrics = await (await fetch(`${e.base}/metrics`)).text();
    assert.match(metrics, /^estuary_limit_hits_total\{limit="max_viewers_per_stream"\} 1$/m);
    assert.match(metrics, /^estuary_limit_hits_total\{limit="max_connections_per_address"\} [1-9]/m);
  } finally {
    for (const h of held) h.destroy();
    await pub.stop();
    await e.stop();
    await o.stop();
  }
});
