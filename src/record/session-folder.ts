import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RECORDING_MARKER } from './recorder.js';

/** What a recording folder says about its session (`session.json`, kept after the end). */
export interface SessionInfo {
  app: string;
  stream: string;
  startedAt: string;
}

export const SESSION_FILE = 'session.json';

/** `YYYYMMDD_HHMMSS` in UTC: names FLV files and the folders earlier sessions are moved to. */
export function sessionStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/**
 * Makes `dir` an empty folder for a new session: an earlier session's files are moved to
 * `{stream}.{YYYYMMDD_HHMMSS}` beside it (its own start time), never overwritten. The '.' keeps
 * that name out of the stream-name alphabet, so it can never collide with a live stream's folder.
 * Then writes the session file and the `.recording` marker.
 */
export async function prepareSessionFolder(dir: string, info: SessionInfo): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0) {
    const earlier = await readSessionStart(dir);
    let target = join(dirname(dir), `${basename(dir)}.${sessionStamp(earlier)}`);
    for (let n = 2; await exists(target); n++)
      target = join(dirname(dir), `${basename(dir)}.${sessionStamp(earlier)}-${n}`);
    await rename(dir, target);
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, SESSION_FILE), `${JSON.stringify(info)}\n`);
  await writeFile(join(dir, RECORDING_MARKER), `${info.startedAt}\n`);
}

async function readSessionStart(dir: string): Promise<Date> {
  try {
    const info = JSON.parse(await readFile(join(dir, SESSION_FILE), 'utf8')) as SessionInfo;
    const d = new Date(info.startedAt);
    if (!Number.isNaN(d.getTime())) return d;
  } catch {
    // no or unreadable session file: fall back to the folder's time
  }
  return (await stat(dir)).mtime;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every folder under `root/{app}/{name}` that still holds a `.recording` marker. */
export async function findUnfinished(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const app of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, app)).catch(() => [] as string[])) {
      const dir = join(root, app, name);
      if (await exists(join(dir, RECORDING_MARKER))) found.push(dir);
    }
  }
  return found;
}
