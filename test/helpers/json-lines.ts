/** A server's log line, as pino writes it. */
export type LogLine = Record<string, unknown>;

/** The JSON lines of a process's stdout (other lines, and a line cut short, are skipped). */
export function jsonLines(out: string): LogLine[] {
  return out.split('\n').flatMap((l) => {
    try {
      return l.startsWith('{') ? [JSON.parse(l) as LogLine] : [];
    } catch {
      return [];
    }
  });
}
