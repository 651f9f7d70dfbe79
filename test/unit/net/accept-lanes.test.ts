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
