import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every Linux ABI Node runs on (proc(5)). */
const CLOCK_TICKS = 100;

export interface ProcSample {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Resident set now and at its peak (VmHWM), bytes. */
  rss: number;
  peakRss: number;
}

/**
 * The process and all its descendants, summed: a server with `--workers N` is a primary and N
 * workers (the wrapper shell `exec`s the server, so the pid is the primary's). Undefined once the
 * process itself is gone. A worker that died and was replaced takes its CPU seconds with it.
 */
export function sampleProc(pid: number): ProcSample | undefined {
  const own = sampleOne(pid);
  if (!own) return undefined;
  for (const child of descendants(pid)) {
    const s = sampleOne(child);
    if (!s) continue;
    own.cpuSeconds += s.cpuSeconds;
    own.rss += s.rss;
    own.peakRss += s.peakRss;
  }
  return own;
}

/** Children, grandchildren, … from /proc/PID/task/TID/children (proc(5)). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    let kids: number[] = [];
    try {
      kids = readFileSync(`/proc/${p}/task/${p}/children`, 'latin1')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      // Gone, or the kernel has no children file: count the process alone.
    }
    out.push(...kids);
    queue.push(...kids);
  }
  return out;
}

/** Reads /proc/PID/stat (fields 14 utime, 15 stime) and /proc/PID/status (VmRSS, VmHWM); undefined once gone. */
function sampleOne(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces; the fields after its closing ')' are plain.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state), so utime (14) and stime (15) are rest[11] and rest[12].
    const cpuSeconds = (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS;
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    return { cpuSeconds, rss: kb(status, 'VmRSS') * 1024, peakRss: kb(status, 'VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

/** /proc/PID/cmdline (NUL-separated argv), or undefined once gone. */
function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (entries of /proc/PID/fd), or undefined once gone. */
function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Seconds the process's threads waited on a run queue (schedstat: run time, wait time, slices; ns). */
function runQueueSeconds(pid: number): number | undefined {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ');
      total += Number(f[1]) / 1e9;
    }
    return total;
  } catch {
    return undefined;
  }
}

function kb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/** One process of the sampled tree (a `--workers N` primary or worker): its own share. */
export interface ProcShare {
  pid: number;
  /** The sampled process itself (the primary with --workers) or one of its descendants. */
  root: boolean;
  /**
   * A descendant started with another command line than the root's: not a worker (workers run
   * the primary's argv) but a short-lived helper, such as the child that makes accept lanes.
   * Between fork and exec a child still shows its parent's command line, so one seen only in
   * that window (once, and gone by the end) counts as a helper too.
   */
  helper: boolean;
  /** CPU seconds it used while sampled (from its first sample: a worker forked later counts from then). */
  cpuSeconds: number;
  /** The most open file descriptors seen (≈ its connections: the per-worker accept balance). */
  peakFds: number;
  /**
   * Seconds it was runnable but waiting for a core (/proc/PID/schedstat, second field): CPU
   * starvation by the rest of the machine, as opposed to a process that was idle.
   */
  waitSeconds: number;
}

export interface ProcTrace {
  /** CPU seconds used between start() and stop(). */
  cpuSeconds: number;
  /** Each process of the tree (with --workers: the primary and every worker). */
  perProcess: ProcShare[];
  peakRss: number;
  /** RSS every `intervalMs`, bytes, with the time (ms since the epoch). */
  samples: { t: number; rss: number; cpu: number }[];
}

/** Samples a process every `intervalMs` until stopped; optionally kills it past an RSS cap. */
export class ProcSampler {
  private readonly trace: ProcTrace = { cpuSeconds: 0, perProcess: [], peakRss: 0, samples: [] };
  private readonly shares = new Map<
    number,
    {
      first: number;
      last: number;
      peakFds: number;
      firstWait: number;
      lastWait: number;
      helper: boolean;
      samples: number;
    }
  >();
  private readonly rootCmdline: string | undefined;
  private readonly timer: NodeJS.Timeout;
  private first: ProcSample | undefined;
  private last: ProcSample | undefined;

  constructor(
    readonly pid: number,
    intervalMs = 1000,
    private readonly onOverCap?: { capBytes: number; action: (rss: number) => void },
  ) {
    this.first = sampleProc(pid);
    this.rootCmdline = cmdline(pid);
    this.sampleShares();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** The latest sample (taken now). */
  now(): ProcSample | undefined {
    return sampleProc(this.pid);
  }

  stop(): ProcTrace {
    clearInterval(this.timer);
    this.tick();
    if (this.first && this.last) this.trace.cpuSeconds = this.last.cpuSeconds - this.first.cpuSeconds;
    this.trace.perProcess = [...this.shares].map(([p, s]) => ({
      pid: p,
      root: p === this.pid,
      // A worker lives through the run; a lane-making child caught before its exec does not.
      helper: s.helper || (p !== this.pid && s.samples === 1 && cmdline(p) === undefined),
      cpuSeconds: Math.round((s.last - s.first) * 100) / 100,
      peakFds: s.peakFds,
      waitSeconds: Math.round((s.lastWait - s.firstWait) * 100) / 100,
    }));
    return this.trace;
  }

  private sampleShares(): void {
    for (const p of [this.pid, ...descendants(this.pid)]) {
      const cpu = sampleOne(p)?.cpuSeconds;
      if (cpu === undefined) continue;
      const fds = fdCount(p) ?? 0;
      const wait = runQueueSeconds(p) ?? 0;
      const sh = this.shares.get(p);
      if (sh) {
        sh.last = cpu;
        sh.lastWait = wait;
        sh.peakFds = Math.max(sh.peakFds, fds);
        sh.samples += 1;
        // First seen between fork and exec: its own command line shows now.
        if (!sh.helper) sh.helper = this.otherCommand(p);
      } else {
        const helper = this.otherCommand(p);
        this.shares.set(p, {
          first: cpu,
          last: cpu,
          peakFds: fds,
          firstWait: wait,
          lastWait: wait,
          helper,
          samples: 1,
        });
      }
    }
  }

  /** A descendant running another command line than the root's (false for the root, and once gone). */
  private otherCommand(pid: number): boolean {
    if (pid === this.pid) return false;
    const line = cmdline(pid);
    return line !== undefined && line !== this.rootCmdline;
  }

  private tick(): void {
    const s = sampleProc(this.pid);
    if (!s) return;
    this.last = s;
    this.sampleShares();
    this.trace.peakRss = Math.max(this.trace.peakRss, s.peakRss, s.rss);
    this.trace.samples.push({ t: Date.now(), rss: s.rss, cpu: s.cpuSeconds });
    if (this.onOverCap && s.rss > this.onOverCap.capBytes) this.onOverCap.action(s.rss);
  }
}
