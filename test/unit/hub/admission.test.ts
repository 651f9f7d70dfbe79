import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EstuaryError } from '../../../src/errors.js';
import { Admission, type AdmissionRequest, admit } from '../../../src/hub/admission.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';

const req: AdmissionRequest = {
  action: 'publish',
  name: makeStreamName('live', 'a'),
  query: '',
  address: '127.0.0.1',
  protocol: 'rtmp',
  clientId: '1',
};

test('no step: the name as asked, at once (no promise)', () => {
  const r = new Admission().admit(req);
  assert.equal(r, req.name);
  let got: string | undefined;
  admit(
    undefined,
    req,
    (n) => {
      got = n.path;
    },
    () => assert.fail('refused'),
  );
  assert.equal(got, 'live/a', 'admitted synchronously');
});

test('steps run in order; each sees the name the one before gave; sync steps stay sync', () => {
  const seen: string[] = [];
  const a = new Admission()
    .use((r) => {
      seen.push(r.name.path);
      return makeStreamName('live', 'b');
    })
    .use((r) => {
      seen.push(r.name.path);
      return undefined;
    });
  assert.equal((a.admit(req) as { path: string }).path, 'live/b');
  assert.deepEqual(seen, ['live/a', 'live/b']);
});

test('an async step makes the answer a promise; later steps still run, in order', async () => {
  const seen: string[] = [];
  const a = new Admission()
    .use(async (r) => {
      seen.push(`async ${r.name.path}`);
      return makeStreamName('live', 'c');
    })
    .use((r) => {
      seen.push(`sync ${r.name.path}`);
      return undefined;
    });
  const r = a.admit(req);
  assert.ok(r instanceof Promise);
  assert.equal((await r).path, 'live/c');
  assert.deepEqual(seen, ['async live/a', 'sync live/c']);
});

test('a refusal, thrown or rejected, reaches `refused` and stops the steps after it', async () => {
  let later = false;
  const sync = new Admission()
    .use(() => {
      throw new EstuaryError('ERR_AUTH', 'no');
    })
    .use(() => {
      later = true;
      return undefined;
    });
  let err: unknown;
  admit(
    sync,
    req,
    () => assert.fail('admitted'),
    (e) => {
      err = e;
    },
  );
  assert.equal((err as EstuaryError).code, 'ERR_AUTH');
  const async = new Admission().use(() => Promise.reject(new EstuaryError('ERR_AUTH', 'later no')));
  const refused = await new Promise((resolve) => admit(async, req, () => assert.fail('admitted'), resolve));
  assert.equal((refused as EstuaryError).message, 'later no');
  assert.equal(later, false);
});
