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
import { onSignals, reloadOnHup } from '../util/process-signals.js';

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
  | {
      kind: 'run';
      resolved: Resolved<ConfigOf<T>>;
      flags: Record<string, string | boolean | undefined>;
      /**
       * Resolves the settings again as at start (SIGHUP): the config file read anew, the
       * environment and the flags as given (flags still win). Throws ERR_CONFIG as at start.
       */
      reload: () => Resolved<ConfigOf<T>>;
    };

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
  const resolve = () => {
    const layers: SettingsLayer[] = [];
    if (typeof values.config === 'string') layers.push(fileLayer(values.config));
    layers.push(envLayer(spec.table, env));
    const fromPositionals: Record<string, unknown> = {};
    positionals.forEach((v, i) => {
      const key = spec.positionals![i]!;
      fromPositionals[`${key}\0argument ${i + 1} (${key.toUpperCase()})`] = v;
    });
    layers.push({ kind: 'flag', label: 'arguments', values: fromPositionals }, flagLayer(spec.table, values));
    return resolveSettings(spec.table, layers);
  };
  try {
    const resolved = resolve();
    if (values['print-config'] === true) {
      console.log(describeSettings(spec.table, resolved));
      return { kind: 'exit', code: 0 };
    }
    return { kind: 'run', resolved, flags: values, reload: resolve };
  } catch (err) {
    console.error(`estuary ${spec.name}: ${describeError(err)}`);
    return { kind: 'exit', code: 1 };
  }
}

export interface ServeOptions {
  /** Stopping may take this long; then the process exits anyway (code 1). */
  readonly shutdownTimeoutMs: number;
  /** SIGHUP: re-read the settings and apply what can change live; none: SIGHUP is ignored. */
  readonly reload?: () => void;
  /** How a hung stop ends the process (tests replace it). */
  readonly exit?: (code: number) => void;
}

/**
 * Starts a server and runs it until SIGINT/SIGTERM, then stops it: resolves with 0, or 1 when
 * starting or stopping failed (the start failure is printed as `estuary NAME: CODE: message`).
 * The signal handlers are in place before the start, so a signal that comes while the server is
 * still starting (recovering recordings, binding ports) stops it as soon as it has started,
 * instead of killing the process half-way.
 *
 * Stopping is bounded: past `shutdownTimeoutMs` (a recording that cannot be finalised, a peer
 * that holds a socket) or at a second SIGINT/SIGTERM, the process exits at once with code 1,
 * saying so. SIGHUP calls `reload` (a failure is printed and the server runs on unchanged).
 */
export async function serveUntilSignal(
  name: string,
  start: () => Promise<unknown>,
  stop: () => Promise<void>,
  opts: ServeOptions = { shutdownTimeoutMs: 10_000 },
): Promise<number> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  let signalled: () => void = () => {};
  const signal = new Promise<void>((resolve) => {
    signalled = resolve;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stopping) {
      stopping = true;
      signalled();
      return;
    }
    console.error(`estuary ${name}: ${sig} again while stopping: exiting now`);
    exit(1);
  };
  const reload = opts.reload && reloadOnHup(name, opts.reload);
  const off = onSignals({
    SIGINT: onSignal,
    SIGTERM: onSignal,
    SIGHUP: () => {
      if (!stopping) reload?.();
    },
  });
  try {
    await start();
  } catch (err) {
    off();
    console.error(`estuary ${name}: ${describeError(err)}`);
    return 1;
  }
  await signal;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), opts.shutdownTimeoutMs);
  });
  try {
    const r = await Promise.race([stop().then(() => 'stopped' as const), deadline]);
    if (r === 'timeout') {
      console.error(
        `estuary ${name}: stopping took over ${opts.shutdownTimeoutMs} ms (shutdownTimeoutMs): exiting anyway`,
      );
      exit(1);
      return 1;
    }
    return 0;
  } catch (err) {
    console.error(`estuary ${name}: stopping failed: ${describeError(err)}`);
    return 1;
  } finally {
    clearTimeout(timer);
    off();
  }
}
