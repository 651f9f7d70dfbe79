/** `estuary serve`: the origin, until SIGINT/SIGTERM. */
import { SERVE_SETTINGS } from '../config/schema.js';
import { createLogger } from '../log.js';
import { Origin } from '../origin/origin.js';
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
  const origin = new Origin(config, createLogger(config.logLevel, config.logFormat));
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
