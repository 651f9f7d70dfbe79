/**
 * `GET /api/recordings`: what is on disk under the data directory, per stream: the FLV files, the
 * HLS and MP4 sessions (the latest in `{stream}/`, earlier ones in `{stream}.YYYYMMDD_HHMMSS/`),
 * with sizes, durations, codec strings and the URLs the web port serves them at. It lists what it
 * finds rather than what the recorders would write, so it also shows older layouts.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sendJson } from '../respond.js';
import { Router } from '../router.js';
import { type FileStamp, MediaProbe } from './media-probe.js';

export interface FileEntry {
  file: string;
  url: string;
  size: number;
  modified: string;
  durationSeconds: number | null;
}

export interface PlaylistEntry {
  url: string;
  durationSeconds: number | null;
  segments: number;
  ended: boolean;
  /** Bytes of the segments the playlist lists. */
  size: number;
}

export interface FragmentedOutput extends PlaylistEntry {
  init: string | null;
  /** RFC 6381 codec strings of the init segment's tracks, video first. */
  codecs: string[];
}

export interface SessionEntry {
  /** null for the latest session (`{stream}/`), else the suffix of `{stream}.SUFFIX/`. */
  session: string | null;
  startedAt: string | null;
  /** Still being written (its `.recording` marker is there). */
  recording: boolean;
}

export interface HlsSession extends SessionEntry, PlaylistEntry {}

export interface Mp4Session extends SessionEntry {
  full: FileEntry | null;
  merge: FragmentedOutput | null;
  separate: { master: string | null; video: FragmentedOutput | null; audio: FragmentedOutput | null } | null;
  /** The recorder's `output_merge/meta.json`, as written, when there is one. */
  meta: unknown;
}

export interface StreamRecordings {
  app: string;
  stream: string;
  path: string;
  flv: FileEntry[];
  hls: HlsSession[];
  mp4: Mp4Session[];
}

const PART = /^[A-Za-z0-9_-]{1,64}$/;
/** `{stream}` or `{stream}.YYYYMMDD_HHMMSS[-N]` (record/session-folder.ts). */
const SESSION_FOLDER = /^([A-Za-z0-9_-]{1,64})(?:\.(\d{8}_\d{6}(?:-\d+)?))?$/;

async function stamp(path: string): Promise<(FileStamp & { mtime: Date }) | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { path, size: s.size, mtimeMs: s.mtimeMs, mtime: s.mtime } : undefined;
  } catch {
    return undefined;
  }
}

async function dirs(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

export class RecordingScanner {
  private readonly probe = new MediaProbe();

  constructor(private readonly dataDir: string) {}

  async scan(): Promise<StreamRecordings[]> {
    const byPath = new Map<string, StreamRecordings>();
    const entry = (app: string, stream: string) => {
      const path = `${app}/${stream}`;
      let e = byPath.get(path);
      if (!e) {
        e = { app, stream, path, flv: [], hls: [], mp4: [] };
        byPath.set(path, e);
      }
      return e;
    };
    for (const root of ['flv', 'hls', 'mp4'] as const) {
      for (const app of await dirs(join(this.dataDir, root))) {
        if (!PART.test(app)) continue;
        for (const folder of await dirs(join(this.dataDir, root, app))) {
          const m = SESSION_FOLDER.exec(folder);
          if (!m) continue;
          const [, stream, session] = m as unknown as [string, string, string | undefined];
          const rel = `${root}/${app}/${folder}`;
          const e = entry(app, stream);
          if (root === 'flv') e.flv.push(...(await this.flvFiles(rel)));
          else if (root === 'hls') e.hls.push(await this.hlsSession(rel, session ?? null));
          else e.mp4.push(await this.mp4Session(rel, stream, session ?? null));
        }
      }
    }
    const newestFirst = (a: SessionEntry, b: SessionEntry) =>
      a.session === null ? -1 : b.session === null ? 1 : b.session.localeCompare(a.session);
    const out = [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
    for (const e of out) {
      e.flv.sort((a, b) => b.file.localeCompare(a.file));
      e.hls.sort(newestFirst);
      e.mp4.sort(newestFirst);
    }
    return out;
  }

  private async flvFiles(rel: string): Promise<FileEntry[]> {
    const names = (await readdir(join(this.dataDir, rel)).catch(() => [] as string[])).filter((n) =>
      n.endsWith('.flv'),
    );
    const out: FileEntry[] = [];
    for (const name of names) {
      const e = await this.file(rel, name, (f) => this.probe.flvDurationSeconds(f));
      if (e) out.push(e);
    }
    return out;
  }

  private async file(
    rel: string,
    name: string,
    duration: (f: FileStamp) => Promise<number | null>,
  ): Promise<FileEntry | null> {
    const s = await stamp(join(this.dataDir, rel, name));
    if (!s) return null;
    return {
      file: name,
      url: `/${rel}/${name}`,
      size: s.size,
      modified: s.mtime.toISOString(),
      durationSeconds: await duration(s),
    };
  }

  private async sessionInfo(rel: string, session: string | null): Promise<SessionEntry> {
    let startedAt: string | null = null;
    try {
      const info = JSON.parse(await readFile(join(this.dataDir, rel, 'session.json'), 'utf8')) as {
        startedAt?: unknown;
      };
      if (typeof info.startedAt === 'string') startedAt = info.startedAt;
    } catch {
      // no session file (an older layout): the start is unknown
    }
    const recording =
      (await stat(join(this.dataDir, rel, '.recording')).catch(() => undefined)) !== undefined;
    return { session, startedAt, recording };
  }

  /** A playlist in `rel`, its duration and the bytes of the segments it lists. */
  private async playlist(rel: string, name: string): Promise<PlaylistEntry | null> {
    const s = await stamp(join(this.dataDir, rel, name));
    if (!s) return null;
    const p = await this.probe.playlist(s);
    let size = 0;
    for (const uri of p?.uris ?? []) {
      if (!/^[\w.-]+$/.test(uri)) continue; // only plain names beside the playlist (ours)
      size += (await stamp(join(this.dataDir, rel, uri)))?.size ?? 0;
    }
    return {
      url: `/${rel}/${name}`,
      durationSeconds: p?.durationSeconds ?? null,
      segments: p?.segments ?? 0,
      ended: p?.ended ?? false,
      size,
    };
  }

  private async hlsSession(rel: string, session: string | null): Promise<HlsSession> {
    const info = await this.sessionInfo(rel, session);
    const p = await this.playlist(rel, 'index.m3u8');
    return {
      ...info,
      url: p?.url ?? `/${rel}/index.m3u8`,
      durationSeconds: p?.durationSeconds ?? null,
      segments: p?.segments ?? 0,
      ended: p?.ended ?? false,
      size: p?.size ?? 0,
    };
  }

  private async fragmented(rel: string, playlist: string, init: string): Promise<FragmentedOutput | null> {
    const p = await this.playlist(rel, playlist);
    if (!p) return null;
    const s = await stamp(join(this.dataDir, rel, init));
    return { ...p, init: s ? `/${rel}/${init}` : null, codecs: s ? await this.probe.initCodecs(s) : [] };
  }

  private async mp4Session(rel: string, stream: string, session: string | null): Promise<Mp4Session> {
    const info = await this.sessionInfo(rel, session);
    const merge = `${rel}/output_merge`;
    const separate = `${rel}/output_separate`;
    // `{stream}_full.mp4` (the seed's name, e.g. stream_full.mp4 for live/stream); recorders
    // before that wrote `stream_full.mp4` whatever the stream: take whichever is there.
    let full: FileEntry | null = null;
    for (const name of [`${stream}_full.mp4`, 'stream_full.mp4']) {
      full ??= await this.file(merge, name, (f) => this.probe.mp4DurationSeconds(f));
    }
    let meta: unknown = null;
    try {
      meta = JSON.parse(await readFile(join(this.dataDir, merge, 'meta.json'), 'utf8'));
    } catch {
      // not written (yet, or by this version of the recorder)
    }
    const video = await this.fragmented(separate, 'video.m3u8', 'video_init.mp4');
    const audio = await this.fragmented(separate, 'audio.m3u8', 'audio_init.mp4');
    const master = await stamp(join(this.dataDir, separate, 'index.m3u8'));
    return {
      ...info,
      full,
      merge: await this.fragmented(merge, 'index.m3u8', 'init.mp4'),
      separate: video || audio ? { master: master ? `/${separate}/index.m3u8` : null, video, audio } : null,
      meta,
    };
  }
}

export function recordingsApi(dataDir: string): Router {
  const scanner = new RecordingScanner(dataDir);
  return new Router().get('/recordings', async (_req, res) => {
    sendJson(res, 200, { recordings: await scanner.scan() });
  });
}
