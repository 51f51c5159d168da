// Headless Chromium for browser tests: Debian's `chromium` package, which the set-up for the tests installs. Playwright
// drives it (playwright-core ships no browser and downloads none).
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from '../../src/setup';

export { CHROMIUM_PATH };

/** Flags for a quiet, sandbox-free headless browser that talks to nothing but the page under test. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium binary; throws, saying how to get it, when the set-up has not installed it. */
export function chromiumPath(): string {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: run the set-up for the tests, which installs it ('npm test' runs it first; alone: 'npm run setup -- --browser', as root)`,
    );
  }
  return CHROMIUM_PATH;
}
