import { parseArgs } from 'node:util';
import { signPath } from '../auth/sign.js';
import { errorMessage } from '../errors.js';
import { parseStreamPath } from '../hub/stream-name.js';

export const SIGN_USAGE = `Usage: estuary sign /{app}/{stream} --secret SECRET [--expires SECONDS]

Prints the query to append to a publish URL when the origin runs with --auth-secret SECRET:
  rtmp://HOST:1935/{app}/{stream}?sign=…   (OBS: put "{stream}?sign=…" in the stream key)
  http://HOST:8501/{app}/{stream}?sign=…
--expires: how long the signature is good for, in seconds (default 86400).`;

/** `estuary sign`: prints `?sign=…` for a stream path. */
export function signCommand(args: string[], now = Date.now()): { code: number; out: string } {
  let values: { secret?: string; expires?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        secret: { type: 'string' },
        expires: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { code: 2, out: `estuary sign: ${errorMessage(err)}\n\n${SIGN_USAGE}` };
  }
  if (values.help) return { code: 0, out: SIGN_USAGE };
  if (positionals.length !== 1 || !values.secret) return { code: 2, out: SIGN_USAGE };
  const seconds = values.expires === undefined ? 86_400 : Number(values.expires);
  if (!Number.isInteger(seconds) || seconds <= 0) {
    return { code: 2, out: `estuary sign: --expires must be a positive whole number of seconds` };
  }
  let path: string;
  try {
    path = `/${parseStreamPath(positionals[0]!).path}`;
  } catch (err) {
    return { code: 2, out: `estuary sign: ${errorMessage(err)}` };
  }
  return { code: 0, out: `?sign=${signPath(path, values.secret, Math.floor(now / 1000) + seconds)}` };
}
