/**
 * The HTTP-FLV push target against a server that drops the connection mid-publish: every send
 * after the drop must fail (so the push loop can reconnect), never wait forever for a 'drain'
 * that a closed request will not emit.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openHttpFlvTarget } from '../../../src/pusher/http-flv-target.js';
import { isPushError } from '../../../src/pusher/push-error.js';

test('a send after the server dropped the connection rejects instead of hanging', async () => {
  const server = createServer((req) => {
    // Accept the publish, read a little, then cut the connection as a stopping server does.
    req.once('data', () => setTimeout(() => req.socket.destroy(), 20));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const target = await openHttpFlvTarget(`http://127.0.0.1:${port}/live/drop`);
  const body = Buffer.alloc(64 * 1024, 1);
  const outcome = (async () => {
    // Keep publishing as the pusher does; the drop must surface as a PushError.
    for (let i = 0; i < 400; i++) {
      await target.send(9, i * 40, body);
      await sleep(5);
    }
    return 'sent everything';
  })().catch((err: unknown) => err);
  const result = await Promise.race([outcome, sleep(5000, 'hung')]);
  target.destroy();
  server.closeAllConnections();
  server.close();
  assert.notEqual(result, 'hung', 'send() never settled after the connection was dropped');
  assert.ok(isPushError(result), `expected a PushError, got ${String(result)}`);
  assert.equal(result.kind, 'connection-lost');
});
