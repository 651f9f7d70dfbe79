/**
 * What a reload (SIGHUP) changes on a running server: the settings that differ, split into those
 * the server applies live and those that wait for a restart, the configuration it runs with from
 * now on (the live ones new, the others as they run), and the two log lines saying so — secrets
 * named, never shown.
 */
import type { Logger } from 'pino';
import { isGroup, type SettingTable } from './setting.js';

export interface Reload<C> {
  /** The configuration to run with: `next` for the live settings, the running one for the rest. */
  readonly config: C;
  readonly applied: (keyof C & string)[];
  readonly restart: (keyof C & string)[];
}

export function reloadSettings<C extends object>(
  table: SettingTable,
  running: C,
  next: C,
  live: ReadonlySet<keyof C & string>,
  log: Logger,
): Reload<C> {
  const applied: (keyof C & string)[] = [];
  const restart: (keyof C & string)[] = [];
  const config = { ...running };
  for (const key of Object.keys(next) as (keyof C & string)[]) {
    if (JSON.stringify(next[key]) === JSON.stringify(running[key])) continue;
    if (live.has(key)) {
      applied.push(key);
      config[key] = next[key];
    } else {
      restart.push(key);
    }
  }
  const shown = Object.fromEntries(applied.map((k) => [k, isSecret(table, k) ? '********' : config[k]]));
  log.info({ applied: shown, restart }, `configuration reloaded: ${applied.length} setting(s) applied`);
  if (restart.length > 0) {
    log.warn(
      { settings: restart },
      `changed settings that apply only after a restart: ${restart.join(', ')}`,
    );
  }
  return { config, applied, restart };
}

function isSecret(table: SettingTable, key: string): boolean {
  const entry = table[key];
  return entry !== undefined && !isGroup(entry) && entry.secret === true;
}
