/** The hlsCleanup setting: off by default; the --hls-cleanup flag, ESTUARY_HLS_CLEANUP, the config key. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv, configFromFlags, resolveServeConfig } from '../../../src/config/load.js';

test('hlsCleanup is off by default and set by flag, environment or config file', () => {
  assert.equal(resolveServeConfig([]).hlsCleanup, false);
  assert.equal(resolveServeConfig([configFromFlags({ 'hls-cleanup': true })]).hlsCleanup, true);
  assert.equal(resolveServeConfig([configFromEnv({ ESTUARY_HLS_CLEANUP: 'true' })]).hlsCleanup, true);
  assert.equal(resolveServeConfig([{ hlsCleanup: true }]).hlsCleanup, true);
  assert.throws(() => configFromEnv({ ESTUARY_HLS_CLEANUP: 'maybe' }), { code: 'ERR_CONFIG' });
});
