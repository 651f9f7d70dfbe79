import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveServeConfig } from '../../../src/config/load.js';
import { Origin } from '../../../src/origin/origin.js';
import { captureLog } from '../../helpers/edge.js';

test('reconfigure applies the live settings and hooked ones, keeps the rest as running and names them', () => {
  const cap = captureLog();
  const config = resolveServeConfig([{ logLevel: 'info', dataDir: '/nonexistent-estuary' }]);
  const origin = new Origin(config, cap.log);
  const hooked: string[] = [];
  origin.onReconfigure(['authSecret'], (c) => hooked.push(c.authSecret ?? '(none)'));
  const r = origin.reconfigure({
    ...config,
    maxPublishers: 3,
    rtmpPort: 1999,
    authSecret: 'new-secret',
  });
  assert.deepEqual(r.applied.sort(), ['authSecret', 'maxPublishers']);
  assert.deepEqual(r.restart, ['rtmpPort']);
  assert.deepEqual(hooked, ['new-secret']);
  assert.equal(origin.config.maxPublishers, 3);
  assert.equal(origin.config.rtmpPort, config.rtmpPort, 'a port change waits for a restart');
  const reloaded = cap.lines().find((l) => String(l.msg).startsWith('configuration reloaded'));
  assert.deepEqual(reloaded?.applied, { maxPublishers: 3, authSecret: '********' });
  origin.reconfigure({ ...origin.config, logLevel: 'warn' });
  assert.equal(cap.log.level, 'warn');
  const restart = cap
    .lines()
    .find((l) => String(l.msg).startsWith('changed settings that apply only after a restart'));
  assert.deepEqual(restart?.settings, ['rtmpPort']);
  assert.ok(!JSON.stringify(cap.lines()).includes('new-secret'), 'a secret never reaches the log');
});
