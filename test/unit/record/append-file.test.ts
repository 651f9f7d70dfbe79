/**
 * AppendFile over a real file whose handle runs out of room like a full disk: a write that gets
 * only part of its bytes onto the disk, then ENOSPC. The file must end on its last whole append,
 * be patched and closed, and the failure be reported once. Short writes must be continued.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { AppendFile } from '../../../src/record/append-file.js';
import { OrderedWriter } from '../../../src/record/ordered-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'estuary-append-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A real FileHandle that accepts `room` bytes in all (then ENOSPC, as write(2) does on a full
 * disk: first a short write, then the error) and at most `perCall` bytes a call.
 */
class LimitedHandle {
  writevCalls = 0;
  closed = false;
  constructor(
    private readonly real: FileHandle,
    private room: number,
    private readonly perCall = Number.POSITIVE_INFINITY,
  ) {}

  async writev(bufs: Buffer[]): Promise<{ bytesWritten: number; buffers: Buffer[] }> {
    this.writevCalls++;
    if (this.room === 0)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    let budget = Math.min(this.room, this.perCall);
    const take: Buffer[] = [];
    for (const b of bufs) {
      if (budget === 0) break;
      const part = b.subarray(0, Math.min(b.length, budget));
      take.push(part);
      budget -= part.length;
    }
    const { bytesWritten } = await this.real.writev(take);
    this.room -= bytesWritten;
    return { bytesWritten, buffers: bufs };
  }

  write(data: Buffer, offset: number, length: number, position: number) {
    return this.real.write(data, offset, length, position);
  }

  truncate(len: number) {
    return this.real.truncate(len);
  }

  async close() {
    this.closed = true;
    await this.real.close();
  }
}

function opener(
  room: number,
  perCall?: number,
): { open: (p: string, f: string) => Promise<FileHandle>; handle: () => LimitedHandle } {
  let made: LimitedHandle | undefined;
  return {
    // A LimitedHandle has the FileHandle methods AppendFile calls; the rest are never used.
    open: async (p, f) => {
      made = new LimitedHandle(await open(p, f), room, perCall);
      return made as unknown as FileHandle;
    },
    handle: () => made!,
  };
}

const unit = (char: string, n = 100) => Buffer.alloc(n, char);

/** An OrderedWriter whose "stopped" lines land in `errors`. */
function writerLogging(): { writer: OrderedWriter; errors: string[] } {
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (s: string) => void errors.push(JSON.parse(s).msg) });
  return { writer: new OrderedWriter({ label: 'TEST', log }), errors };
}

test('a full disk: the file ends on its last whole append, is patched and closed; one error', async () => {
  const { writer, errors } = writerLogging();
  const disk = opener(250);
  const path = join(dir, 'full.flv');
  const cuts: [number, string | undefined][] = [];
  const file = new AppendFile<string>(writer, path, {
    open: disk.open,
    onCut: (bytes, mark) => {
      cuts.push([bytes, mark]);
      return [
        { position: 0, data: Buffer.from('P') }, // inside the file: written
        { position: 199, data: Buffer.from('QQ') }, // would run past the end: skipped
      ];
    },
  });
  for (const [c, mark] of [
    ['a', 'first'],
    ['b', 'second'],
    ['c', 'third'],
    ['d', 'fourth'],
  ] as const) {
    file.append(unit(c), mark);
    await new Promise((r) => setImmediate(r));
  }
  file.close();
  await writer.drain();
  assert.deepEqual(errors, ['TEST recording stopped: ENOSPC: no space left on device, write']);
  assert.match(writer.error!.message, /ENOSPC/);
  assert.deepEqual(cuts, [[200, 'second']]);
  const bytes = readFileSync(path);
  assert.equal(bytes.length, 200, 'cut after the last whole append, not in the middle of the third');
  assert.equal(bytes.toString('latin1'), `P${'a'.repeat(99)}${'b'.repeat(100)}`);
  assert.ok(disk.handle().closed, 'the handle is closed, not left to the garbage collector');
  assert.equal(file.written, 200);
  assert.equal(writer.pendingBytes, 0);
  // Nothing more is queued or written once the writer failed.
  file.append(unit('e'));
  await writer.drain();
  assert.equal(readFileSync(path).length, 200);
});

test('short writes are continued, and appends made while the disk is busy share one writev', async () => {
  const { writer, errors } = writerLogging();
  const disk = opener(Number.POSITIVE_INFINITY, 7);
  const path = join(dir, 'short.bin');
  const file = new AppendFile(writer, path, { open: disk.open });
  const want: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    const b = unit(String.fromCharCode(65 + i), 10 + i);
    want.push(b);
    file.append(b);
  }
  file.close();
  await writer.drain();
  assert.ok(readFileSync(path).equals(Buffer.concat(want)));
  // One flush (all 20 appends were queued before it ran), each call taking at most 7 bytes.
  assert.equal(disk.handle().writevCalls, Math.ceil(Buffer.concat(want).length / 7));
  assert.ok(disk.handle().closed);
  assert.deepEqual(errors, []);
});

test('a file that existed is never opened: suffixed, or an error', async () => {
  const { writer } = writerLogging();
  const path = join(dir, 'taken.flv');
  const paths: string[] = [];
  for (let i = 0; i < 3; i++) {
    const f = new AppendFile(writer, path, { suffixIfTaken: true, onOpen: (p) => paths.push(p) });
    f.append(Buffer.from(`session ${i}`));
    f.close();
  }
  await writer.drain();
  assert.deepEqual(paths, [path, join(dir, 'taken-2.flv'), join(dir, 'taken-3.flv')]);
  assert.equal(readFileSync(path, 'utf8'), 'session 0');
  const strict = writerLogging();
  new AppendFile(strict.writer, path).append(Buffer.from('overwrite?'));
  await strict.writer.drain();
  assert.match(strict.errors[0]!, /^TEST recording stopped: EEXIST/);
  assert.equal(readFileSync(path, 'utf8'), 'session 0');
});

test('more than the cap queued stops the recorder once; what was queued is written, the file closed', async () => {
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (s: string) => void errors.push(JSON.parse(s).msg) });
  const writer = new OrderedWriter({ label: 'TEST', log, maxPendingBytes: 250 });
  const disk = opener(Number.POSITIVE_INFINITY);
  const path = join(dir, 'slow.bin');
  const file = new AppendFile(writer, path, { open: disk.open });
  for (const c of 'abcd') file.append(unit(c));
  assert.equal(writer.stopped, true);
  assert.equal(
    writer.enqueue(async () => assert.fail('nothing runs once stopped')),
    false,
  );
  file.close();
  await writer.drain();
  assert.deepEqual(errors, ['TEST recording stopped: the disk cannot keep up (250 bytes queued)']);
  assert.equal(readFileSync(path, 'latin1'), `${'a'.repeat(100)}${'b'.repeat(100)}`);
  assert.ok(disk.handle().closed, 'closed by the stop, though its close() came too late to be queued');
});
