/**
 * `--help` text and the README's settings table, rendered from a settings table so that what
 * users read is what the code accepts (test/unit/config/help.test.ts keeps the README in step).
 */
import { settingEntries } from './load.js';
import { envName, flagName, type Setting, type SettingTable } from './setting.js';

function defaultText(s: Setting): string {
  const d = s.defaultValue;
  if (d === undefined) return '';
  if (Array.isArray(d)) return d.length === 0 ? '' : d.join(',');
  return String(d);
}

/** What a flag does, in words that fit its polarity (`--no-record-flv`: "turn off …"). */
function flagHelp(s: Setting): string {
  if (s.kind === 'boolean') return `${s.defaultValue === true ? 'turn off' : 'turn on'} ${s.help}`;
  const d = defaultText(s);
  return d === '' ? s.help : `${s.help} (default ${d})`;
}

/** The options part of a command's `--help`, flags first, then the file/environment-only knobs. */
export function renderOptions(table: SettingTable): string {
  const rows: [string, string][] = [];
  const fileOnly: [string, string][] = [];
  for (const e of settingEntries(table)) {
    const s = e.setting;
    if (s.flag === false) {
      fileOnly.push([
        `${e.path} / ${envName(e.names[0]!)}`,
        `${s.help} (default ${defaultText(s) || 'unset'})`,
      ]);
      continue;
    }
    const flag = `--${flagName(e.names[0]!, s)}${s.kind === 'boolean' ? '' : ` ${s.arg ?? 'VALUE'}`}`;
    rows.push([flag, flagHelp(s)]);
  }
  const width = Math.min(28, Math.max(...rows.map(([f]) => f.length)) + 2);
  const line = ([a, b]: [string, string]) =>
    `  ${a.padEnd(width)}${a.length >= width ? '\n' + ' '.repeat(width + 2) : ''}${b}`;
  const out = rows.map(line);
  if (fileOnly.length > 0) {
    out.push('', 'Config file / environment only:');
    for (const [a, b] of fileOnly) out.push(`  ${a}`, `      ${b}`);
  }
  return out.join('\n');
}

/** A Markdown table of every setting: key, flag, environment variable, default, meaning. */
export function renderSettingsTable(table: SettingTable): string {
  const lines = ['| config key | flag | environment | default | meaning |', '|---|---|---|---|---|'];
  for (const e of settingEntries(table)) {
    const s = e.setting;
    const flag = s.flag === false ? '–' : `\`--${flagName(e.names[0]!, s)}\``;
    const aliases = (e.setting.aliases ?? []).map((a) => `\`${a}\``).join(', ');
    const d = defaultText(s);
    const key = `\`${e.path}\`${aliases ? ` (also ${aliases})` : ''}`;
    lines.push(
      `| ${key} | ${flag} | \`${envName(e.names[0]!)}\` | ${d === '' ? '–' : `\`${d}\``} | ${s.help.replaceAll('|', '\\|')} |`,
    );
  }
  return lines.join('\n');
}
