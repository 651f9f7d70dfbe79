import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cores: c.length,
    cpu: c[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
  };
}

/** The commit the run measured, with "+dirty" when the work tree had changes. */
export function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return dirty.trim() ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Appends one run as one JSON line to bench/results/<scenario>.jsonl. */
export function appendResult(scenario: string, record: Record<string, unknown>): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}${scenario}.jsonl`;
  appendFileSync(file, `${JSON.stringify(record)}\n`);
  return file;
}
