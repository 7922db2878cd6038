import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describeNeeding } from './needs.js';

/** Debian's Chromium; a browser is never downloaded. */
export const CHROMIUM = process.env.BEIA_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when Chromium is installed. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`;

/** `describe` for tests that need a real browser (see {@link describeNeeding}). */
export function describeWithBrowser(title: string, body: () => void): void {
  describeNeeding('the browser tests', chromiumMissing, title, body, 60_000);
}

/** Headless Chromium as the machine's rules want it: no sandbox, no GPU, no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
