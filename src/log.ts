import { type DestinationStream, type Logger, pino } from 'pino';
import { PrettyLogStream } from './pretty-log-stream.js';

export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * The root logger: JSON lines on stdout (pino), or readable lines when a person watches
 * (`auto` on a terminal, or `pretty`). Components take a child logger with {proto, conn, path}
 * bindings; nothing logs through a global.
 */
export function createLogger(
  level = 'info',
  format: LogFormat = 'json',
  out: NodeJS.WriteStream = process.stdout,
): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true);
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (!pretty) return pino(options, out as DestinationStream);
  return pino(options, new PrettyLogStream(out, out.isTTY === true && !process.env.NO_COLOR));
}

/** A logger that discards everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

let nextConn = 1;

/**
 * Connection ids from `first` on: worker k of `--workers N` numbers its connections from
 * k × 1,000,000 + 1, so an id names one connection of the whole server and its worker.
 */
export function connIdsFrom(first: number): void {
  nextConn = first;
}

/** Short, process-unique connection ids for log lines. */
export function connId(): number {
  return nextConn++;
}
