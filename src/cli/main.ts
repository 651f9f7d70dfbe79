import { parseArgs } from 'node:util';
import { configFromEnv, configFromFlags, readConfigFile, resolveServeConfig } from '../config/load.js';
import { isEstuaryError } from '../errors.js';
import { createLogger } from '../log.js';
import { Origin } from '../origin/origin.js';
import { pushCommand } from './push-command.js';
import { signCommand } from './sign-command.js';

const USAGE = `Usage: estuary <command> [options]

Commands:
  serve [--config FILE]                 origin: RTMP + HTTP-FLV ingest, RTMP/HTTP-FLV/WS-FLV play, web port
  flv-gateway PORT UPSTREAM_URL         FLV edge tier (not yet implemented)
  file-gateway HOST PORT [--root DIR]   static file gateway (not yet implemented)
  push FILE URL [--speed 1.0] [--loop] [--no-reconnect]   publish an FLV/MP4 file in real time
  sign /{app}/{stream} --secret SECRET [--expires S]   print the ?sign=… query for a publish URL

Run 'estuary <command> --help' for a command's options.`;

const SERVE_USAGE = `Usage: estuary serve [options]

Options (each also ESTUARY_<NAME> in the environment and a key in the config file;
flags override the environment, which overrides the file):
  --config FILE        YAML or JSON config file
  --host ADDR          listen address (default 0.0.0.0)
  --rtmp-port N        RTMP publish/play (default 1935)
  --http-port N        HTTP-FLV publish (POST) and play, WebSocket-FLV play (default 8501)
  --web-port N         web port: API, recordings, pages (default 8000)
  --data-dir DIR       recordings (default ./data)
  --no-record-flv      do not record FLV        (ESTUARY_RECORD_FLV=false)
  --no-record-hls      do not record HLS        (ESTUARY_RECORD_HLS=false)
  --no-record-mp4      do not record fMP4/MP4   (ESTUARY_RECORD_MP4=false)
  --auth-secret SECRET publishing needs a signed URL (see estuary sign)
  --hls-segment-seconds S  HLS/fMP4 segment target duration (default 2; cut on the next keyframe)
  --hls-window N       segments in the live HLS playlist; 0 keeps all (default 6)
  --hls-grace-seconds S  how long a segment stays after leaving the window (default: RFC 8216 6.2.2)
  --hls-cleanup        delete HLS segments that left the live window (default: keep every segment;
                       the ended playlist lists them all) (ESTUARY_HLS_CLEANUP=true)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)`;

/** Runs the CLI; resolves with the exit code (or never, for servers, until a signal). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'push':
      return pushCommand(rest);
    case 'sign': {
      const r = signCommand(rest);
      (r.code === 0 ? console.log : console.error)(r.out);
      return r.code;
    }
    case 'flv-gateway':
    case 'file-gateway':
      if (rest.includes('--help')) {
        console.log(USAGE);
        return 0;
      }
      console.error(`estuary ${command}: not yet implemented`);
      return 2;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`estuary: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function serve(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseServeArgs>;
  try {
    parsed = parseServeArgs(args);
  } catch (err) {
    console.error(`estuary serve: ${(err as Error).message}\n\n${SERVE_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  let origin: Origin;
  try {
    const file = typeof parsed.flags.config === 'string' ? readConfigFile(parsed.flags.config) : {};
    const config = resolveServeConfig([file, configFromEnv(process.env), configFromFlags(parsed.flags)]);
    origin = new Origin(config, createLogger(config.logLevel));
    await origin.start();
  } catch (err) {
    console.error(
      `estuary serve: ${isEstuaryError(err) ? `${err.code}: ${err.message}` : (err as Error).message}`,
    );
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      origin.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
      void signal;
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

function parseServeArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      config: { type: 'string' },
      host: { type: 'string' },
      'rtmp-port': { type: 'string' },
      'http-port': { type: 'string' },
      'web-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'auth-secret': { type: 'string' },
      'log-level': { type: 'string' },
      'hls-segment-seconds': { type: 'string' },
      'hls-window': { type: 'string' },
      'hls-grace-seconds': { type: 'string' },
      'hls-cleanup': { type: 'boolean' },
      'no-record-flv': { type: 'boolean' },
      'no-record-hls': { type: 'boolean' },
      'no-record-mp4': { type: 'boolean' },
    },
  });
  return { help: values.help === true, flags: values as Record<string, string | boolean | undefined> };
}
