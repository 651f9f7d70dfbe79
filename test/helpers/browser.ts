/**
 * Debian's Chromium for the browser tests, driven by playwright-core (never a downloaded
 * browser): headless, in a fresh profile, with the flags that keep it from calling home or using
 * what a headless box lacks (this machine's closed network refuses those connections).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser in a new profile directory (the caller removes `profile` when done). */
export async function launchChromium(
  executablePath: string,
  name = 'estuary-chromium-',
): Promise<{ browser: BrowserContext; profile: string }> {
  const profile = mkdtempSync(join(tmpdir(), name));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return { browser, profile };
}
