import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EstuaryError } from '../../../src/errors.js';
import { Admission } from '../../../src/hub/admission.js';
import { streamLimitsStep } from '../../../src/hub/admission-limits.js';
import { StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName, type StreamName } from '../../../src/hub/stream-name.js';
import { silentLogger } from '../../../src/log.js';
import { LimitHits } from '../../../src/net/limit-hits.js';

const req = (action: 'publish' | 'play', stream: string) => ({
  action,
  name: makeStreamName('live', stream),
  query: '',
  address: '127.0.0.1',
  protocol: 'rtmp',
  clientId: '1',
});

test('maxPublishers and maxViewersPerStream refuse with ERR_LIMIT, read live; the admission counts every refusal by code', async () => {
  const hub = new StreamHub(silentLogger());
  const hits = new LimitHits(silentLogger());
  const limits = { maxPublishers: 1, maxViewersPerStream: 2 };
  const admission = new Admission().use(streamLimitsStep(hub, () => limits, hits));
  hub.publish(makeStreamName('live', 'a'), { protocol: 'rtmp', remote: 'x', kick: () => {} });
  assert.throws(
    () => admission.admit(req('publish', 'b')),
    (e: unknown) => e instanceof EstuaryError && e.code === 'ERR_LIMIT',
  );
  hub.get('live/a')!.viewerJoined('rtmp');
  assert.equal((admission.admit(req('play', 'a')) as StreamName).path, 'live/a');
  hub.get('live/a')!.viewerJoined('http-flv');
  assert.throws(() => admission.admit(req('play', 'a')), /maxViewersPerStream/);
  limits.maxViewersPerStream = 0;
  limits.maxPublishers = 0;
  assert.equal((admission.admit(req('play', 'a')) as StreamName).path, 'live/a');
  assert.equal((admission.admit(req('publish', 'b')) as StreamName).path, 'live/b');
  // A later step that refuses asynchronously is counted too.
  admission.use(async () => {
    throw new EstuaryError('ERR_AUTH', 'no');
  });
  await assert.rejects(Promise.resolve(admission.admit(req('play', 'a'))), /no/);
  assert.deepEqual(
    new Map(admission.refusals),
    new Map([
      ['publish ERR_LIMIT', 1],
      ['play ERR_LIMIT', 1],
      ['play ERR_AUTH', 1],
    ]),
  );
  assert.equal(hits.count('max_publishers'), 1);
  assert.equal(hits.count('max_viewers_per_stream'), 1);
});
