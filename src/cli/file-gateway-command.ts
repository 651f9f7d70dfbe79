/** `estuary file-gateway [HOST] [PORT] [--root DIR] [--dir]`: the static file gateway. */

import { workerCount } from '../cluster/worker-count.js';
import { FILES_SETTINGS } from '../config/schema.js';
import { FileGateway } from '../files/file-gateway.js';
import { createLogger } from '../log.js';
import { type CommandSpec, parseCommand, serveUntilSignal } from './command-settings.js';

const SPEC: CommandSpec<typeof FILES_SETTINGS> = {
  name: 'file-gateway',
  table: FILES_SETTINGS,
  positionals: ['host', 'port'],
  synopsis: `Usage: estuary file-gateway [HOST] [PORT] [--root DIR] [--dir]
       (the seed's form: estuary file-gateway 0.0.0.0 8100)

Serves the recordings under --root (the origin's data directory) at the origin's paths
(/hls/{app}/{stream}/index.m3u8, /mp4/…, /flv/…) and the player pages, for many viewers and for a
cache (nginx, a CDN) in front.`,
};

export async function fileGatewayCommand(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseCommand(SPEC, args, env);
  if (parsed.kind === 'exit') return parsed.code;
  const config = parsed.resolved.config;
  const log = createLogger(config.logLevel, config.logFormat);
  const workers = workerCount(config.workers);
  if (workers > 1) {
    // Loaded only here: one process (the default) runs no cluster code at all.
    const { runClustered } = await import('../cluster/run.js');
    // Stateless: every worker serves the same files.
    return runClustered({
      name: 'file-gateway',
      workers,
      accept: config.workerAccept,
      log,
      worker: (wlog, link) => {
        const g = new FileGateway(config, wlog, link);
        return {
          start: () => g.start(),
          stop: () => g.stop(),
          reload: () => g.reconfigure(parsed.reload().config),
        };
      },
    });
  }
  const gateway = new FileGateway(config, log);
  return serveUntilSignal(
    'file-gateway',
    () => gateway.start(),
    () => gateway.stop(),
    {
      get shutdownTimeoutMs() {
        return gateway.config.shutdownTimeoutMs;
      },
      reload: () => gateway.reconfigure(parsed.reload().config),
    },
  );
}
