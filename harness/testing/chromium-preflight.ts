/**
 * The browser tier's setup file: without Chromium every test of the tier fails at once with the
 * one command that fixes it, instead of each test timing out on its own launch (and the other
 * tiers run regardless).
 */
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  throw new Error(`Chromium is missing (${CHROMIUM}): run \`apt-get install -y chromium\` (or set CHROMIUM_PATH), then npm run test:browser`);
}
