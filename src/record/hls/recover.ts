import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { parseMediaPlaylist } from '../../formats/m3u8/parse-playlist.js';
import { renderMediaPlaylist } from '../../formats/m3u8/playlist.js';
import { writeFileAtomic } from '../ordered-writer.js';
import { PLAYLIST_NAME } from './segmenter.js';

/** Files the HLS recorder names: its segments, and the temporary files of atomic writes. */
const SEGMENT_FILE = /^segment_\d+\.ts$/;
const TMP_SUFFIX = '.tmp';

/**
 * Completes an HLS recording a crash left unfinished. Segments and playlist are written whole
 * (temporary file + rename) and a segment before the playlist that lists it, so the playlist on
 * disk lists complete segments only. What a crash can leave besides: a `.tmp` file (removed) and
 * a segment no playlist lists, either written just before the crash or retired from the live
 * window and waiting out its grace (removed too: no player can reach it). The playlist gets its
 * `#EXT-X-ENDLIST` (RFC 8216 4.3.3.4), rewritten atomically. Never rejects: failures are logged.
 */
export async function recoverHlsFolder(dir: string, log: Logger): Promise<void> {
  try {
    const names = await readdir(dir);
    let tmpRemoved = 0;
    for (const name of names) {
      if (!name.endsWith(TMP_SUFFIX)) continue;
      await rm(join(dir, name), { force: true });
      tmpRemoved++;
    }
    const path = join(dir, PLAYLIST_NAME);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    // Parsed before anything is deleted: an unreadable playlist leaves every segment in place.
    const playlist = text === undefined ? undefined : parseMediaPlaylist(text);
    const listed = new Set(playlist?.segments.map((s) => s.uri));
    let endlistAppended = false;
    if (playlist && !playlist.ended) {
      await writeFileAtomic(path, renderMediaPlaylist({ ...playlist, ended: true }));
      endlistAppended = true;
    }
    let unlistedRemoved = 0;
    for (const name of names) {
      if (!SEGMENT_FILE.test(name) || listed.has(name)) continue;
      await rm(join(dir, name), { force: true });
      unlistedRemoved++;
    }
    log.info(
      {
        segments: listed.size,
        endlistAppended,
        tmpRemoved,
        unlistedRemoved,
        playlist: playlist !== undefined,
      },
      playlist
        ? `HLS recording recovered: ${listed.size} segments listed${endlistAppended ? ', #EXT-X-ENDLIST appended' : ''}`
        : 'HLS recording recovered: the crash came before the first playlist, nothing to keep',
    );
  } catch (err) {
    log.error({ err }, `HLS recovery of ${dir} failed: ${errorMessage(err)}`);
  }
}
