/**
 * Locates the external tools interop tests run against. FFmpeg and ffprobe come from the npm
 * packages `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` (so `npm ci` is all the
 * set-up); a system binary in /usr/bin (Debian's, newer, installed by .ci/run) is preferred when
 * present, and ESTUARY_FFMPEG / ESTUARY_FFPROBE override both.
 *
 * A missing tool makes a test skip with a message locally, but fails it under CI=true: CI must
 * never pass by skipping.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TestContext } from 'node:test';

const require = createRequire(import.meta.url);

function fromNpm(pkg: string): string | undefined {
  try {
    const mod = require(pkg) as { path?: string };
    return mod.path && existsSync(mod.path) ? mod.path : undefined;
  } catch {
    return undefined;
  }
}

function firstExisting(...candidates: (string | undefined)[]): string | undefined {
  return candidates.find((c): c is string => c !== undefined && existsSync(c));
}

export const tools = {
  ffmpeg: firstExisting(process.env.ESTUARY_FFMPEG, '/usr/bin/ffmpeg') ?? fromNpm('@ffmpeg-installer/ffmpeg'),
  ffprobe:
    firstExisting(process.env.ESTUARY_FFPROBE, '/usr/bin/ffprobe') ?? fromNpm('@ffprobe-installer/ffprobe'),
  rtmpdump: firstExisting('/usr/bin/rtmpdump'),
  chromium: firstExisting('/usr/bin/chromium'),
  /** Debian's nginx (.ci/run installs it): the cache in front of the file gateways. */
  nginx: firstExisting(process.env.ESTUARY_NGINX, '/usr/sbin/nginx'),
};

export type ToolName = keyof typeof tools;

/**
 * Returns the tool's path, or skips the test (locally) / throws (under CI=true) when it is missing.
 */
export function requireTool(t: TestContext, name: ToolName): string | undefined {
  const path = tools[name];
  if (path) return path;
  const msg = `${name} is not installed`;
  if (process.env.CI === 'true') throw new Error(`${msg}, and CI must run every interop test`);
  t.skip(msg);
  return undefined;
}
