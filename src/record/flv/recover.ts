/**
 * Completes FLV recordings a crash left unfinished: a file whose `{file}.recording` sidecar is
 * still there was being written. It plays up to its last whole tag already (FLV is a plain run of
 * tags); recovery cuts the torn tail off and patches onMetaData's duration and filesize, as a
 * clean end would have, then removes the sidecar. Never rejects: failures are logged.
 */
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE } from '../../formats/flv/header.js';
import { FLV_TAG_HEADER_SIZE, FlvTagType } from '../../formats/flv/tag.js';
import { FlvTagReader } from '../../formats/flv/tag-reader.js';
import { MetadataPatch } from './metadata-patch.js';

/** Beside `X.flv` while it is being written (AppendFile's sidecar). */
export const FLV_MARKER_SUFFIX = '.recording';
/** Read in pieces: a recording can be gigabytes. */
const READ_CHUNK = 1024 * 1024;

interface Scanned {
  /** Bytes of the header and the whole tags. */
  whole: number;
  lastTs: number;
  patch: MetadataPatch | undefined;
}

async function scan(path: string): Promise<Scanned> {
  const fh = await open(path, 'r');
  try {
    const reader = new FlvTagReader();
    const out: Scanned = { whole: 0, lastTs: 0, patch: undefined };
    let first = true;
    for (let pos = 0; ; ) {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      let tags: ReturnType<FlvTagReader['push']>;
      try {
        tags = reader.push(buf.subarray(0, bytesRead));
      } catch {
        break; // garbage after the last whole tag: cut there
      }
      for (const t of tags) {
        if (first && t.type === FlvTagType.Script) {
          // The recorder writes onMetaData first, right after the header.
          const at = FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE + FLV_TAG_HEADER_SIZE;
          try {
            out.patch = MetadataPatch.locate(t.body, at);
          } catch {
            out.patch = undefined;
          }
        }
        first = false;
        out.lastTs = Math.max(out.lastTs, t.timestamp);
      }
      out.whole = reader.bytesConsumed;
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** RecorderFactory.recover for `flv/{app}/{stream}/`: every file there with a sidecar. */
export async function recoverFlvFolder(dir: string, log: Logger): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith(`.flv${FLV_MARKER_SUFFIX}`)) continue;
    const file = join(dir, name.slice(0, -FLV_MARKER_SUFFIX.length));
    try {
      const s = await scan(file);
      const fh = await open(file, 'r+');
      try {
        await fh.truncate(s.whole);
        if (s.patch && s.patch.filesizeOffset + 8 <= s.whole) {
          await fh.write(MetadataPatch.number(s.lastTs / 1000), 0, 8, s.patch.durationOffset);
          await fh.write(MetadataPatch.number(s.whole), 0, 8, s.patch.filesizeOffset);
        }
      } finally {
        await fh.close();
      }
      log.info(
        { file, bytes: s.whole, seconds: s.lastTs / 1000 },
        'FLV recording recovered: cut after its last whole tag, duration and filesize patched',
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        log.error({ file, err: errorMessage(err) }, 'FLV recording could not be recovered');
        continue;
      }
    }
    await rm(join(dir, name), { force: true });
  }
}
