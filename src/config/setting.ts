/**
 * One declaration per setting: its validation (zod), default, help text, and whether it has a
 * command-line flag. The flag name (`--rtmp-port`), the environment name (`ESTUARY_RTMP_PORT`),
 * the config-file key (`rtmpPort`) and the help line all derive from the declaration and the key
 * it sits under in a settings table (schema.ts), so a new setting is one line there.
 */
import { z } from 'zod';

export interface SettingMeta {
  /** One line for `--help` and the README table. */
  readonly help: string;
  /** The flag's value placeholder (`N`, `DIR`); booleans take none. */
  readonly arg?: string;
  /** False: config file and environment only (tuning knobs that would crowd `--help`). */
  readonly flag?: boolean;
  /** Older or seed names of the same setting (camelCase; flags and env names derive from them). */
  readonly aliases?: readonly string[];
  /** Never printed (`--print-config` masks it, logs never see it). */
  readonly secret?: boolean;
}

export type SettingKind = 'string' | 'number' | 'boolean' | 'list';

export interface Setting<S extends z.ZodType = z.ZodType> extends SettingMeta {
  readonly isSetting: true;
  readonly kind: SettingKind;
  readonly schema: S;
  /** Shown in help; undefined for an optional setting with no default. */
  readonly defaultValue: z.output<S> | undefined;
}

/** Settings that sit together under one key (`record: {flv, hls, mp4}`). */
export interface SettingGroup<T extends SettingTable = SettingTable> {
  readonly isGroup: true;
  readonly help: string;
  readonly members: T;
}

export type SettingTable = { readonly [key: string]: Setting | SettingGroup };

/** The typed configuration a table describes. */
export type ConfigOf<T extends SettingTable> = {
  -readonly [K in keyof T]: T[K] extends Setting<infer S>
    ? z.output<S>
    : T[K] extends SettingGroup<infer G>
      ? ConfigOf<G>
      : never;
};

function make<S extends z.ZodType>(
  kind: SettingKind,
  schema: S,
  defaultValue: z.output<S> | undefined,
  meta: SettingMeta,
): Setting<S> {
  return { isSetting: true, kind, schema, defaultValue, ...meta };
}

/** A TCP port (0 = any free port, for tests). */
export function port(defaultValue: number, help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  return make('number', z.number().int().min(0).max(65535), defaultValue, { arg: 'N', ...meta, help });
}

/** A whole number within [min, max]. */
export function int(
  defaultValue: number,
  help: string,
  range: { min?: number; max?: number } = {},
  meta: Omit<SettingMeta, 'help'> = {},
) {
  let s = z.number().int();
  if (range.min !== undefined) s = s.min(range.min);
  if (range.max !== undefined) s = s.max(range.max);
  return make('number', s, defaultValue, { arg: 'N', ...meta, help });
}

/** A number within [min, max] (fractions allowed). */
export function num(
  defaultValue: number,
  help: string,
  range: { min?: number; max?: number } = {},
  meta: Omit<SettingMeta, 'help'> = {},
) {
  let s = z.number();
  if (range.min !== undefined) s = s.min(range.min);
  if (range.max !== undefined) s = s.max(range.max);
  return make('number', s, defaultValue, { arg: 'N', ...meta, help });
}

/** An optional number with no default (unset means "the built-in rule", which `help` names). */
export function optionalNum(
  help: string,
  range: { min?: number; max?: number } = {},
  meta: Omit<SettingMeta, 'help'> = {},
) {
  let s = z.number();
  if (range.min !== undefined) s = s.min(range.min);
  if (range.max !== undefined) s = s.max(range.max);
  return make('number', s.optional(), undefined, { arg: 'N', ...meta, help });
}

export function text(defaultValue: string, help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  return make('string', z.string().min(1), defaultValue, { arg: 'VALUE', ...meta, help });
}

/** An optional string with no default. */
export function optionalText(help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  return make('string', z.string().min(1).optional(), undefined, { arg: 'VALUE', ...meta, help });
}

/** On/off. A toggle that defaults to on gets a `--no-…` flag; one that defaults to off, a plain one. */
export function toggle(defaultValue: boolean, help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  return make('boolean', z.boolean(), defaultValue, { ...meta, help });
}

export function choice<const V extends readonly [string, ...string[]]>(
  values: V,
  defaultValue: V[number],
  help: string,
  meta: Omit<SettingMeta, 'help'> = {},
) {
  return make('string', z.enum(values), defaultValue, { arg: values.join('|'), ...meta, help });
}

/**
 * A process count: a whole number from 1, or `auto` (one per core). Written as text in flags and
 * the environment, as either in the file.
 */
export function processCount(defaultValue: number, help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  const count = z.number().int().min(1).max(256);
  const schema = z.union([
    z.literal('auto'),
    count,
    z.string().regex(/^\d+$/, 'expected a whole number or auto').transform(Number).pipe(count),
  ]);
  return make('string', schema, defaultValue, { arg: 'N|auto', ...meta, help });
}

/** A comma-separated list in flags and the environment, a YAML list in the file. */
export function list(help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  return make('list', z.array(z.string().min(1)), [] as string[], { arg: 'A,B', ...meta, help });
}

/** `NAME=VALUE` entries (flags, environment, a YAML list) or a mapping (YAML) → [name, value] pairs. */
const pairEntries = z.union([
  z.array(z.string().min(1)).transform((items, ctx) =>
    items.map((item) => {
      const eq = item.indexOf('=');
      if (eq <= 0 || eq === item.length - 1) {
        ctx.addIssue({ code: 'custom', message: 'expected NAME=VALUE entries' });
        return ['', ''] as [string, string];
      }
      return [item.slice(0, eq).trim(), item.slice(eq + 1).trim()] as [string, string];
    }),
  ),
  z
    .record(z.string(), z.union([z.string().min(1), z.array(z.string().min(1))]))
    .transform((m) =>
      Object.entries(m).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((x) => [k, x] as [string, string]),
      ),
    ),
]);

/**
 * One value per name (`live=KEY,live/cam=KEY2`; in the file also a mapping `{live: KEY}`). The
 * messages never quote a value: these hold secrets.
 */
export function keyMap(help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  const schema = pairEntries
    .transform((pairs) => Object.fromEntries(pairs) as Record<string, string>)
    .optional();
  return make('list', schema, undefined, { arg: 'NAME=VALUE,…', ...meta, help });
}

/** Several values per name (`live=10.0.0.0/8,live=::1`; in the file also `{live: [10.0.0.0/8, ::1]}`). */
export function listMap(help: string, meta: Omit<SettingMeta, 'help'> = {}) {
  const schema = pairEntries
    .transform((pairs) => {
      const out: Record<string, string[]> = {};
      for (const [k, v] of pairs) out[k] = [...(out[k] ?? []), v];
      return out;
    })
    .optional();
  return make('list', schema, undefined, { arg: 'NAME=VALUE,…', ...meta, help });
}

export function group<T extends SettingTable>(help: string, members: T): SettingGroup<T> {
  return { isGroup: true, help, members };
}

export function isGroup(entry: Setting | SettingGroup): entry is SettingGroup {
  return 'isGroup' in entry;
}

// ------------------------------------------------------------------------ names

/** `rtmpPort` → `rtmp-port`. */
export function kebab(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `rtmp-port` / `rtmp_port` / `RTMP_PORT` → `rtmpPort`. */
export function camel(name: string): string {
  if (!/[-_]/.test(name)) return name;
  return name.toLowerCase().replace(/[-_]+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** `rtmpPort` → `ESTUARY_RTMP_PORT`. */
export function envName(key: string): string {
  return `ESTUARY_${kebab(key).replaceAll('-', '_').toUpperCase()}`;
}

/** The flag a setting is set with: `--rtmp-port`, `--no-record-flv` (a toggle that is on by default). */
export function flagName(key: string, s: Setting): string {
  return s.kind === 'boolean' && s.defaultValue === true ? `no-${kebab(key)}` : kebab(key);
}

// ------------------------------------------------------------------------ values

/**
 * Turns what was written (a YAML value, an environment string, a flag's text) into the type the
 * setting holds, or says what is wrong with it, quoting the input as written.
 */
export function coerce(s: Setting, raw: unknown): { ok: true; value: unknown } | { ok: false; why: string } {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (s.kind === 'number') {
      if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return { ok: false, why: 'expected a number' };
      value = Number(t);
    } else if (s.kind === 'boolean') {
      if (/^(1|true|yes|on)$/i.test(t)) value = true;
      else if (/^(0|false|no|off)$/i.test(t)) value = false;
      else return { ok: false, why: 'expected true or false' };
    } else if (s.kind === 'list') {
      value = t === '' ? [] : t.split(',').map((p) => p.trim());
    }
  }
  const r = s.schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, why: r.error.issues.map(describeIssue).join('; ') };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`;
    default:
      return issue.message;
  }
}
