/** `estuary flv-gateway PORT UPSTREAM_URL`: an FLV edge tier, until SIGINT/SIGTERM. */

import { workerCount } from '../cluster/worker-count.js';
import { EDGE_SETTINGS } from '../config/schema.js';
import { Edge } from '../edge/edge.js';
import { describeError } from '../errors.js';
import { createLogger } from '../log.js';
import { type CommandSpec, parseCommand, serveUntilSignal, usage } from './command-settings.js';

const SPEC: CommandSpec<typeof EDGE_SETTINGS> = {
  name: 'flv-gateway',
  table: EDGE_SETTINGS,
  positionals: ['port', 'upstream'],
  synopsis: `Usage: estuary flv-gateway PORT UPSTREAM_URL [options]
       (the seed's form: estuary flv-gateway 8080 http://ORIGIN:8501)

An FLV edge: serves http://EDGE:PORT/{app}/{stream}.flv and ws://EDGE:PORT/{app}/{stream}.flv,
pulling each stream once from UPSTREAM_URL (an origin's live port or another edge) and sharing
that pull among all its viewers, with the origin's GOP cache. Viewers stay connected while a lost
upstream is reconnected; GET /api/streams on PORT shows streams, viewers and pulls.`,
};

export const FLV_GATEWAY_USAGE = usage(SPEC);

export async function flvGatewayCommand(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseCommand(SPEC, args, env);
  if (parsed.kind === 'exit') return parsed.code;
  const config = parsed.resolved.config;
  if (config.upstream === undefined) {
    console.error(
      "estuary flv-gateway: no UPSTREAM_URL (e.g. estuary flv-gateway 8080 http://ORIGIN:8501)\n\nRun 'estuary flv-gateway --help' for the options.",
    );
    return 2;
  }
  const level = config.debug ? 'debug' : config.logLevel;
  const log = createLogger(level, config.logFormat);
  let edge: Edge;
  try {
    edge = new Edge(config, log);
  } catch (err) {
    console.error(`estuary flv-gateway: ${describeError(err)}`);
    return 1;
  }
  const workers = workerCount(config.workers);
  if (workers > 1) {
    // Loaded only here: one process (the default) runs no cluster code at all.
    const { runClustered } = await import('../cluster/run.js');
    const { sumEdges } = await import('../cluster/sum-edges.js');
    // Each worker pulls from the upstream itself: one pull per stream per worker.
    return runClustered({
      name: 'flv-gateway',
      workers,
      accept: config.workerAccept,
      log,
      worker: (wlog, link) => {
        // GET /api/streams on any worker answers for all of them.
        const e = new Edge(config, wlog, {
          gather: async () => sumEdges((await link.request({ t: 'gather', query: '' })).parts ?? []),
          link,
        });
        link.on({ describe: () => e.describe() });
        return {
          start: () => e.start(),
          stop: () => e.stop(),
          reload: () => void e.reconfigure(parsed.reload().config),
        };
      },
    });
  }
  const running = edge;
  return serveUntilSignal(
    'flv-gateway',
    () => running.start(),
    () => running.stop(),
    {
      get shutdownTimeoutMs() {
        return running.config.shutdownTimeoutMs;
      },
      reload: () => running.reconfigure(parsed.reload().config),
    },
  );
}
