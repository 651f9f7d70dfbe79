import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { addAcceptLanes } from '../../../src/net/accept-lanes.js';

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
    socket: { allowHalfOpen: true, noDelay: true },
    onError: () => {},
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

test('lanes listen as the queue needs: idle few, double while every one accepts in an iteration, halve when quiet, made again after', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 2048 }, r));
  const lanes = await addAcceptLanes(server, {
    count: 64,
    idle: 2,
    quietMs: 150,
    backlog: 2048,
    socket: { allowHalfOpen: true, noDelay: true },
    onError: () => {},
  });
  const sockets: ReturnType<typeof connect>[] = [];
  try {
    assert.equal(lanes.count, 64, 'every lane made');
    assert.equal(lanes.open, 2, 'only the idle lanes listen while nothing queues');
    const port = (server.address() as { port: number }).port;
    // One connection at a time never saturates the lanes.
    for (let i = 0; i < 5; i++) assert.match(await get(port), /^HTTP\/1\.1 200 /);
    assert.equal(lanes.open, 2, 'one connection at a time: still the idle lanes');
    // 400 connections queue in the kernel while this loop is blocked: the next iterations find
    // more waiting than the listening lanes can take, every time, and the lanes double.
    let accepted = 0;
    server.on('connection', () => {
      accepted++;
    });
    for (let i = 0; i < 400; i++) sockets.push(connect(port, '127.0.0.1').on('error', () => {}));
    await new Promise<void>((r) =>
      setImmediate(() => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        r();
      }),
    );
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
