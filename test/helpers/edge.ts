/**
 * Edges (`estuary flv-gateway`) for tests: in this process on a free loopback port, or as a child
 * process (src/cli/run.ts) when a test must watch or kill it from outside.
 */

import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { resolveSettings } from '../../src/config/load.js';
import { EDGE_SETTINGS, type EdgeConfig } from '../../src/config/schema.js';
import { Edge } from '../../src/edge/edge.js';
import { silentLogger } from '../../src/log.js';

export interface TestEdge {
  edge: Edge;
  port: number;
  /** `http://127.0.0.1:PORT`: what a tier below uses as its upstream. */
  base: string;
  flvUrl(path: string): string;
  wsUrl(path: string): string;
  /** GET /api/streams on the edge's port. */
  api(): Promise<EdgeApi>;
  stop(): Promise<void>;
}

export interface EdgeApi {
  edge: {
    streams: number;
    viewers: number;
    bytesIn: number;
    bytesOut: number;
    pulls: Record<string, number>;
  };
  streams: {
    app: string;
    stream: string;
    upstream?: { url: string; state: string; reconnects: number };
    /** Viewers by protocol and their total, as on the origin's /api/streams. */
    viewers: { total: number } & Record<string, number>;
  }[];
}

/** Quick reconnects, so tests of upstream loss take seconds. */
export const FAST_EDGE: Partial<EdgeConfig> = {
  reconnectInitialMs: 100,
  reconnectMaxMs: 300,
  statsIntervalMs: 0,
};

export function edgeConfig(upstream: string, overrides: Partial<EdgeConfig> = {}): EdgeConfig {
  return resolveSettings(EDGE_SETTINGS, [
    { host: '127.0.0.1', port: 0, upstream, logLevel: 'silent', ...FAST_EDGE },
    overrides,
  ]).config;
}

/** A logger whose JSON lines a test can read (`lines()`), at info level and above. */
export function captureLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n'))
        if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines: () => lines };
}

/** Starts an edge in this process pulling from `upstream` (`http://HOST:PORT`). */
export async function startEdge(
  upstream: string,
  overrides: Partial<EdgeConfig> = {},
  logger?: Logger,
): Promise<TestEdge> {
  const log =
    logger ??
    (process.env.ESTUARY_TEST_LOG
      ? (await import('../../src/log.js')).createLogger('debug')
      : silentLogger());
  const edge = new Edge(edgeConfig(upstream, overrides), log);
  const port = await edge.start();
  const base = `http://127.0.0.1:${port}`;
  return {
    edge,
    port,
    base,
    flvUrl: (p) => `${base}/${p}.flv`,
    wsUrl: (p) => `ws://127.0.0.1:${port}/${p}.flv`,
    api: async () => (await (await fetch(`${base}/api/streams`)).json()) as EdgeApi,
    stop: () => edge.stop(),
  };
}
