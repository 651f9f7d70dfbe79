import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessGuard, type GuardSettings } from '../../../src/auth/guard.js';
import { signPath } from '../../../src/auth/sign.js';
import { Admission } from '../../../src/hub/admission.js';
import { StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import { silentLogger } from '../../../src/log.js';

const BASE: GuardSettings = { callbackTimeoutMs: 1000, callbackRetries: 0 };
const NAME = makeStreamName('live', 'cam');
const ask = (action: 'publish' | 'play', query = '') => ({
  action,
  name: NAME,
  query,
  address: '::ffff:127.0.0.1',
  protocol: 'rtmp',
  clientId: '1',
});

function setUp(settings: GuardSettings) {
  const admission = new Admission();
  const guard = new AccessGuard(settings, silentLogger());
  guard.install(admission, new StreamHub(silentLogger()));
  return { admission, guard };
}

test('AccessGuard: nothing configured leaves the admission empty (no cost per publish or play)', () => {
  assert.equal(setUp(BASE).admission.empty, true);
});

test('AccessGuard: rules answer at once; a reload applies to what is asked next', () => {
  const { admission, guard } = setUp({ ...BASE, authSecret: 'one' });
  assert.throws(() => admission.admit(ask('publish')), { code: 'ERR_AUTH_REQUIRED' });
  const signed = `?sign=${signPath('/live/cam', 'one', Math.floor(Date.now() / 1000) + 60)}`;
  assert.equal(admission.admit(ask('publish', signed)), NAME);
  assert.equal(admission.admit(ask('play')), NAME);
  guard.reload({ ...BASE, authSecret: 'two', authPlay: true });
  assert.throws(() => admission.admit(ask('publish', signed)), { code: 'ERR_AUTH', message: /wrong/ });
  assert.throws(() => admission.admit(ask('play')), { code: 'ERR_AUTH_REQUIRED' });
});

test('AccessGuard: a reload that enables rules on an unguarded server installs them', () => {
  const { admission, guard } = setUp(BASE);
  guard.reload({ ...BASE, authKeys: { live: 'k' } });
  assert.equal(admission.empty, false);
  assert.throws(() => admission.admit(ask('publish', '?key=x')), { code: 'ERR_AUTH' });
  assert.equal(admission.admit(ask('publish', '?key=k')), NAME);
});

test('AccessGuard: bad settings are ERR_CONFIG and a failed reload changes nothing', () => {
  assert.throws(
    () => new AccessGuard({ ...BASE, onPlay: 'ftp://x/?t=SECRET' }, silentLogger()),
    (err: Error & { code?: string }) =>
      err.code === 'ERR_CONFIG' && err.message.includes('onPlay') && !err.message.includes('SECRET'),
  );
  const { admission, guard } = setUp({ ...BASE, authKeys: { live: 'k' } });
  assert.throws(() => guard.reload({ ...BASE, authPlayDeny: { live: ['300.1.1.1'] } }), {
    code: 'ERR_CONFIG',
  });
  assert.throws(() => admission.admit(ask('publish')), { code: 'ERR_AUTH_REQUIRED' });
});
