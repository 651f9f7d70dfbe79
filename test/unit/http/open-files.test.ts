import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BlockCache } from '../../../src/http/block-cache.js';
import { fileIdentity } from '../../../src/http/file-cache.js';
import { OpenFiles } from '../../../src/http/open-files.js';

const dir = mkdtempSync(join(tmpdir(), 'estuary-open-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function text(files: OpenFiles, file: string): Promise<string> {
  const lease = await files.acquire(file, statSync(file));
  assert.ok(lease, `a handle on ${file}`);
  try {
    const size = statSync(file).size;
    const buf = Buffer.alloc(size);
    await lease.handle.read(buf, 0, size, 0);
    return buf.toString();
  } finally {
    lease.release();
  }
}

test('one handle per inode, shared; a file replaced by a rename gets its own, the old one still reads the old bytes', async () => {
  const files = new OpenFiles({ max: 10, idleMs: 60_000 });
  try {
    const file = join(dir, 'big.mp4');
    writeFileSync(file, 'version one');
    const info = statSync(file);
    const [a, b] = await Promise.all([files.acquire(file, info), files.acquire(file, info)]);
    assert.ok(a && b);
    assert.equal(a.handle, b.handle, 'concurrent requests share one open');
    assert.equal(files.opens, 1);
    // Replaced while `a` is still being served: a new request opens the new inode…
    writeFileSync(join(dir, 'big.tmp'), 'version two!');
    renameSync(join(dir, 'big.tmp'), file);
    assert.equal(await text(files, file), 'version two!');
    assert.equal(files.opens, 2);
    // …and the response that started on the old one finishes on it.
    const old = Buffer.alloc(info.size);
    await a.handle.read(old, 0, info.size, 0);
    assert.equal(old.toString(), 'version one');
    a.release();
    b.release();
    b.release(); // twice: counted once
    assert.equal(files.size, 1, 'the replaced handle closed with its last user');
  } finally {
    files.close();
  }
});

test('a stat that no longer names the file on disk gets no handle (the caller opens it itself)', async () => {
  const files = new OpenFiles({ max: 10, idleMs: 60_000 });
  try {
    const file = join(dir, 'gone.mp4');
    writeFileSync(file, 'x');
    const stale = statSync(file);
    writeFileSync(join(dir, 'gone.tmp'), 'y');
    renameSync(join(dir, 'gone.tmp'), file);
    assert.equal(await files.acquire(file, stale), undefined);
    rmSync(file);
    assert.equal(await files.acquire(file, stale), undefined, 'missing');
  } finally {
    files.close();
  }
});

test('at most `max` handles: idle ones close first, and a busy set still serves (closing after)', async () => {
  const files = new OpenFiles({ max: 2, idleMs: 60_000 });
  try {
    const names = ['p', 'q', 'r'].map((n) => {
      const f = join(dir, `${n}.flv`);
      writeFileSync(f, n);
      return f;
    });
    const held = await Promise.all(names.slice(0, 2).map((f) => files.acquire(f, statSync(f))));
    const third = await files.acquire(names[2]!, statSync(names[2]!));
    assert.ok(third, 'served even with every kept handle busy');
    assert.equal(files.size, 2);
    third.release();
    for (const h of held) h?.release();
    assert.equal(await text(files, names[2]!), 'r');
    assert.ok(files.size <= 2);
  } finally {
    files.close();
  }
  assert.equal(files.size, 0, 'close() closes every idle handle');
});

test('blocks: read once per version and shared; an append or a rewrite is a new version; a shrunk file gives none', async () => {
  const files = new OpenFiles({ max: 10, idleMs: 60_000 });
  const blocks = new BlockCache(64, 16);
  try {
    const file = join(dir, 'rec.flv');
    writeFileSync(file, Buffer.from('0123456789abcdef0123456789ABCDEF--'));
    let info = statSync(file);
    const lease = await files.acquire(file, info);
    assert.ok(lease);
    const id = fileIdentity(info);
    const [b0, again] = await Promise.all([
      blocks.get(lease.handle, id, info.size, 0),
      blocks.get(lease.handle, id, info.size, 0),
    ]);
    assert.equal(b0?.toString(), '0123456789abcdef');
    assert.equal(b0, again, 'one read, one Buffer');
    assert.equal(blocks.misses, 1);
    assert.equal(
      (await blocks.get(lease.handle, id, info.size, 2))?.toString(),
      '--',
      'the short last block',
    );
    assert.equal(await blocks.get(lease.handle, id, info.size, 3), undefined, 'past the end');
    // Bounded by bytes: 16 + 2 + 16 + 16 + 16 > 64, the oldest leave.
    for (const i of [1, 0, 1]) await blocks.get(lease.handle, id, info.size, i);
    appendFileSync(file, 'more');
    info = statSync(file);
    const grown = fileIdentity(info);
    assert.notEqual(grown, id, 'an append is a new version');
    assert.equal((await blocks.get(lease.handle, grown, info.size, 2))?.toString(), '--more');
    assert.ok(blocks.bytes <= 64, `${blocks.bytes} bytes held`);
    // Truncated in place under a stat that still promises the longer file.
    truncateSync(file, 20);
    assert.equal(
      await blocks.get(lease.handle, `${grown}!`, info.size, 1),
      undefined,
      'fewer bytes than promised',
    );
    lease.release();
  } finally {
    files.close();
  }
});
