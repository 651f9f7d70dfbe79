import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveServeConfig } from '../../src/config/load.js';
import type { ServeConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { Origin, type OriginPorts } from '../../src/origin/origin.js';

export interface TestOrigin {
  origin: Origin;
  ports: OriginPorts;
  dataDir: string;
  rtmpUrl(path: string): string;
  flvUrl(path: string): string;
  wsUrl(path: string): string;
  stop(): Promise<void>;
}

/** Starts an origin in this process on free loopback ports with a temporary data dir. */
export async function startOrigin(
  overrides: Partial<ServeConfig> = {},
  /** Where the origin logs (test/helpers/edge.ts captureLog); default silent. */
  logger?: Logger,
): Promise<TestOrigin> {
  const dataDir = mkdtempSync(join(tmpdir(), 'estuary-test-'));
  const config = resolveServeConfig([
    { host: '127.0.0.1', rtmpPort: 0, httpPort: 0, webPort: 0, dataDir, logLevel: 'silent' },
    overrides,
  ]);
  const log = logger
    ? logger
    : process.env.ESTUARY_TEST_LOG
      ? (await import('../../src/log.js')).createLogger('debug')
      : silentLogger();
  const origin = new Origin(config, log);
  const ports = await origin.start();
  return {
    origin,
    ports,
    dataDir,
    rtmpUrl: (p) => `rtmp://127.0.0.1:${ports.rtmp}/${p}`,
    flvUrl: (p) => `http://127.0.0.1:${ports.http}/${p}.flv`,
    wsUrl: (p) => `ws://127.0.0.1:${ports.http}/${p}.flv`,
    stop: async () => {
      await origin.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `path` is live on the origin (polls; rejects after `timeoutMs`). */
export async function waitLive(
  origin: Origin,
  path: string,
  timeoutMs = 10_000,
  minFrames = 1,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = origin.hub.get(path);
    if (s?.isLive && s.framesIn >= minFrames) return;
    if (Date.now() > deadline) throw new Error(`${path} did not go live within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until `path` is no longer live, then until every recording finished. FFmpeg exits a
 * moment before the server has read the last bytes and seen the socket close, so a test that
 * stops the origin right after the publisher exits would cut the stream short.
 */
export async function waitEnded(origin: Origin, path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (origin.hub.get(path)?.isLive) {
    if (Date.now() > deadline)
      throw new Error(`${path} is still live ${timeoutMs} ms after its publisher left`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await origin.recordings.drain();
}
