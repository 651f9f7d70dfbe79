/**
 * `npm run fuzz -- --seconds N [--seed S]`: a running server (a child process, heap capped) is fed
 * mutated real traffic on every port — RTMP publish sessions (after a real handshake), HTTP-FLV
 * POST bodies, WebSocket upgrades and frames, web-port requests — while a real FFmpeg publish and
 * a real HTTP-FLV viewer run beside them. It reports crashes (the process died), hangs (the web
 * port's /healthz did not answer in 2 s) and whether the good viewer kept receiving. An input in
 * flight when something broke is saved under test/fixtures/fuzz/server/ with its kind in the name,
 * to be committed: test/interop/fuzz-corpus.test.ts replays every one of them in `npm test`.
 * Never part of `npm test`; loopback only; stops by itself after --seconds.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { RtmpClientHandshake } from '../src/formats/rtmp/handshake.js';
import { publishArgs } from '../test/helpers/media.js';
import { start } from '../test/helpers/run.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { tools } from '../test/helpers/tools.js';

const FIXTURES = new URL('../test/fixtures/', import.meta.url);
const CORPUS = new URL('../test/fixtures/fuzz/server/', import.meta.url);
const RTMP_CAPTURE = readFileSync(new URL('rtmp/ffmpeg-publish-chunks.bin', FIXTURES));
const FLV = readFileSync(new URL('media/h264-aac-3s.flv', FIXTURES));
const LOOP_FIXTURE = new URL('media/h264-aac-bframes-10s.flv', FIXTURES).pathname;

/** Where an input goes: RTMP (after a handshake), the live HTTP port (POST, GET, WebSocket), the web port. */
export type FuzzKind = 'rtmp' | 'http-flv-post' | 'live' | 'ws' | 'web';

export const FUZZ_KINDS: readonly FuzzKind[] = ['rtmp', 'http-flv-post', 'live', 'ws', 'web'];

/** A small deterministic PRNG (mulberry32), so a run is reproducible by its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x09, 0x0a, 0x11, 0x3f, 0x7f, 0x80, 0xc3, 0xff];

/** A few random edits of `src`: bit flips, interesting bytes, insertions, cuts, duplicated runs. */
export { httpHead };

export function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const pos = () => Math.floor(rnd() * Math.max(1, b.length));
  for (let n = 1 + Math.floor(rnd() * 6); n > 0; n--) {
    const op = Math.floor(rnd() * 6);
    const at = pos();
    if (op === 0 && b.length) b[at] = (b[at] ?? 0) ^ (1 << Math.floor(rnd() * 8));
    else if (op === 1 && b.length) b[at] = INTERESTING[Math.floor(rnd() * INTERESTING.length)]!;
    else if (op === 2)
      b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), b.subarray(at)]);
    else if (op === 3)
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pos() / 8))]);
    else if (op === 4) b = b.subarray(0, at);
    else b = Buffer.concat([b, b.subarray(at, at + 256)]);
  }
  return b;
}

/** What one input is: its kind and the bytes sent after the connection (and handshake) opened. */
export interface FuzzInput {
  kind: FuzzKind;
  bytes: Buffer;
}

function httpHead(method: string, path: string, extra: string[] = []): Buffer {
  return Buffer.from(
    [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...extra, '', ''].join('\r\n'),
    'latin1',
  );
}

/** Makes the next input of `kind` from the real traffic it imitates. */
export function makeInput(kind: FuzzKind, rnd: () => number): FuzzInput {
  switch (kind) {
    case 'rtmp':
      return { kind, bytes: mutate(RTMP_CAPTURE.subarray(0, 4096 + Math.floor(rnd() * 60_000)), rnd) };
    case 'http-flv-post': {
      const body = mutate(FLV.subarray(0, 1024 + Math.floor(rnd() * 30_000)), rnd);
      const head = httpHead('POST', `/fuzz/p${Math.floor(rnd() * 4)}`, [`Content-Length: ${body.length}`]);
      return {
        kind,
        bytes: rnd() < 0.2 ? mutate(Buffer.concat([head, body]), rnd) : Buffer.concat([head, body]),
      };
    }
    case 'ws': {
      const head = httpHead('GET', '/live/good.flv', [
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ]);
      // A masked binary frame of random bytes after the upgrade (RFC 6455 5.2).
      const payload = Buffer.from(
        Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)),
      );
      const frame = Buffer.concat([
        Buffer.from([0x82, 0x80 | Math.min(payload.length, 125), 1, 2, 3, 4]),
        payload,
      ]);
      return { kind, bytes: mutate(Buffer.concat([head, frame]), rnd) };
    }
    case 'live': {
      // Plays, pipelined and mangled: a play owns its connection (issue 9: 50 viewers on one socket).
      const one = httpHead('GET', `/live/good.flv${rnd() < 0.5 ? '?disableAudio=1' : ''}`);
      const n = 1 + Math.floor(rnd() * 20);
      return { kind, bytes: mutate(Buffer.concat(Array.from({ length: n }, () => one)), rnd) };
    }
    case 'web': {
      const paths = [
        '/api/streams',
        '/hls/live/good/index.m3u8',
        '/flv/../../etc/passwd',
        '/mp4/live/good/x',
        '/',
      ];
      const head = httpHead(rnd() < 0.8 ? 'GET' : 'OPTIONS', paths[Math.floor(rnd() * paths.length)]!, [
        `Range: bytes=${Math.floor(rnd() * 100)}-${Math.floor(rnd() * 50)}`,
        'If-None-Match: *',
      ]);
      return { kind, bytes: mutate(head, rnd) };
    }
  }
}

export interface FuzzPorts {
  rtmp: number;
  http: number;
  web: number;
}

function portOf(kind: FuzzKind, ports: FuzzPorts): number {
  return kind === 'rtmp' ? ports.rtmp : kind === 'web' ? ports.web : ports.http;
}

/** Sends one input over a new connection (RTMP: after a real handshake) and closes it soon after. */
export function sendInput(input: FuzzInput, ports: FuzzPorts, lingerMs = 200): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect(portOf(input.kind, ports), '127.0.0.1');
    const done = () => {
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 3000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('data', () => {});
    const send = () => {
      socket.write(input.bytes);
      setTimeout(done, lingerMs);
    };
    socket.once('connect', () => {
      if (input.kind !== 'rtmp') return send();
      const hs = new RtmpClientHandshake();
      socket.write(hs.start());
      const onData = (chunk: Buffer) => {
        const step = hs.feed(chunk);
        if (step.send) socket.write(step.send);
        if (step.done) {
          socket.off('data', onData);
          send();
        }
      };
      socket.on('data', onData);
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
  });
}

function save(input: FuzzInput, why: string): string {
  mkdirSync(CORPUS, { recursive: true });
  const hash = createHash('sha256').update(input.bytes).digest('hex').slice(0, 12);
  const name = `${input.kind}-${why}-${hash}.bin`;
  writeFileSync(new URL(name, CORPUS), input.bytes);
  return name;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      seconds: { type: 'string', default: '60' },
      seed: { type: 'string', default: String(Date.now() % 1e9) },
    },
  });
  const seconds = Number(values.seconds);
  const seed = Number(values.seed);
  const ffmpeg = tools.ffmpeg;
  if (!ffmpeg) throw new Error('ffmpeg is needed for the good publish');
  const rnd = prng(seed);
  console.log(`fuzz: ${seconds} s, seed ${seed}`);
  let server = await startServerProcess({ record: { flv: true, hls: true, mp4: true } });
  const counts: Record<string, number> = {};
  const broke: string[] = [];
  const deadline = Date.now() + seconds * 1000;
  let viewerBytes = 0;
  /** The good publish and, once it is live, the good viewer (retried until it gets 200). */
  const startGood = async () => {
    const pub = start(
      ffmpeg,
      [
        '-stream_loop',
        '-1',
        ...publishArgs(LOOP_FIXTURE, `rtmp://127.0.0.1:${server.ports.rtmp}/live/good`, true),
      ],
      seconds * 1000 + 60_000,
    );
    const until = Date.now() + 15_000;
    for (;;) {
      const viewer = await new Promise<ReturnType<typeof get> | undefined>((resolve) => {
        const req = get(`http://127.0.0.1:${server.ports.http}/live/good.flv`, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return resolve(undefined);
          }
          res.on('data', (d: Buffer) => {
            viewerBytes += d.length;
          });
          res.on('error', () => {});
          resolve(req);
        });
        req.on('error', () => resolve(undefined));
      });
      if (viewer) return { pub, viewer };
      if (Date.now() > until) throw new Error('the good publish did not go live');
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  let good = await startGood();
  let lastBytes = viewerBytes;
  let lastCheck = Date.now();
  while (Date.now() < deadline) {
    const batch = Array.from({ length: 8 }, () =>
      makeInput(FUZZ_KINDS[Math.floor(rnd() * FUZZ_KINDS.length)]!, rnd),
    );
    await Promise.all(batch.map((i) => sendInput(i, server.ports)));
    for (const i of batch) counts[i.kind] = (counts[i.kind] ?? 0) + 1;
    const alive = server.alive();
    const answers = alive && (await healthy(server.ports.web));
    let stalled = false;
    if (Date.now() - lastCheck > 5000) {
      stalled = viewerBytes === lastBytes;
      lastBytes = viewerBytes;
      lastCheck = Date.now();
    }
    if (!alive || !answers || stalled) {
      const why = !alive ? 'crash' : !answers ? 'hang' : 'viewer-stalled';
      for (const i of batch) broke.push(save(i, why));
      console.log(`fuzz: ${why}; saved the ${batch.length} inputs in flight; restarting the server`);
      good.pub.child.kill('SIGKILL');
      good.viewer.destroy();
      await server.stop().catch(() => {});
      server = await startServerProcess({ record: { flv: true, hls: true, mp4: true } });
      good = await startGood();
      lastBytes = viewerBytes;
      lastCheck = Date.now();
    }
  }
  good.pub.child.kill('SIGKILL');
  good.viewer.destroy();
  const rssMb = Math.round(server.rss() / 1e6);
  await server.stop();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(
    `fuzz: ${total} inputs (${Object.entries(counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}), server RSS at the end ${rssMb} MB, good viewer got ${(viewerBytes / 1e6).toFixed(1)} MB`,
  );
  console.log(
    broke.length === 0
      ? 'fuzz: nothing broke'
      : `fuzz: saved ${broke.length} inputs:\n  ${broke.join('\n  ')}`,
  );
  process.exitCode = broke.length === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
