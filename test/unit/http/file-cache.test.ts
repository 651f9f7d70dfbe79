import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileCache, fileIdentity } from '../../../src/http/file-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'estuary-file-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('one read per version of a file, shared by everyone who asks at once', async () => {
  const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 16, restatMs: 0 });
  const file = join(dir, 'a.ts');
  writeFileSync(file, 'one');
  const info = statSync(file);
  const all = await Promise.all(Array.from({ length: 20 }, () => cache.read(file, info)));
  assert.equal(cache.misses, 1);
  assert.ok(
    all.every((c) => c?.data === all[0]?.data),
    'the same Buffer for all',
  );
  assert.equal(all[0]?.data.toString(), 'one');
  // Rewritten under the same name (new size and mtime): read anew.
  writeFileSync(file, 'two!');
  const later = new Date(Date.now() + 2000);
  utimesSync(file, later, later);
  const again = await cache.read(file, statSync(file));
  assert.equal(again?.data.toString(), 'two!');
  assert.equal(cache.misses, 2);
  // Replaced by a rename (a new inode), even with the same size: read anew, and the stat that
  // comes back is the new file's.
  writeFileSync(join(dir, 'a.tmp'), 'six!');
  renameSync(join(dir, 'a.tmp'), file);
  const renamed = await cache.read(file, statSync(file));
  assert.equal(renamed?.data.toString(), 'six!');
  assert.equal(fileIdentity(renamed!.info), fileIdentity(statSync(file)));
});

test('bounded by bytes: the least recently used leave first', async () => {
  const cache = new FileCache({ maxBytes: 250, maxFileBytes: 200, restatMs: 0 });
  const files = ['x', 'y', 'z'].map((n) => {
    const f = join(dir, `${n}.ts`);
    writeFileSync(f, Buffer.alloc(100, n));
    return f;
  });
  await cache.read(files[0]!, statSync(files[0]!));
  await cache.read(files[1]!, statSync(files[1]!));
  await cache.read(files[0]!, statSync(files[0]!)); // x is now the most recent
  await cache.read(files[2]!, statSync(files[2]!)); // over 250: y leaves
  assert.ok(cache.bytes <= 250, `${cache.bytes} bytes held`);
  assert.equal(cache.files, 2);
  const misses = cache.misses;
  await cache.read(files[0]!, statSync(files[0]!));
  assert.equal(cache.misses, misses, 'x stayed');
  await cache.read(files[1]!, statSync(files[1]!));
  assert.equal(cache.misses, misses + 1, 'y was evicted');
  assert.equal(cache.fits(201), false, 'over maxFileBytes: never kept');
});

test('lookups are reused for restatMs, and concurrent ones share one resolution', async () => {
  const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 16, restatMs: 200 });
  let calls = 0;
  const resolve = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 20));
    return calls;
  };
  const first = await Promise.all(Array.from({ length: 10 }, () => cache.lookup('k', resolve)));
  assert.deepEqual(new Set(first), new Set([1]));
  assert.equal(await cache.lookup('k', resolve), 1, 'within restatMs');
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(await cache.lookup('k', resolve), 2, 'looked up again after restatMs');
});
