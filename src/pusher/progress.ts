/**
 * What a person watching a push sees: on a terminal one line redrawn in place (position /
 * duration, bitrate, speed), otherwise (a log file, CI) one line every 10 s. The rates and the
 * text are pure functions of samples; `ProgressDisplay` only decides when to write.
 */
import type { PushProgress } from './pusher.js';

/** Rates are measured over this much wall time, so one big keyframe does not make the bitrate jump. */
const RATE_WINDOW_MS = 3000;
/** A terminal line is redrawn at most this often. */
const TTY_REDRAW_MS = 250;
/** Without a terminal, one line this often. */
const LOG_INTERVAL_MS = 10_000;
/**
 * After a (re)start the pusher sends its first second at once (Pacer burstMs): rates measured
 * then would say "speed 5x", and a window that spans a reconnect's wait would say "0.03x". So
 * measuring starts this long after the (re)start, and rates are shown once they cover at least
 * MIN_SPAN_MS; before that the line says "measuring".
 */
const SETTLE_MS = 1000;
const MIN_SPAN_MS = 1000;
const BAR_WIDTH = 24;

export interface Rates {
  /** Bits per second of tag bodies sent. */
  bitrate: number;
  /** Media time sent per wall time (1.0 = real time). */
  speed: number;
}

interface Sample {
  at: number;
  bytes: number;
  sentMs: number;
}

/** Sliding-window rates from (wall time, bytes, media time) samples. */
export class RateMeter {
  private samples: Sample[] = [];

  add(at: number, bytes: number, sentMs: number): Rates {
    this.samples.push({ at, bytes, sentMs });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const span = at - first.at;
    if (span <= 0) return { bitrate: 0, speed: 0 };
    return {
      bitrate: ((bytes - first.bytes) * 8 * 1000) / span,
      speed: (sentMs - first.sentMs) / span,
    };
  }
}

/** 75 s → "1:15", 3725 s → "1:02:05". */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatBitrate(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

function position(p: PushProgress): string {
  const dur = p.durationMs !== undefined ? ` / ${formatClock(p.durationMs)}` : '';
  const loop = p.pass > 1 ? ` (loop ${p.pass})` : '';
  return `${formatClock(p.positionMs)}${dur}${loop}`;
}

function details(p: PushProgress, r: Rates | undefined): string {
  const parts = [position(p)];
  if (r) parts.push(formatBitrate(r.bitrate), `speed ${r.speed.toFixed(2)}x`);
  else if (p.state === 'sending') parts.push('measuring rate…');
  if (p.reconnects > 0) parts.push(`${p.reconnects} reconnect${p.reconnects === 1 ? '' : 's'}`);
  if (p.state === 'reconnecting') parts.push('reconnecting…');
  return parts.join('  ');
}

/** The terminal line: a bar when the duration is known, then the details. */
export function formatProgressLine(p: PushProgress, r: Rates | undefined): string {
  if (p.durationMs === undefined || p.durationMs <= 0) return details(p, r);
  const frac = Math.min(1, Math.max(0, p.positionMs / p.durationMs));
  const filled = Math.round(frac * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${details(p, r)}`;
}

/** The periodic log line. */
export function formatProgressLog(p: PushProgress, r: Rates | undefined): string {
  return `push: ${details(p, r)}, ${p.frames} frames sent`;
}

export interface ProgressOutput {
  write(text: string): unknown;
}

export class ProgressDisplay {
  private meter = new RateMeter();
  /** When the current run of sending began (the start, or the end of a reconnect). */
  private since: number | undefined;
  private lastState: PushProgress['state'] | undefined;
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly tty: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(p: PushProgress): void {
    const at = this.now();
    const rates = this.measure(p, at);
    const interval = this.tty ? TTY_REDRAW_MS : LOG_INTERVAL_MS;
    if (p.state !== 'done' && at - this.last < interval) return;
    // The first log line waits a full interval: a line at 0 s would say nothing yet.
    if (!this.tty && this.last === Number.NEGATIVE_INFINITY) {
      this.last = at;
      return;
    }
    this.last = at;
    if (this.tty) {
      // \r and ESC[K (erase to end of line, ECMA-48 8.3.41) redraw the line in place.
      this.out.write(`\r${formatProgressLine(p, rates)}\x1b[K`);
      this.drawn = true;
      if (p.state === 'done') this.end();
    } else if (p.state !== 'done') {
      this.out.write(`${formatProgressLog(p, rates)}\n`);
    }
  }

  /** Rates over the current run of sending, once they mean something (SETTLE_MS, MIN_SPAN_MS). */
  private measure(p: PushProgress, at: number): Rates | undefined {
    const restarted = p.state === 'sending' && this.lastState !== 'sending';
    this.lastState = p.state;
    if (restarted) {
      this.meter = new RateMeter();
      this.since = at;
    }
    if (p.state !== 'sending' || this.since === undefined || at - this.since < SETTLE_MS) return undefined;
    const r = this.meter.add(at, p.bytes, p.sentMs);
    return at - this.since >= SETTLE_MS + MIN_SPAN_MS ? r : undefined;
  }

  /** A message line that must not be drawn over by the progress line. */
  log(message: string): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.out.write(`${message}\n`);
    this.drawn = false;
  }

  /** Leaves the last progress line on screen. */
  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
