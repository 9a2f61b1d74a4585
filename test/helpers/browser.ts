// Debian's Chromium driven by playwright-core, as every browser test starts it, and the folder
// where the tests keep their screenshots.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test-artifacts/browser');

/** Without the background-networking flags, Chromium keeps trying to reach Google's hosts. */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Launches Chromium (no browser download: /usr/bin/chromium) and makes sure ARTIFACTS exists. */
/**
 * How long a page step may take before the test gives up: a guard against a hang, not a speed
 * check. Generous, since CI runs two test files at once on two cores.
 */
export const STEP_TIMEOUT_MS = 30_000;

export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
}
