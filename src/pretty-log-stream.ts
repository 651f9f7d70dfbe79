/**
 * pino's JSON lines as lines a person reads on a terminal:
 *   21:09:33.123 INFO  rtmp #3 live/stream 127.0.0.1:50022  closed  reason="connection closed by peer"
 * Time (local), level, the connection's bindings, the message, then the other fields as key=value.
 * A line that is not JSON is passed through unchanged.
 */
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Shown before the message, in this order, without their key. */
const LEADING = ['proto', 'component', 'recorder', 'conn', 'path', 'remote'] as const;

export class PrettyLogStream implements DestinationStream {
  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly color: boolean,
  ) {}

  write(line: string): void {
    this.out.write(formatLine(line, this.color));
  }
}

export function formatLine(line: string, color = false): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { level, time, msg, ...rest } = rec;
  const [name, tint] = LEVELS[Number(level)] ?? ['LOG  ', ''];
  const clock = typeof time === 'string' ? clockOf(time) : '';
  const lead: string[] = [];
  for (const k of LEADING) {
    const v = rest[k];
    if (v === undefined) continue;
    delete rest[k];
    lead.push(k === 'conn' ? `#${String(v)}` : String(v));
  }
  const text = typeof msg === 'string' ? msg : '';
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined && !saidIn(text, v))
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  const paint = (s: string, c: string) => (color && c ? `${c}${s}${RESET}` : s);
  const parts = [paint(clock, DIM), paint(name, tint)];
  if (lead.length > 0) parts.push(paint(lead.join(' '), DIM));
  if (msg !== undefined) parts.push(String(msg));
  if (fields.length > 0) parts.push(paint(fields.join(' '), DIM));
  return `${parts.filter((p) => p !== '').join('  ')}\n`;
}

/** A field whose value the message already shows (e.g. the URLs of a start-up line) is not repeated. */
function saidIn(msg: string, v: unknown): boolean {
  if (msg === '') return false;
  if (Array.isArray(v)) return v.length > 0 && v.every((x) => typeof x === 'string' && msg.includes(x));
  return typeof v === 'string' && v.length > 3 && msg.includes(v);
}

function clockOf(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null) {
    const err = v as { message?: unknown; type?: unknown };
    // pino serialises errors as {type, message, stack}: the message is what a person needs.
    if (typeof err.message === 'string' && typeof err.type === 'string') return JSON.stringify(err.message);
    return JSON.stringify(v);
  }
  return String(v);
}
