/**
 * `estuary serve`: flags from the settings table, the config file, the environment, then the
 * origin until SIGINT/SIGTERM. Help and `--print-config` are rendered from the same table.
 */
import { parseArgs } from 'node:util';
import { renderOptions } from '../config/help.js';
import {
  describeSettings,
  envLayer,
  fileLayer,
  flagLayer,
  flagOptions,
  resolveSettings,
  type SettingsLayer,
} from '../config/load.js';
import { SERVE_SETTINGS } from '../config/schema.js';
import { describeError, errorMessage } from '../errors.js';
import { createLogger } from '../log.js';
import { Origin } from '../origin/origin.js';

export const SERVE_USAGE = `Usage: estuary serve [options]

The origin: RTMP and HTTP-FLV ingest; RTMP, HTTP-FLV and WebSocket-FLV play; recordings; web port.
Every setting is also ESTUARY_<NAME> in the environment and a key in the config file (YAML or JSON,
camelCase keys as listed in the README); flags override the environment, which overrides the file.

Options:
  --config FILE               YAML or JSON config file
  --print-config              print the effective settings and where each came from, then exit
${renderOptions(SERVE_SETTINGS)}`;

/** Resolves with the exit code once the origin stopped (or at once for help and bad input). */
export async function serveCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string' },
        'print-config': { type: 'boolean' },
        ...flagOptions(SERVE_SETTINGS),
      },
    }));
  } catch (err) {
    console.error(`estuary serve: ${errorMessage(err)}\n\nRun 'estuary serve --help' for the options.`);
    return 2;
  }
  if (values.help === true) {
    console.log(SERVE_USAGE);
    return 0;
  }
  let origin: Origin;
  try {
    const layers: SettingsLayer[] = [];
    if (typeof values.config === 'string') layers.push(fileLayer(values.config));
    layers.push(envLayer(SERVE_SETTINGS, env), flagLayer(SERVE_SETTINGS, values));
    const resolved = resolveSettings(SERVE_SETTINGS, layers);
    if (values['print-config'] === true) {
      console.log(describeSettings(SERVE_SETTINGS, resolved));
      return 0;
    }
    const config = resolved.config;
    origin = new Origin(config, createLogger(config.logLevel, config.logFormat));
    await origin.start();
  } catch (err) {
    console.error(`estuary serve: ${describeError(err)}`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      origin.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
