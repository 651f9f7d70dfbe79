import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lanesPerPort } from '../../../src/net/port-lanes.js';

test("the origin's three ports share the lanes that fit beside the busiest port's bound", () => {
  // 20,000 files, 19,500 connections, 128 reserved: 372 fit, all 256 wanted, 85 per port.
  assert.deepEqual(lanesPerPort({ wanted: 256, maxConnections: 19_500, ports: 3 }, 20_000), {
    fit: 256,
    perPort: 85,
  });
  // The old default bound of 20,000 left none.
  assert.deepEqual(lanesPerPort({ wanted: 256, maxConnections: 20_000, ports: 3 }, 20_000), {
    fit: 0,
    perPort: 0,
  });
  // Fewer fit than wanted: what fits, shared.
  assert.deepEqual(lanesPerPort({ wanted: 256, maxConnections: 19_800, ports: 3 }, 20_000), {
    fit: 72,
    perPort: 24,
  });
  // One port (an edge, a file gateway) keeps all; no limit known: all wanted.
  assert.equal(lanesPerPort({ wanted: 256, maxConnections: 19_500, ports: 1 }, 20_000).perPort, 256);
  assert.equal(lanesPerPort({ wanted: 256, maxConnections: 1e9, ports: 2 }, undefined).perPort, 128);
});
