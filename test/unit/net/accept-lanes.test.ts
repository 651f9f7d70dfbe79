import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { connect, type Server } from 'node:net';
import { test } from 'node:test';
import { type AcceptLanes, addAcceptLanes } from '../../../src/net/accept-lanes.js';
import { HTTP_SOCKET } from '../../../src/net/port-lanes.js';
import { accepts } from '../../helpers/wait.js';

/** Lanes whose sockets are made as node:http's, accept errors ignored. */
const AS_HTTP = { socket: HTTP_SOCKET, onError: () => {} };

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    let answer = '';
    s.setTimeout(5000, () => s.destroy(new Error('no answer in 5 s')));
    s.on('data', (d: Buffer) => {
      answer += d.toString();
    });
    s.on('error', reject);
    s.on('close', () => resolve(answer));
  });
}

test('lanes accept for the server: answered, counted as its connections, backlog kept, closed with it', async () => {
  const server = createServer((_req, res) => {
    server.getConnections((_e, n) => res.end(`open ${n}`));
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 1234 }, r));
  const lanes = await addAcceptLanes(server, {
    count: 8,
    backlog: 1234,
    ...AS_HTTP,
  });
  try {
    assert.equal(lanes.count, 8);
    const port = (server.address() as { port: number }).port;
    const answers = await Promise.all(Array.from({ length: 40 }, () => get(port)));
    assert.ok(
      answers.every((a) => /^HTTP\/1\.1 200 [\s\S]*open [1-9]\d*$/.test(a)),
      'every connection answered by the server, and counted in its connections',
    );
    // ss shows the listening socket's backlog (Send-Q): a re-listen with 511 would shrink it.
    let ss = '';
    try {
      ss = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
    } catch {
      // no ss here: the backlog is not checked
    }
    if (ss) assert.match(ss, /\s1234\s/, `backlog kept: ${ss.trim()}`);
    await new Promise<void>((r) => {
      const check = () => server.getConnections((_e, n) => (n === 0 ? r() : setTimeout(check, 20)));
      check();
    });
  } finally {
    lanes.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
  const port = (server.address() as { port: number } | null)?.port;
  assert.equal(port, undefined, 'the server closed');
});

test('no lanes for a server that is not listening, or for 0', async () => {
  const server = createServer();
  const opts = { backlog: 511, socket: {}, onError: () => {} };
  assert.equal((await addAcceptLanes(server, { ...opts, count: 4 })).count, 0);
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  try {
    assert.equal((await addAcceptLanes(server, { ...opts, count: 0 })).count, 0);
  } finally {
    server.close();
  }
});

/** Opens `n` connections while this loop is blocked for `blockMs`: they wait in the kernel's queue. */
async function burst(
  port: number,
  n: number,
  blockMs: number,
  into: ReturnType<typeof connect>[],
): Promise<void> {
  for (let i = 0; i < n; i++) into.push(connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise<void>((r) =>
    setImmediate(() => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, blockMs);
      r();
    }),
  );
}

/** An HTTP server answering "ok" with 64 lanes, 2 of them listening when idle. */
async function withLanes(quietMs: number): Promise<{ server: Server; lanes: AcceptLanes; port: number }> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 2048 }, r));
  const lanes = await addAcceptLanes(server, { count: 64, idle: 2, quietMs, backlog: 2048, ...AS_HTTP });
  return { server, lanes, port: (server.address() as { port: number }).port };
}

test('lanes listen as the queue needs: idle few, double while every one accepts in an iteration, halve when quiet, made again after', async () => {
  const { server, lanes, port } = await withLanes(150);
  const sockets: ReturnType<typeof connect>[] = [];
  try {
    assert.equal(lanes.count, 64, 'every lane made');
    assert.equal(lanes.open, 2, 'only the idle lanes listen while nothing queues');
    // One connection at a time never saturates the lanes.
    for (let i = 0; i < 5; i++) assert.match(await get(port), /^HTTP\/1\.1 200 /);
    assert.equal(lanes.open, 2, 'one connection at a time: still the idle lanes');
    // 400 connections queue in the kernel while this loop is blocked: the next iterations find
    // more waiting than the listening lanes can take, every time, and the lanes double.
    let accepted = 0;
    server.on('connection', () => {
      accepted++;
    });
    await burst(port, 400, 300, sockets);
    let peak = lanes.open;
    while (accepted < 400) {
      await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, lanes.open);
    }
    assert.ok(peak > 2, `lanes opened under the burst (peak ${peak})`);
    assert.ok(peak <= 64, 'never more than count');
    for (const s of sockets.splice(0)) s.destroy();
    // Quiet: halved every 150 ms back to the idle ones, then the closed ones made again.
    const deadline = Date.now() + 8000;
    while ((lanes.open > 2 || lanes.count < 64) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(lanes.open, 2, 'back to the idle lanes when quiet');
    assert.equal(lanes.count, 64, 'the closed lanes made again, ready for the next burst');
    assert.match(await get(port), /^HTTP\/1\.1 200 /, 'still answering');
    // A lower ceiling (a reload raised the connection bound): held lanes go first, never regrown.
    lanes.limitTo(1);
    assert.equal(lanes.count, 1, 'one lane left');
    assert.equal(lanes.open, 1, 'the listening ones kept before the held ones');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(lanes.count, 1, 'not made again past the ceiling');
    assert.match(await get(port), /^HTTP\/1\.1 200 /, 'still answering');
  } finally {
    for (const s of sockets) s.destroy();
    lanes.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** Polls `done` every 5 ms for up to `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
}

/** A burst opens all 64 lanes of `withLanes`; the first quiet check halves them: 32 listen, none held. */
async function burstThenHalve(
  lanes: AcceptLanes,
  port: number,
  sockets: ReturnType<typeof connect>[],
): Promise<void> {
  const open = () => lanes.open;
  await burst(port, 400, 300, sockets);
  await until(() => open() === 64, 3000);
  assert.equal(open(), 64, 'the first burst opened every lane');
  await until(() => open() === 32, 5000);
  assert.equal(open(), 32, 'halved');
  assert.equal(lanes.count, 32, 'the halved lanes are closed, none held');
}

test('a burst that finds the lanes halved makes the closed ones again at once, not after the burst', async () => {
  // quietMs long enough that, once halved to 32, the lanes would take seconds to be back at idle
  // (where the quiet check alone makes them again).
  const { server, lanes, port } = await withLanes(1000);
  const sockets: ReturnType<typeof connect>[] = [];
  try {
    // Read through a function: the asserts below would otherwise narrow `open` to one literal.
    const open = () => lanes.open;
    const made = () => lanes.count;
    await burstThenHalve(lanes, port, sockets);
    // The next burst comes before the lanes are back at idle.
    await burst(port, 400, 300, sockets);
    await until(() => made() === 64, 3000);
    assert.equal(made(), 64, 'the closed lanes made again during the burst');
    assert.ok(open() > 2, `still above idle (${open()} listening)`);
  } finally {
    for (const s of sockets) s.destroy();
    lanes.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('when no child can start, busy iterations do not try again each one (once per quiet check)', async () => {
  const { server, lanes, port } = await withLanes(1000);
  const sockets: ReturnType<typeof connect>[] = [];
  const execPath = Object.getOwnPropertyDescriptor(process, 'execPath')!;
  try {
    await burstThenHalve(lanes, port, sockets);
    // From here every child start fails (as with EMFILE at the file limit); each start reads execPath.
    let starts = 0;
    Object.defineProperty(process, 'execPath', {
      configurable: true,
      get: () => {
        starts++;
        return '/nonexistent/node';
      },
    });
    // Three bursts of busy iterations within one quiet period.
    for (let i = 0; i < 3; i++) {
      await burst(port, 300, 100, sockets);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(starts >= 1, 'a refill was tried');
    assert.ok(starts <= 2, `a failed refill is not retried by every busy iteration (${starts} child starts)`);
  } finally {
    Object.defineProperty(process, 'execPath', execPath);
    for (const s of sockets) s.destroy();
    lanes.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** What a `--workers` worker's accept valve does to pause a port: its own handle closed alone. */
function closeOwnHandle(server: Server): void {
  const s = server as unknown as { _handle: { close(): void } | null };
  const handle = s._handle;
  s._handle = null;
  handle?.close();
}

test('a paused port has no lane left accepting; resumed, lanes are made from its new handle', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, r));
  const port = (server.address() as { port: number }).port;
  const lanes = await addAcceptLanes(server, {
    count: 8,
    idle: 2,
    // No quiet check in this test's time: only resume() can make the lanes again.
    quietMs: 60_000,
    backlog: 511,
    ...AS_HTTP,
  });
  try {
    assert.equal(lanes.open, 2);
    closeOwnHandle(server);
    lanes.pause();
    assert.equal(lanes.count, 0, 'every lane closed, held ones too');
    // The lanes were the last descriptors of the socket: with any left, the kernel would still
    // complete this connection and a lane would accept it for a port that stopped listening.
    // (Eventually: the short-lived child that made the duplicates may hold a copy a moment longer.)
    let gone = !(await accepts(port));
    for (const until = Date.now() + 3000; !gone && Date.now() < until; gone = !(await accepts(port))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(gone, true, 'nothing listens on the port any more');
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port, backlog: 511 }, r));
    lanes.resume();
    const deadline = Date.now() + 5000;
    while ((lanes.count < 8 || lanes.open < 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(lanes.count, 8, 'the lanes made again');
    assert.equal(lanes.open, 2, 'the idle ones listen again');
    // Only lanes listen now: with the server's own handle closed, what answers came through one.
    closeOwnHandle(server);
    assert.match(await get(port), /^HTTP\/1\.1 200 /, 'a lane of the new handle answers');
  } finally {
    lanes.close();
    server.close();
  }
});
