import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeError, ERROR_CODES, EstuaryError, errorMessage } from '../../src/errors.js';

const root = new URL('../../', import.meta.url).pathname;

test('docs/errors.md documents exactly the codes src/errors.ts defines', () => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
});

test('every code thrown in src/ is in the catalogue', () => {
  const used = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/'(ERR_[A-Z0-9_]+)'/g)) used.add(m[1]!);
    }
  };
  walk(join(root, 'src'));
  // Node.js's own codes that src/ compares errors against (not ours to catalogue).
  const NODE_CODES = new Set(['ERR_HTTP_REQUEST_TIMEOUT']);
  for (const code of used) {
    if (NODE_CODES.has(code)) continue;
    assert.ok(code in ERROR_CODES, `${code} is used in src/ but not defined in src/errors.ts`);
  }
});

test('describeError tells a catalogued error by its code, any other by its message', () => {
  assert.equal(describeError(new EstuaryError('ERR_AUTH', 'no sign')), 'ERR_AUTH: no sign');
  assert.equal(describeError(new Error('boom')), 'boom');
  assert.equal(describeError('plain'), 'plain');
  assert.equal(errorMessage(new EstuaryError('ERR_AUTH', 'no sign')), 'no sign');
  assert.equal(errorMessage(42), '42');
});

test('errors are told through describeError/errorMessage, not by hand', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('/src/errors.ts')) {
        const text = readFileSync(p, 'utf8');
        if (/instanceof Error \? |\(err as Error\)\.message|\(e as Error\)\.message/.test(text))
          offenders.push(p);
      }
    }
  };
  walk(join(root, 'src'));
  assert.deepEqual(offenders, []);
});
