import { type Logger, pino } from 'pino';

/**
 * The root logger: JSON lines on stdout (pino). Components take a child logger with
 * {proto, conn, path} bindings; nothing logs through a global.
 */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that discards everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

let nextConn = 1;
/** Short, process-unique connection ids for log lines. */
export function connId(): number {
  return nextConn++;
}
