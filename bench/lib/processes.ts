import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/**
 * Every process a benchmark run starts (server under test, publisher, load workers), so that
 * all of them are killed when the run ends, however it ends: normal exit, an error, Ctrl-C.
 */
export class ProcessGroup {
  private readonly children = new Set<ChildProcess>();
  private installed = false;

  /**
   * Spawns `cmd args` with the file-descriptor soft limit raised to `fdLimit` first (a shell
   * runs `ulimit -n` and then `exec`s the command, so the pid is the command's own).
   */
  spawn(cmd: string, args: readonly string[], opts: SpawnOptions = {}, fdLimit = 20_000): ChildProcess {
    this.installHandlers();
    const child = spawn('/bin/sh', ['-c', `ulimit -n ${fdLimit} 2>/dev/null; exec "$0" "$@"`, cmd, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      ...opts,
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Ends one child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it exited. */
  async stop(child: ChildProcess, graceMs = 3_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c)));
  }

  /** Synchronous last resort (process 'exit' cannot wait): SIGKILL whatever is left. */
  killAllNow(): void {
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // Already gone: nothing to kill.
      }
    }
    this.children.clear();
  }

  private installHandlers(): void {
    if (this.installed) return;
    this.installed = true;
    process.once('exit', () => this.killAllNow());
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        console.error(`\n${sig}: stopping every process this run started`);
        void this.stopAll().finally(() => process.exit(130));
      });
    }
  }
}
