// Each command's module is imported when that command runs: loading every server (pino, zod,
// ws, prom-client, …) cost `estuary convert` about half a second of its start on a 2-core machine.
import { readFileSync } from 'node:fs';

const USAGE = `Usage: estuary <command> [options]

Commands:
  serve [--config FILE]                 origin: RTMP/HTTP-FLV/WS-FLV ingest, RTMP/HTTP-FLV/WS-FLV play, web port
  flv-gateway PORT UPSTREAM_URL         FLV edge tier: pulls from an origin or another edge, fans out
  file-gateway [HOST] [PORT] [--root DIR]   static file gateway (recordings and pages)
  push FILE URL [--speed 1.0] [--loop] [--no-reconnect]   publish an FLV/MP4 file in real time
  sign /{app}/{stream} --secret SECRET [--expires S]   print the ?sign=… query for a publish URL
  convert INPUT OUTPUT [--fragmented] [--fmp4] [--force]   FLV / MP4 → MP4, FLV or HLS, offline (no re-encode)

Options:
  -h, --help       this text ('estuary <command> --help' for a command's options)
  -v, --version    the version

Inside a clone run it as 'npx estuary …' (uses the clone, never the registry), or put 'estuary' on
your PATH with 'npm link' or 'npm install -g .'.`;

/** The package version, read from package.json beside the code (src/ or dist/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI; resolves with the exit code (or never, for servers, until a signal). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./serve-command.js')).serveCommand(rest);
    case 'push':
      return (await import('./push-command.js')).pushCommand(rest);
    case 'convert':
      return (await import('./convert-command.js')).convertCommand(rest);
    case 'sign': {
      const r = (await import('./sign-command.js')).signCommand(rest);
      (r.code === 0 ? console.log : console.error)(r.out);
      return r.code;
    }
    case 'file-gateway':
      return (await import('./file-gateway-command.js')).fileGatewayCommand(rest);
    case 'flv-gateway':
      return (await import('./flv-gateway-command.js')).flvGatewayCommand(rest);
    case '--version':
    case '-v':
    case 'version':
      console.log(version());
      return 0;
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
