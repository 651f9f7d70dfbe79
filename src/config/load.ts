import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { EstuaryError } from '../errors.js';
import { type ServeConfig, ServeConfigSchema } from './schema.js';

/** Flag / environment names (kebab / SCREAMING_SNAKE) of each config key, for `--help` and the env. */
const KEYS: Record<string, string> = {
  host: 'host',
  'rtmp-port': 'rtmpPort',
  'http-port': 'httpPort',
  'web-port': 'webPort',
  'data-dir': 'dataDir',
  'auth-secret': 'authSecret',
  'log-level': 'logLevel',
  'hls-segment-seconds': 'hlsSegmentSeconds',
  'hls-window': 'hlsWindow',
  'hls-grace-seconds': 'hlsGraceSeconds',
};

type Raw = Record<string, unknown>;

/** ESTUARY_RTMP_PORT=… → { rtmpPort: '…' }; ESTUARY_RECORD_FLV=false → { record: { flv: false } }. */
export function configFromEnv(env: NodeJS.ProcessEnv): Raw {
  const out: Raw = {};
  for (const [flag, key] of Object.entries(KEYS)) {
    const v = env[`ESTUARY_${flag.toUpperCase().replaceAll('-', '_')}`];
    if (v !== undefined && v !== '') out[key] = v;
  }
  const record: Raw = {};
  for (const kind of ['flv', 'hls', 'mp4']) {
    const v = env[`ESTUARY_RECORD_${kind.toUpperCase()}`];
    if (v !== undefined && v !== '') record[kind] = parseBool(v, `ESTUARY_RECORD_${kind.toUpperCase()}`);
  }
  if (Object.keys(record).length > 0) out.record = record;
  const cleanup = env.ESTUARY_HLS_CLEANUP;
  if (cleanup !== undefined && cleanup !== '') out.hlsCleanup = parseBool(cleanup, 'ESTUARY_HLS_CLEANUP');
  return out;
}

/** Parsed `estuary serve` flags → raw config. */
export function configFromFlags(flags: Record<string, string | boolean | undefined>): Raw {
  const out: Raw = {};
  for (const [flag, key] of Object.entries(KEYS)) {
    const v = flags[flag];
    if (typeof v === 'string') out[key] = v;
  }
  const record: Raw = {};
  for (const kind of ['flv', 'hls', 'mp4']) {
    if (flags[`no-record-${kind}`] === true) record[kind] = false;
  }
  if (Object.keys(record).length > 0) out.record = record;
  if (flags['hls-cleanup'] === true) out.hlsCleanup = true;
  return out;
}

export function readConfigFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EstuaryError('ERR_CONFIG', `cannot read config file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text); // YAML is a superset of JSON, so estuary.json works too
  } catch (err) {
    throw new EstuaryError(
      'ERR_CONFIG',
      `config file ${path} is not valid YAML/JSON: ${(err as Error).message}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new EstuaryError('ERR_CONFIG', `config file ${path} must hold a mapping of settings`);
  }
  return value as Raw;
}

/** Config file < environment < flags, validated. */
export function resolveServeConfig(layers: Raw[]): ServeConfig {
  const merged: Raw = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (k === 'record' && typeof v === 'object' && v !== null) {
        merged.record = { ...(merged.record as Raw | undefined), ...(v as Raw) };
      } else {
        merged[k] = v;
      }
    }
  }
  const result = ServeConfigSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EstuaryError('ERR_CONFIG', `invalid configuration: ${issues}`);
  }
  return result.data;
}

function parseBool(v: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new EstuaryError('ERR_CONFIG', `${name}=${v} is not a boolean (true/false)`);
}
