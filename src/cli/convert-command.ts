/**
 * `estuary convert INPUT OUTPUT [--segment-seconds 2] [--fragmented] [--fmp4] [--force]`:
 * argument parsing, the progress line (on a terminal only), signals and the exit status. The
 * work is in src/convert/.
 */
import { CONVERT_SETTINGS } from '../config/schema.js';
import { convertFile } from '../convert/convert.js';
import { CONVERT_EXIT_CODES, isConvertError } from '../convert/convert-error.js';
import { formatConvertProgress } from '../convert/progress-line.js';
import { errorMessage } from '../errors.js';
import { abortOnSignals } from './abort-on-signal.js';
import { type CommandSpec, parseCommand } from './command-settings.js';

const EXIT_TABLE = `Exit status:
  0  converted completely             5  unsupported codec (the message names it)
  1  unexpected error                 6  OUTPUT exists (pass --force to replace it)
  2  bad arguments                    7  OUTPUT cannot be written (disk full, no permission)
  3  INPUT missing or unreadable      8  INPUT truncated or corrupt: OUTPUT holds everything up
  4  INPUT is not FLV or MP4/MOV          to the last whole frame
  130 / 143  interrupted (SIGINT / SIGTERM); nothing is left behind`;

const SPEC: CommandSpec<typeof CONVERT_SETTINGS> = {
  name: 'convert',
  table: CONVERT_SETTINGS,
  positionals: ['input', 'output'],
  synopsis: `Usage: estuary convert INPUT OUTPUT [--segment-seconds 2] [--fragmented] [--fmp4] [--force]

Copies the coded frames of an FLV or MP4/MOV file into another container, without re-encoding
(like ffmpeg -i INPUT -c copy OUTPUT). The OUTPUT name picks the format:
  out.mp4    MP4 with the moov first (fast start); --fragmented for fragmented MP4
  out.flv    FLV
  out.m3u8   HLS VOD playlist with MPEG-TS segments beside it (out_00000.ts, …); --fmp4 for fMP4
             segments (out_init.mp4, out_00000.m4s, …)

${EXIT_TABLE}`,
};

export interface ConvertCommandIo {
  err?: { write(text: string): unknown };
  isTTY?: boolean;
}

/** A progress line redrawn in place at most every 250 ms; nothing when stderr is not a terminal. */
function progressWriter(io: Required<ConvertCommandIo>): {
  update: (line: string) => void;
  clear: () => void;
} {
  let drawn = false;
  let last = 0;
  return {
    update: (line) => {
      if (!io.isTTY) return;
      const now = performance.now();
      if (now - last < 250) return;
      last = now;
      // \r and ESC[K (erase to end of line, ECMA-48 8.3.41) redraw the line in place.
      io.err.write(`\r${line}\x1b[K`);
      drawn = true;
    },
    clear: () => {
      if (drawn) io.err.write('\r\x1b[K');
      drawn = false;
    },
  };
}

export async function convertCommand(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  ioIn: ConvertCommandIo = {},
): Promise<number> {
  const io = { err: ioIn.err ?? process.stderr, isTTY: ioIn.isTTY ?? process.stderr.isTTY === true };
  const parsed = parseCommand(SPEC, args, env);
  if (parsed.kind === 'exit') return parsed.code;
  const c = parsed.resolved.config;
  if (!c.input || !c.output) {
    io.err.write(
      `estuary convert: INPUT and OUTPUT are required\n\nRun 'estuary convert --help' for the options.\n`,
    );
    return CONVERT_EXIT_CODES.usage;
  }
  const progress = progressWriter(io);
  const interrupt = abortOnSignals();
  const started = performance.now();
  try {
    const r = await convertFile({
      input: c.input,
      output: c.output,
      segmentSeconds: c.segmentSeconds,
      fragmented: c.fragmented,
      fmp4: c.fmp4,
      force: c.force,
      signal: interrupt.signal,
      onProgress: (p) => progress.update(formatConvertProgress(p, performance.now() - started)),
    });
    progress.clear();
    for (const n of r.notes) io.err.write(`estuary convert: ${n}\n`);
    const what = `${r.frames.video} video and ${r.frames.audio} audio frames, ${(r.durationMs / 1000).toFixed(2)} s`;
    if (r.problem) {
      io.err.write(`estuary convert: ${r.problem.message}\n`);
      io.err.write(`estuary convert: wrote ${c.output} (${what}), stopping early\n`);
      return CONVERT_EXIT_CODES[r.problem.kind];
    }
    if (io.isTTY) io.err.write(`estuary convert: wrote ${c.output} (${what})\n`);
    return 0;
  } catch (e) {
    progress.clear();
    if (isConvertError(e, 'interrupted')) {
      io.err.write(
        `estuary convert: stopped by ${interrupt.received ?? 'signal'}; ${c.output} not written\n`,
      );
      return interrupt.received === 'SIGTERM' ? 143 : CONVERT_EXIT_CODES.interrupted;
    }
    if (isConvertError(e)) {
      io.err.write(`estuary convert: ${e.message}\n`);
      return e.exitCode;
    }
    // Unexpected: the stack tells a bug report where.
    io.err.write(`estuary convert: ${e instanceof Error && e.stack ? e.stack : errorMessage(e)}\n`);
    return 1;
  } finally {
    interrupt.off();
  }
}
