// Rewrites the generated parts of README.md (the settings tables of estuary serve, estuary
// flv-gateway, estuary file-gateway and estuary convert) from the settings schema:
// `npm run docs`. test/unit/config/help.test.ts fails when the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderSettingsTable } from '../src/config/help.js';
import { CONVERT_SETTINGS, EDGE_SETTINGS, FILES_SETTINGS, SERVE_SETTINGS } from '../src/config/schema.js';
import type { SettingTable } from '../src/config/setting.js';

const tables: Record<string, SettingTable> = {
  serve: SERVE_SETTINGS,
  edge: EDGE_SETTINGS,
  files: FILES_SETTINGS,
  convert: CONVERT_SETTINGS,
};
const path = new URL('../README.md', import.meta.url);
let text = readFileSync(path, 'utf8');
for (const [name, table] of Object.entries(tables)) {
  const re = new RegExp(`<!-- settings:${name} -->[\\s\\S]*?<!-- /settings:${name} -->`);
  const block = `<!-- settings:${name} -->\n${renderSettingsTable(table)}\n<!-- /settings:${name} -->`;
  if (!re.test(text)) throw new Error(`README.md has no <!-- settings:${name} --> section`);
  text = text.replace(re, () => block);
}
writeFileSync(path, text);
