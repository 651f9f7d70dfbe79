import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptMode, hasReusePort } from '../../../src/cluster/accept-mode.js';

test('reusePort is there from Node 22.12 and 23.1, on Linux only', () => {
  assert.equal(hasReusePort('20.20.2', 'linux'), false);
  assert.equal(hasReusePort('22.11.0', 'linux'), false);
  assert.equal(hasReusePort('22.12.0', 'linux'), true);
  assert.equal(hasReusePort('23.0.0', 'linux'), false);
  assert.equal(hasReusePort('23.1.0', 'linux'), true);
  assert.equal(hasReusePort('24.0.0', 'linux'), true);
  assert.equal(hasReusePort('24.0.0', 'darwin'), false);
});

test('auto is reuseport where Node has it, else the shared socket', () => {
  assert.equal(acceptMode('auto', true), 'reuseport');
  assert.equal(acceptMode('auto', false), 'shared');
  assert.equal(acceptMode('round-robin', true), 'round-robin');
  assert.equal(acceptMode('shared', true), 'shared');
  assert.equal(acceptMode('reuseport', true), 'reuseport');
});

test('reuseport asked for on a Node without it is a configuration error', () => {
  assert.throws(() => acceptMode('reuseport', false), { code: 'ERR_CONFIG' });
});
