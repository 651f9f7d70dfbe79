import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sumServers } from '../../../src/cluster/sum-server.js';
import type { ServerInfo } from '../../../src/http/api/server.js';

function part(over: Partial<ServerInfo>): ServerInfo {
  const base: ServerInfo = {
    name: 'estuary',
    version: '0.1.0',
    node: process.version,
    pid: 0,
    startedAt: '2026-12-02T06:00:00.000Z',
    uptimeSeconds: 10,
    ports: { rtmp: 1935, http: 8501, web: 8000 },
    streams: 0,
    publishers: {},
    viewers: {},
    connections: { rtmp: 0, http: 0, web: 0 },
    bytesIn: 0,
    bytesOut: 0,
    byPort: {},
    cpu: { percent: 0, cores: 2, loadavg: [0, 0, 0] },
    memory: { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, systemTotal: 100, systemFree: 50 },
  };
  return { ...base, ...over };
}

test('sumServers adds the workers up and counts a relayed stream once', () => {
  // Worker 1 holds live/a (RTMP) with 2 HTTP-FLV viewers, one of them worker 2's relay link;
  // worker 2 relays it (publisher protocol "pull") to 3 WS-FLV viewers.
  const holder = part({
    pid: 11,
    startedAt: '2026-12-02T06:00:01.000Z',
    uptimeSeconds: 9,
    streams: 1,
    publishers: { rtmp: 1 },
    viewers: { 'http-flv': 2 },
    connections: { rtmp: 1, http: 2, web: 1 },
    bytesIn: 1000,
    bytesOut: 2000,
    byPort: { rtmp: { connections: 1, bytesIn: 1000, bytesOut: 0 } },
    cpu: { percent: 40.5, cores: 2, loadavg: [1, 1, 1] },
    memory: { rss: 100, heapUsed: 10, heapTotal: 20, external: 1, systemTotal: 100, systemFree: 50 },
  });
  const relay = part({
    pid: 12,
    uptimeSeconds: 10,
    streams: 1,
    publishers: { pull: 1 },
    viewers: { 'ws-flv': 3 },
    connections: { rtmp: 0, http: 3, web: 0 },
    bytesIn: 500,
    bytesOut: 1500,
    byPort: { rtmp: { connections: 0, bytesIn: 0, bytesOut: 0 } },
    cpu: { percent: 20, cores: 2, loadavg: [1, 1, 1] },
    memory: { rss: 50, heapUsed: 5, heapTotal: 10, external: 2, systemTotal: 100, systemFree: 50 },
  });
  const sum = sumServers([holder, relay]) as Record<string, unknown>;
  assert.equal(sum.workers, 2);
  assert.deepEqual(sum.workerPids, [11, 12]);
  assert.equal(sum.pid, process.ppid);
  assert.equal(sum.startedAt, '2026-12-02T06:00:00.000Z', 'the oldest start');
  assert.equal(sum.uptimeSeconds, 10);
  assert.equal(sum.streams, 1);
  assert.deepEqual(sum.publishers, { rtmp: 1 });
  assert.deepEqual(sum.viewers, { 'http-flv': 1, 'ws-flv': 3 });
  assert.deepEqual(sum.connections, { rtmp: 1, http: 5, web: 1 });
  assert.equal(sum.bytesIn, 1500);
  assert.equal(sum.bytesOut, 3500);
  assert.deepEqual(sum.byPort, { rtmp: { connections: 1, bytesIn: 1000, bytesOut: 0 } });
  assert.deepEqual(sum.cpu, { percent: 60.5, cores: 2, loadavg: [1, 1, 1] });
  assert.deepEqual(sum.memory, {
    rss: 150,
    heapUsed: 15,
    heapTotal: 30,
    external: 3,
    systemTotal: 100,
    systemFree: 50,
  });
  assert.deepEqual(sumServers([]), { workers: 0 });
});
