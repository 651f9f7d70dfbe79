/**
 * Completes an MP4 recording a crash left unfinished, from what is on disk: temporary files go,
 * each output's segments are checked in order (a torn one and anything after it are dropped),
 * every listing is rewritten from the segments that remain with ENDLIST, and the merged segments
 * become `{stream}_full.mp4`. The same finalisation the live recorder does at a clean end, except
 * that the segment list comes from the folder rather than from memory.
 */
import { readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { writeFileAtomic } from '../ordered-writer.js';
import {
  fullMp4Name,
  type ListedSegment,
  MERGE_DIR,
  OUTPUTS,
  type OutputLayout,
  outputPath,
  PART_SUFFIX,
  renderListing,
  SEPARATE_DIR,
  segmentNumber,
  streamOfFolder,
} from './layout.js';
import { mergeFragments } from './merge-mp4.js';
import {
  type Listings,
  MASTER_PLAYLIST,
  META_FILE,
  mergedMeta,
  type RecordingTracks,
  separateMaster,
  separateMeta,
} from './meta.js';
import { fragmentsSeconds, readInit, scanSegment, wholeFragmentBytes } from './segment-scan.js';

/** The target duration a recovered listing declares when no segment says more (the HLS default, 2 s). */
const DEFAULT_TARGET_SECONDS = 2;

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function removeTemporaries(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith('.tmp')) continue;
    await rm(join(dir, f), { force: true });
    n++;
  }
  return n;
}

/**
 * The open segment a crash cut short (`{segment}.part`): cut after its last whole fragment (a
 * chunk per video frame, so at most about a frame is lost) and renamed to the segment; removed
 * when not even one fragment is whole.
 */
async function salvageParts(
  dir: string,
  o: OutputLayout,
  trex: Awaited<ReturnType<typeof readInit>>['trex'],
  log: Logger,
): Promise<void> {
  for (const f of await readdir(join(dir, o.dir))) {
    if (!f.endsWith(PART_SUFFIX)) continue;
    const name = f.slice(0, -PART_SUFFIX.length);
    if (segmentNumber(o, name) === undefined) continue;
    const path = outputPath(dir, o, f);
    const whole = await wholeFragmentBytes(path, trex);
    if (whole === 0) {
      await rm(path, { force: true });
      continue;
    }
    await truncate(path, whole);
    await rename(path, outputPath(dir, o, name));
    log.info(
      { output: o.name, segment: name, bytes: whole },
      'salvaged the open segment up to its last whole fragment',
    );
  }
}

/** The whole segments of one output, in order, with their durations; removes the torn ones. */
async function recoverOutput(
  dir: string,
  o: OutputLayout,
  log: Logger,
): Promise<ListedSegment[] | undefined> {
  const initPath = outputPath(dir, o, o.init);
  if (!(await exists(initPath))) return undefined;
  const init = await readInit(initPath);
  await salvageParts(dir, o, init.trex, log);
  const files = (await readdir(join(dir, o.dir)))
    .map((f) => ({ f, n: segmentNumber(o, f) }))
    .filter((e): e is { f: string; n: number } => e.n !== undefined)
    .sort((a, b) => a.n - b.n);
  const mainTrack = init.tracks[0]?.trackId ?? 1;
  const listed: ListedSegment[] = [];
  const nextDts = new Map<number, number>();
  for (let i = 0; i < files.length; i++) {
    const path = outputPath(dir, o, files[i].f);
    try {
      const frags = await scanSegment(path, init.trex, nextDts);
      const bytes = (await stat(path)).size;
      listed.push({ uri: files[i].f, seconds: fragmentsSeconds(frags, init, mainTrack), bytes });
    } catch (err) {
      const dropped = files.slice(i).map((e) => e.f);
      log.warn(
        { output: o.name, dropped, err: errorMessage(err) },
        'dropping a torn segment and what follows it',
      );
      for (const f of dropped) await rm(outputPath(dir, o, f), { force: true });
      break;
    }
  }
  return listed;
}

/** meta.json of both outputs and the separate master playlist, as at a clean end. */
async function writeMeta(dir: string, mergedInit: string, listings: Listings, full: string): Promise<void> {
  const init = await readInit(mergedInit);
  const tracks: RecordingTracks = {};
  for (const t of init.tracks) {
    if (t.track.kind === 'video') tracks.video ??= t.track;
    else tracks.audio ??= t.track;
  }
  const json = (o: object) => `${JSON.stringify(o, null, 2)}\n`;
  await writeFileAtomic(join(dir, MERGE_DIR, META_FILE), json(mergedMeta(tracks, listings, true, full)));
  await writeFileAtomic(join(dir, SEPARATE_DIR, META_FILE), json(separateMeta(tracks, listings, true)));
  await writeFileAtomic(join(dir, SEPARATE_DIR, MASTER_PLAYLIST), separateMaster(tracks, listings));
}

/** RecorderFactory.recover for MP4 recordings. Never rejects: failures are logged. */
export async function recoverMp4Recording(dir: string, log: Logger): Promise<void> {
  try {
    const removed =
      (await removeTemporaries(join(dir, MERGE_DIR))) + (await removeTemporaries(join(dir, SEPARATE_DIR)));
    const listings: Listings = { merged: [], video: [], audio: [] };
    for (const o of OUTPUTS) {
      const listed = await recoverOutput(dir, o, log);
      if (!listed) continue;
      const target = Math.max(DEFAULT_TARGET_SECONDS, ...listed.map((s) => s.seconds));
      await writeFileAtomic(outputPath(dir, o, o.playlist), renderListing(o, listed, target, true));
      listings[o.name] = listed;
      log.info({ output: o.name, segments: listed.length }, 'listing ended');
    }
    const merged = OUTPUTS[0];
    if (listings.merged.length === 0) {
      log.info({ removedTemporaries: removed }, 'no whole segment to merge; nothing else to recover');
      return;
    }
    const mergedInit = outputPath(dir, merged, merged.init);
    const full = fullMp4Name(streamOfFolder(dir));
    const result = await mergeFragments(
      mergedInit,
      listings.merged.map((s) => outputPath(dir, merged, s.uri)),
      join(dir, MERGE_DIR, full),
    );
    await writeMeta(dir, mergedInit, listings, full);
    log.info({ file: full, removedTemporaries: removed, ...result }, `recovered the recording into ${full}`);
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'MP4 recording could not be recovered');
  }
}
