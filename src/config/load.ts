/**
 * Settings from the config file, the environment and the flags (in rising priority), checked
 * against a settings table (schema.ts). Every value remembers where it came from, so an error
 * quotes what was written and where, and `--print-config` can say which layer won.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EstuaryError, errorMessage } from '../errors.js';
import { SERVE_SETTINGS, type ServeConfig } from './schema.js';
import {
  type ConfigOf,
  camel,
  coerce,
  envName,
  flagName,
  isGroup,
  kebab,
  type Setting,
  type SettingTable,
} from './setting.js';

type Raw = Record<string, unknown>;

/** Where a value came from. */
const require = createRequire(import.meta.url);

/**
 * The yaml package is loaded when a config file is read, not at every start: loading it cost
 * ~0.15 s of a command's start on the 2-core machine, and `estuary convert` and `push` rarely
 * read a file. (Its CommonJS build, through require: fileLayer is synchronous.)
 */
function parseYaml(text: string): unknown {
  return (require('yaml') as typeof import('yaml')).parse(text);
}

export interface Source {
  readonly kind: 'default' | 'file' | 'environment' | 'flag';
  /** `estuary.yaml`, `ESTUARY_RTMP_PORT`, `--rtmp-port`, … */
  readonly label: string;
}

/** One layer of settings: key paths (`rtmpPort`, `record.flv`) or a nested raw object. */
export interface SettingsLayer {
  readonly kind: Source['kind'];
  /** The file's path for a file layer; otherwise unused. */
  readonly label: string;
  readonly values: Raw;
}

/** A setting of a table by its dotted path, with every name it answers to. */
interface Entry {
  readonly path: string;
  readonly segments: readonly string[];
  readonly setting: Setting;
  /** camelCase names joined over the path (`recordFlv`), the setting's own first. */
  readonly names: readonly string[];
}

function entries(table: SettingTable, prefix: string[] = []): Entry[] {
  const out: Entry[] = [];
  for (const [key, e] of Object.entries(table)) {
    const segments = [...prefix, key];
    if (isGroup(e)) {
      out.push(...entries(e.members, segments));
      continue;
    }
    const joined = camel(segments.map(kebab).join('-'));
    out.push({ path: segments.join('.'), segments, setting: e, names: [joined, ...(e.aliases ?? [])] });
  }
  return out;
}

export interface Resolved<C> {
  readonly config: C;
  readonly sources: ReadonlyMap<string, Source>;
}

/** The parseArgs options a table's flags need (value flags are strings, toggles booleans). */
export function flagOptions(table: SettingTable): Record<string, { type: 'string' | 'boolean' }> {
  const out: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const e of entries(table)) {
    if (e.setting.flag === false) continue;
    for (const name of e.names) {
      out[flagName(name, e.setting)] = { type: e.setting.kind === 'boolean' ? 'boolean' : 'string' };
    }
  }
  return out;
}

/** Environment variables of a table (`ESTUARY_RTMP_PORT=…`) → a layer. */
export function envLayer(table: SettingTable, env: NodeJS.ProcessEnv): SettingsLayer {
  const values: Raw = {};
  for (const e of entries(table)) {
    for (const name of e.names) {
      const v = env[envName(name)];
      if (v !== undefined && v !== '') values[`${e.path}\0${envName(name)}`] = v;
    }
  }
  return { kind: 'environment', label: 'environment', values };
}

/** Parsed flags (as parseArgs returns them, keyed by flag name) → a layer. */
export function flagLayer(table: SettingTable, flags: Record<string, unknown>): SettingsLayer {
  const values: Raw = {};
  for (const e of entries(table)) {
    for (const name of e.names) {
      const flag = flagName(name, e.setting);
      const v = flags[flag];
      if (v === undefined) continue;
      // `--no-record-flv` given means false; a plain toggle given means true.
      const value = e.setting.kind === 'boolean' ? flag.startsWith('no-') !== (v === true) : v;
      values[`${e.path}\0--${flag}`] = value;
    }
  }
  return { kind: 'flag', label: 'flags', values };
}

/** Reads a YAML (or JSON) config file into a layer; its keys are checked when resolved. */
export function fileLayer(path: string): SettingsLayer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EstuaryError('ERR_CONFIG', `cannot read config file ${path}: ${errorMessage(err)}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text); // YAML is a superset of JSON, so estuary.json works too
  } catch (err) {
    throw new EstuaryError('ERR_CONFIG', `config file ${path} is not valid YAML/JSON: ${errorMessage(err)}`);
  }
  if (value === null || value === undefined) return { kind: 'file', label: path, values: {} };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new EstuaryError('ERR_CONFIG', `config file ${path} must hold a mapping of settings`);
  }
  return { kind: 'file', label: path, values: value as Raw };
}

/**
 * Merges the layers (later wins) over the defaults and validates every value. Throws ERR_CONFIG
 * listing every bad value with what was written and where, and every unknown key with the
 * nearest known one.
 */
export function resolveSettings<T extends SettingTable>(
  table: T,
  layers: readonly (SettingsLayer | Raw)[],
): Resolved<ConfigOf<T>> {
  const all = entries(table);
  const byPath = new Map(all.map((e) => [e.path, e]));
  const chosen = new Map<string, { raw: unknown; source: Source }>();
  const problems: string[] = [];
  for (const l of layers) {
    const layer: SettingsLayer = isLayer(l) ? l : { kind: 'file', label: 'settings', values: l };
    if (layer.kind === 'file') {
      for (const [path, raw, written] of walkFile(all, layer.values, problems, layer.label)) {
        chosen.set(path, { raw, source: { kind: 'file', label: `${written} in ${layer.label}` } });
      }
    } else {
      for (const [k, raw] of Object.entries(layer.values)) {
        const [path, label] = k.split('\0') as [string, string];
        chosen.set(path, { raw, source: { kind: layer.kind, label } });
      }
    }
  }
  const config: Raw = {};
  const sources = new Map<string, Source>();
  for (const e of byPath.values()) {
    const c = chosen.get(e.path);
    let value: unknown = e.setting.defaultValue;
    let source: Source = { kind: 'default', label: 'default' };
    if (c) {
      const r = coerce(e.setting, c.raw);
      if (!r.ok) {
        // A secret's value is never quoted, not even a wrong one.
        const what = e.setting.secret ? '(secret value)' : shown(c.raw);
        problems.push(`${e.path}: ${what} (${c.source.label}): ${r.why}`);
        continue;
      }
      value = r.value;
      source = c.source;
    }
    sources.set(e.path, source);
    let target = config;
    for (const seg of e.segments.slice(0, -1)) {
      target[seg] ??= {};
      target = target[seg] as Raw;
    }
    if (value !== undefined) target[e.segments.at(-1)!] = value;
  }
  if (problems.length > 0) {
    throw new EstuaryError('ERR_CONFIG', `invalid configuration: ${problems.join('; ')}`);
  }
  return { config: config as ConfigOf<T>, sources };
}

function isLayer(l: SettingsLayer | Raw): l is SettingsLayer {
  return typeof l.kind === 'string' && typeof l.label === 'string' && typeof l.values === 'object';
}

/**
 * The settings a file mapping sets: `[path, value, key as written]`. Keys may be camelCase (the
 * canonical form), snake_case or kebab-case; groups are nested mappings (`record: {flv: false}`).
 */
function walkFile(all: Entry[], values: Raw, problems: string[], label: string): [string, unknown, string][] {
  const out: [string, unknown, string][] = [];
  const walk = (obj: Raw, prefix: string[], shownPrefix: string) => {
    for (const [key, raw] of Object.entries(obj)) {
      const written = shownPrefix ? `${shownPrefix}.${key}` : key;
      const segs = [...prefix, camel(key)];
      const joined = camel(segs.map(kebab).join('-'));
      const hit = all.find((e) => e.names.includes(joined));
      if (hit) {
        out.push([hit.path, raw, written]);
      } else if (
        raw !== null &&
        typeof raw === 'object' &&
        !Array.isArray(raw) &&
        all.some((e) => e.segments.length > segs.length && e.segments[segs.length - 1] === segs.at(-1))
      ) {
        walk(raw as Raw, segs, written);
      } else {
        problems.push(`unknown setting "${written}" in ${label}${suggest(all, joined)}`);
      }
    }
  };
  walk(values, [], '');
  return out;
}

function suggest(all: Entry[], name: string): string {
  let best: { name: string; d: number } | undefined;
  for (const e of all) {
    const d = distance(name.toLowerCase(), e.names[0]!.toLowerCase());
    if (!best || d < best.d) best = { name: e.path, d };
  }
  return best && best.d <= 3 ? ` (did you mean "${best.name}"?)` : '';
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function shown(raw: unknown): string {
  const s = typeof raw === 'string' ? JSON.stringify(raw) : String(JSON.stringify(raw) ?? raw);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The effective settings, one `path = value (source)` line each, secrets masked. */
export function describeSettings<T extends SettingTable>(table: T, resolved: Resolved<ConfigOf<T>>): string {
  const lines: string[] = [];
  for (const e of entries(table)) {
    let v: unknown = resolved.config;
    for (const seg of e.segments) v = (v as Raw | undefined)?.[seg];
    const value = v === undefined ? '(unset)' : e.setting.secret ? '********' : JSON.stringify(v);
    lines.push(`${e.path} = ${value}  (${sourceText(resolved.sources.get(e.path))})`);
  }
  return lines.join('\n');
}

/** `default`, `file: webPort in e.yaml`, `environment: ESTUARY_X`, `flag: --x`, `argument 1 (PORT)`. */
function sourceText(src: Source | undefined): string {
  if (!src || src.kind === 'default') return 'default';
  if (src.label.startsWith('argument')) return src.label;
  return `${src.kind}: ${src.label}`;
}

/** Every setting of a table with its names, for help and the README (help.ts renders them). */
export function settingEntries(table: SettingTable): readonly Entry[] {
  return entries(table);
}

// ---------------------------------------------------------------- `estuary serve`

/** ESTUARY_RTMP_PORT=… → a layer for `estuary serve`. */
export function configFromEnv(env: NodeJS.ProcessEnv): SettingsLayer {
  const layer = envLayer(SERVE_SETTINGS, env);
  // Booleans are checked here already, so a typo in the environment names its variable.
  for (const [k, raw] of Object.entries(layer.values)) {
    const [path, label] = k.split('\0') as [string, string];
    const e = entries(SERVE_SETTINGS).find((x) => x.path === path)!;
    if (e.setting.kind === 'boolean' && !coerce(e.setting, raw).ok) {
      throw new EstuaryError('ERR_CONFIG', `${label}=${String(raw)} is not a boolean (true/false)`);
    }
  }
  return layer;
}

/** Parsed `estuary serve` flags → a layer. */
export function configFromFlags(flags: Record<string, string | boolean | undefined>): SettingsLayer {
  return flagLayer(SERVE_SETTINGS, flags);
}

export function readConfigFile(path: string): SettingsLayer {
  return fileLayer(path);
}

/** Config file < environment < flags, validated (a plain object counts as a file layer). */
export function resolveServeConfig(layers: readonly (SettingsLayer | Raw)[]): ServeConfig {
  return resolveSettings(SERVE_SETTINGS, layers).config;
}
