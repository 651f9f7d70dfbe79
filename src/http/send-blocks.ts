/**
 * Writes bytes `start`..`end` (inclusive) of a file to a response, block by block
 * (block-cache.ts), honouring backpressure: the next block is read while this one is written,
 * and a write the socket did not take whole waits for 'drain'. Beyond the socket's own buffer a
 * response holds at most the one or two blocks it is between, and those are shared with every
 * other response of the file: memory stays flat however many download.
 */
import type { ServerResponse } from 'node:http';

/** Block `index`, or undefined when it cannot be had (the response is then cut). */
export type ReadBlock = (index: number) => Promise<Buffer | undefined>;

export async function sendBlocks(
  res: ServerResponse,
  read: ReadBlock,
  blockBytes: number,
  start: number,
  end: number,
): Promise<void> {
  let pos = start;
  let next = read(Math.floor(pos / blockBytes));
  while (pos <= end) {
    const index = Math.floor(pos / blockBytes);
    const block = await next;
    if (res.destroyed) return;
    // The file lost bytes its headers promised: a short body must not look complete.
    if (!block) return void res.destroy();
    const base = index * blockBytes;
    const to = Math.min(block.length, end + 1 - base);
    if (to <= pos - base) return void res.destroy();
    if (base + to <= end) next = read(index + 1);
    const more = res.write(block.subarray(pos - base, to));
    pos = base + to;
    if (!more && pos <= end) await drained(res);
  }
  if (!res.destroyed) res.end();
}

function drained(res: ServerResponse): Promise<void> {
  // Gone already: its 'close' has been emitted, and waiting for it would never end.
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
