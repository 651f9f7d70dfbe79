/** `estuary serve`: the origin, until SIGINT/SIGTERM. */

import { workerCount } from '../cluster/worker-count.js';
import { SERVE_SETTINGS } from '../config/schema.js';
import { createLogger } from '../log.js';
import { Origin, recoverRecordings, recoverStreamRecordings } from '../origin/origin.js';
import { type CommandSpec, parseCommand, serveUntilSignal, usage } from './command-settings.js';

const SPEC: CommandSpec<typeof SERVE_SETTINGS> = {
  name: 'serve',
  table: SERVE_SETTINGS,
  synopsis: `Usage: estuary serve [options]

The origin: RTMP, HTTP-FLV and WebSocket-FLV ingest; RTMP, HTTP-FLV and WebSocket-FLV play; recordings; web port.`,
};

export const SERVE_USAGE = usage(SPEC);

/** Resolves with the exit code once the origin stopped (or at once for help and bad input). */
export async function serveCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseCommand(SPEC, args, env);
  if (parsed.kind === 'exit') return parsed.code;
  const config = parsed.resolved.config;
  const log = createLogger(config.logLevel, config.logFormat);
  const workers = workerCount(config.workers);
  if (workers > 1) {
    // Loaded only here: one process (the default) runs no cluster code at all.
    const { runClustered } = await import('../cluster/run.js');
    const { OriginWorker } = await import('../cluster/origin-worker.js');
    return runClustered({
      name: 'serve',
      workers,
      accept: config.workerAccept,
      log,
      // Once, before any worker accepts a publish that could reuse a folder a crash left.
      beforeFork: () => recoverRecordings(config, log),
      // A worker that died leaves its recordings open: completed at once, not at the next start.
      afterDeath: (paths) => recoverStreamRecordings(config, log, paths),
      worker: (wlog, link) => {
        const w = new OriginWorker(config, link, wlog);
        return {
          start: () => w.start(),
          stop: () => w.stop(),
          privateUrl: () => w.url,
          reload: () => void w.origin.reconfigure(parsed.reload().config),
        };
      },
    });
  }
  const origin = new Origin(config, log);
  return serveUntilSignal(
    'serve',
    () => origin.start(),
    () => origin.stop(),
    {
      get shutdownTimeoutMs() {
        return origin.config.shutdownTimeoutMs;
      },
      reload: () => origin.reconfigure(parsed.reload().config),
    },
  );
}
