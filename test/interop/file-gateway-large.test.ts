/**
 * The file gateway's larger files (over cacheFileBytes: a complete MP4, an FLV recording): served
 * through shared open handles and the shared block cache (open-files.ts, block-cache.ts). Byte-
 * exact whole and in ranges across block boundaries, shared by concurrent downloads, and a file
 * replaced by a rename or grown by an append is served as it is now.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BLOCK_BYTES } from '../../src/http/block-cache.js';
import { startFileGateway, type TestGateway } from '../helpers/file-gateway.js';
import { until } from '../helpers/wait.js';

const PATH = '/flv/live/a/20240101_120000.flv';

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + seed) % 251;
  return b;
}

async function get(
  base: string,
  range?: string,
): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(`${base}${PATH}`, {
    headers: range ? { Range: range } : {},
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

for (const blockCacheBytes of [64 * BLOCK_BYTES, 0]) {
  describe(`file gateway, larger files (block cache ${blockCacheBytes ? 'on' : 'off'})`, () => {
    let dir: string;
    let file: string;
    let g: TestGateway;
    let content = pattern(3 * BLOCK_BYTES + 12_345, 1);

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'estuary-files-large-'));
      const root = join(dir, 'data');
      mkdirSync(join(root, 'flv', 'live', 'a'), { recursive: true });
      file = join(root, PATH);
      writeFileSync(file, content);
      g = await startFileGateway(root, {
        restatMs: 0,
        cacheFileBytes: 1024,
        blockCacheBytes,
        accessLog: 'off',
      });
    });
    after(async () => {
      await g.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('whole and in ranges, byte-exact, across block boundaries', async () => {
      const all = await get(g.base);
      assert.equal(all.status, 200);
      assert.equal(all.headers.get('content-length'), String(content.length));
      assert.ok(all.body.equals(content), 'the whole file');
      const cases: [string, number, number][] = [
        [`bytes=${BLOCK_BYTES - 10}-${BLOCK_BYTES + 10}`, BLOCK_BYTES - 10, BLOCK_BYTES + 10],
        ['bytes=0-0', 0, 0],
        [`bytes=${2 * BLOCK_BYTES}-`, 2 * BLOCK_BYTES, content.length - 1],
        ['bytes=-100', content.length - 100, content.length - 1],
        [`bytes=5-${3 * BLOCK_BYTES + 1}`, 5, 3 * BLOCK_BYTES + 1],
      ];
      for (const [range, start, end] of cases) {
        const r = await get(g.base, range);
        assert.equal(r.status, 206, range);
        assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${content.length}`);
        assert.ok(r.body.equals(content.subarray(start, end + 1)), `the bytes of ${range}`);
      }
    });

    test('concurrent downloads share the handle, and the blocks with the cache on', async () => {
      const files = g.gateway.files!;
      const before = files.blocks.misses;
      const opens = files.openFiles.opens;
      const bodies = await Promise.all(Array.from({ length: 6 }, () => get(g.base)));
      assert.ok(
        bodies.every((b) => b.body.equals(content)),
        'every download byte-exact',
      );
      assert.equal(files.openFiles.opens, opens, 'no new open: the handle is shared');
      const blocks = Math.ceil(content.length / BLOCK_BYTES);
      if (blockCacheBytes > 0) assert.equal(files.blocks.misses, before, 'every block came from memory');
      // Without it nothing is kept: each block is read again (downloads in step still share a read).
      else assert.ok(files.blocks.misses - before >= blocks, 'without the cache, read again');
      if (blockCacheBytes === 0) assert.equal(files.blocks.bytes, 0, 'nothing kept');
      const metrics = await (await fetch(`${g.base}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      assert.match(metrics, new RegExp(`^estuary_files_block_misses_total ${files.blocks.misses}$`, 'm'));
      assert.match(metrics, /^estuary_files_open_handles 1$/m, 'one handle, shared');
    });

    test('a download the client abandons releases its handle', async () => {
      // Larger than what loopback's socket buffers hold (a few MiB), so the gateway must wait.
      const big = '/flv/live/a/20240101_130000.flv';
      writeFileSync(join(dir, 'data', big), Buffer.alloc(32 * BLOCK_BYTES, 7));
      const s = connect(g.port, '127.0.0.1');
      try {
        // A reader that stops after the first bytes: the gateway waits for 'drain', then the close.
        await new Promise<void>((resolve, reject) => {
          s.once('connect', () => s.write(`GET ${big} HTTP/1.1\r\nHost: x\r\n\r\n`));
          s.once('data', () => {
            s.pause();
            resolve();
          });
          s.once('error', reject);
        });
        await until('the download holds the handle', async () => g.gateway.files!.openFiles.leases === 1);
      } finally {
        s.destroy();
      }
      await until('released after the client left', async () => g.gateway.files!.openFiles.leases === 0);
    });

    test('replaced by a rename, then grown by an append: served as it is now', async () => {
      const next = pattern(BLOCK_BYTES + 77, 9);
      writeFileSync(`${file}.tmp`, next);
      renameSync(`${file}.tmp`, file);
      content = next;
      const replaced = await get(g.base);
      assert.ok(replaced.body.equals(next), 'the new file, not the old blocks');
      const tail = pattern(5000, 3);
      appendFileSync(file, tail);
      content = Buffer.concat([next, tail]);
      const grown = await get(g.base, `bytes=${BLOCK_BYTES}-`);
      assert.equal(
        grown.headers.get('content-range'),
        `bytes ${BLOCK_BYTES}-${content.length - 1}/${content.length}`,
      );
      assert.ok(grown.body.equals(content.subarray(BLOCK_BYTES)), 'the appended bytes too');
    });
  });
}
