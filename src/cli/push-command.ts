/**
 * `estuary push FILE URL [--speed 1.0] [--loop] [--no-reconnect]`: argument parsing, signals,
 * progress on stderr and the exit status. The work is in src/pusher/.
 */
import { parseArgs } from 'node:util';
import { type EstuaryError, errorMessage, isEstuaryError } from '../errors.js';
import { ProgressDisplay, type ProgressOutput } from '../pusher/progress.js';
import { isPushError, maskQueries, PUSH_EXIT_CODES, type PushErrorKind } from '../pusher/push-error.js';
import { type PushOptions, pushFile } from '../pusher/pusher.js';
import { abortOnSignals } from './abort-on-signal.js';

export const PUSH_USAGE = `Usage: estuary push FILE URL [--speed 1.0] [--loop] [--no-reconnect]
       estuary push FILE URL SPEED [--no-reconnect]        (speed as a third argument also works)

Publishes an FLV or MP4/MOV file in real time:
  URL http://HOST:8501/{app}/{stream}    HTTP-FLV (chunked POST, as FFmpeg does)
      ws://HOST:8501/{app}/{stream}      WebSocket-FLV (binary messages)
      rtmp://HOST:1935/{app}/{stream}    RTMP publish

Options:
  --speed N        pace at N times real time (default 1.0; the first second is sent at once)
  --loop           repeat the file forever; timestamps keep increasing
  --no-reconnect   exit at the first connection loss (default: reconnect with backoff 0.5 s → 8 s,
                   resuming at the current position from the next keyframe)
  -h, --help       this text

Exit status:
  0  the whole file was sent          5  unsupported codec (the message names it)
  1  unexpected error                 6  publish refused (name taken, auth failed, bad name)
  2  bad arguments                    7  server unreachable
  3  file missing or unreadable       8  connection lost (with --no-reconnect)
  4  not a media file (neither FLV nor MP4/MOV, or malformed)
  130  interrupted (Ctrl-C); the publish is ended cleanly`;

/** Interrupted by SIGINT / SIGTERM: 128 + signal number, the shell convention. */
const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;
/** Above this the pacer would mostly be a burst; a typo like 100 instead of 1.00 is caught. */
const MAX_SPEED = 64;

export interface PushCommandIo {
  /** Progress and messages (default process.stderr). */
  err?: ProgressOutput;
  isTTY?: boolean;
  /** Extra options for the pusher (tests: backoff). */
  overrides?: Partial<PushOptions>;
}

type Parsed =
  | { help: true }
  | { help: false; file: string; url: string; speed: number; loop: boolean; reconnect: boolean };

export function parsePushArgs(args: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      speed: { type: 'string' },
      loop: { type: 'boolean' },
      'no-reconnect': { type: 'boolean' },
    },
  });
  if (values.help) return { help: true };
  if (positionals.length < 2) throw new Error('FILE and URL are required');
  if (positionals.length > 3) throw new Error(`unexpected argument "${positionals[3]}"`);
  if (positionals[2] !== undefined && values.speed !== undefined) {
    throw new Error('speed given twice (third argument and --speed)');
  }
  const speedText = values.speed ?? positionals[2] ?? '1.0';
  const speed = Number(speedText);
  if (!/^\d*\.?\d+$/.test(speedText.trim()) || !(speed > 0) || speed > MAX_SPEED) {
    throw new Error(`speed must be a number above 0 and at most ${MAX_SPEED}, got "${speedText}"`);
  }
  return {
    help: false,
    file: positionals[0]!,
    url: positionals[1]!,
    speed,
    loop: values.loop === true,
    reconnect: values['no-reconnect'] !== true,
  };
}

/** Exit status and message for a failed push. */
export function describePushFailure(err: unknown): { code: number; message: string } {
  if (isPushError(err)) return { code: err.exitCode, message: err.message };
  if (isEstuaryError(err)) {
    const kind = kindOfEstuaryError(err);
    if (kind) return { code: PUSH_EXIT_CODES[kind], message: `${err.code}: ${err.message}` };
  }
  // Unexpected: the stack tells a bug report where.
  return { code: 1, message: err instanceof Error && err.stack ? err.stack : errorMessage(err) };
}

function kindOfEstuaryError(err: EstuaryError): PushErrorKind | undefined {
  switch (err.code) {
    case 'ERR_CODEC_UNSUPPORTED':
      return 'codec-unsupported';
    case 'ERR_FLV_FORMAT':
    case 'ERR_MP4_FORMAT':
    case 'ERR_CODEC_CONFIG':
    case 'ERR_AMF_DECODE':
      return 'not-media';
    default:
      return undefined;
  }
}

export async function pushCommand(args: string[], io: PushCommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  let parsed: Parsed;
  try {
    parsed = parsePushArgs(args);
  } catch (e) {
    err.write(`estuary push: ${errorMessage(e)}\n\n${PUSH_USAGE}\n`);
    return PUSH_EXIT_CODES.usage;
  }
  if (parsed.help) {
    console.log(PUSH_USAGE);
    return 0;
  }
  const display = new ProgressDisplay(err, io.isTTY ?? process.stderr.isTTY === true);
  const interrupt = abortOnSignals();
  try {
    const result = await pushFile({
      file: parsed.file,
      url: parsed.url,
      speed: parsed.speed,
      loop: parsed.loop,
      reconnect: parsed.reconnect,
      signal: interrupt.signal,
      log: (m) => display.log(`estuary push: ${m}`),
      onProgress: (p) => display.update(p),
      ...io.overrides,
    });
    display.end();
    const summary = `${result.frames} frames, ${(result.bytes / 1e6).toFixed(2)} MB`;
    if (result.interrupted) {
      display.log(`estuary push: stopped by ${interrupt.received ?? 'signal'} after ${summary}`);
      return interrupt.received === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT;
    }
    display.log(`estuary push: done, ${summary} sent`);
    return 0;
  } catch (e) {
    display.end();
    const { code, message } = describePushFailure(e);
    display.log(`estuary push: ${maskQueries(message)}`);
    return code;
  } finally {
    interrupt.off();
  }
}
