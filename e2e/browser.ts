/**
 * Debian's Chromium driven by Playwright (never a downloaded browser), with the flags this
 * network-less machine needs.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { commandTool, requireTool, type Tool } from '../test/helpers/tools';

export const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'e2e');

const CHROMIUM_BIN = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM: Tool = commandTool('chromium', CHROMIUM_BIN, ['--version'], 'apt-get install chromium (or bash scripts/ensure-services.sh)');

export async function launchBrowser(): Promise<Browser> {
  // A missing Chromium fails here with the install command, not with Playwright's launch error.
  requireTool(CHROMIUM);
  return chromium.launch({
    executablePath: CHROMIUM_BIN,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Save a screenshot under artifacts/e2e/ (kept after the run for people to look at). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
