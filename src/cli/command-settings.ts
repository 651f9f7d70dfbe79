/**
 * The part every server command shares: flags from its settings table, positional arguments that
 * stand for settings (`file-gateway HOST PORT`), `--config FILE`, `--print-config`, `--help`, and
 * the layers resolved in order (file < environment < positionals and flags).
 */
import { parseArgs } from 'node:util';
import { renderOptions } from '../config/help.js';
import {
  describeSettings,
  envLayer,
  fileLayer,
  flagLayer,
  flagOptions,
  type Resolved,
  resolveSettings,
  type SettingsLayer,
} from '../config/load.js';
import type { ConfigOf, SettingTable } from '../config/setting.js';
import { describeError, errorMessage } from '../errors.js';

export interface CommandSpec<T extends SettingTable> {
  readonly name: string;
  readonly table: T;
  /** Settings the positional arguments set, in order (`['host', 'port']`). */
  readonly positionals?: readonly (keyof T & string)[];
  /** The usage line(s) and what the command does, above the generated options. */
  readonly synopsis: string;
  /** Extra flags the command itself handles (not settings). */
  readonly extraFlags?: Record<string, { type: 'string' | 'boolean'; short?: string }>;
}

export type ParsedCommand<T extends SettingTable> =
  | { kind: 'exit'; code: number }
  | { kind: 'run'; resolved: Resolved<ConfigOf<T>>; flags: Record<string, string | boolean | undefined> };

export function usage<T extends SettingTable>(spec: CommandSpec<T>): string {
  return `${spec.synopsis}

Options (each also ESTUARY_<NAME> in the environment and a key in the config file; flags override
the environment, which overrides the file):
  --config FILE               YAML or JSON config file
  --print-config              print the effective settings and where each came from, then exit
${renderOptions(spec.table)}`;
}

/** Parses and resolves; prints help, --print-config output or the error itself. */
export function parseCommand<T extends SettingTable>(
  spec: CommandSpec<T>,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedCommand<T> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: (spec.positionals?.length ?? 0) > 0,
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string' },
        'print-config': { type: 'boolean' },
        ...spec.extraFlags,
        ...flagOptions(spec.table),
      },
    }));
    if (positionals.length > (spec.positionals?.length ?? 0)) {
      throw new Error(`unexpected argument "${positionals[spec.positionals?.length ?? 0]}"`);
    }
  } catch (err) {
    console.error(
      `estuary ${spec.name}: ${errorMessage(err)}\n\nRun 'estuary ${spec.name} --help' for the options.`,
    );
    return { kind: 'exit', code: 2 };
  }
  if (values.help === true) {
    console.log(usage(spec));
    return { kind: 'exit', code: 0 };
  }
  const layers: SettingsLayer[] = [];
  try {
    if (typeof values.config === 'string') layers.push(fileLayer(values.config));
    layers.push(envLayer(spec.table, env));
    const fromPositionals: Record<string, unknown> = {};
    positionals.forEach((v, i) => {
      const key = spec.positionals![i]!;
      fromPositionals[`${key}\0argument ${i + 1} (${key.toUpperCase()})`] = v;
    });
    layers.push({ kind: 'flag', label: 'arguments', values: fromPositionals }, flagLayer(spec.table, values));
    const resolved = resolveSettings(spec.table, layers);
    if (values['print-config'] === true) {
      console.log(describeSettings(spec.table, resolved));
      return { kind: 'exit', code: 0 };
    }
    return { kind: 'run', resolved, flags: values };
  } catch (err) {
    console.error(`estuary ${spec.name}: ${describeError(err)}`);
    return { kind: 'exit', code: 1 };
  }
}

/**
 * Starts a server and runs it until SIGINT/SIGTERM, then stops it: resolves with 0, or 1 when
 * starting or stopping failed (the start failure is printed as `estuary NAME: CODE: message`).
 * The signal handlers are in place before the start, so a signal that comes while the server is
 * still starting (recovering recordings, binding ports) stops it as soon as it has started,
 * instead of killing the process half-way.
 */
export async function serveUntilSignal(
  name: string,
  start: () => Promise<unknown>,
  stop: () => Promise<void>,
): Promise<number> {
  let signalled: () => void = () => {};
  const signal = new Promise<void>((resolve) => {
    signalled = resolve;
  });
  process.on('SIGINT', signalled);
  process.on('SIGTERM', signalled);
  const off = () => {
    process.off('SIGINT', signalled);
    process.off('SIGTERM', signalled);
  };
  try {
    await start();
  } catch (err) {
    off();
    console.error(`estuary ${name}: ${describeError(err)}`);
    return 1;
  }
  await signal;
  off();
  try {
    await stop();
    return 0;
  } catch (err) {
    console.error(`estuary ${name}: stopping failed: ${describeError(err)}`);
    return 1;
  }
}
