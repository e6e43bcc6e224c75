/**
 * Real Chromium for the browser tests: Debian's package driven by playwright-core (Playwright's
 * own browser download does not work here). Helpers sign users in and find messages by the
 * The test ids of docs/architecture.md; every wait is one of Playwright's auto-waiting locator waits.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { WEB_DIR } from '../build.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOT_DIR = resolve(WEB_DIR, '..', '..', 'reports', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface ChatUser {
  name: string;
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page; a test ends by checking it is empty. */
  errors: string[];
  /** Console errors and warnings (expected ones too, e.g. while offline), saved for reading. */
  consoleLines: string[];
}

/** A new browser context (its own cookies) at `chatUrl + path`, signed in as `name`. */
export async function signIn(browser: Browser, chatUrl: string, name: string, path = '/'): Promise<ChatUser> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  // Well inside the test timeout, so a wait that fails names its locator instead of timing out the test.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${new Date().toISOString()} ${m.type()}: ${m.text()}`);
  });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(new URL(path, chatUrl).toString());
  await page.getByTestId('login-name').fill(name);
  await page.getByTestId('login-submit').click();
  return { name, context, page, errors, consoleLines };
}

/** Keeps a user's browser console (errors and warnings) next to the screenshots. */
export function saveConsole(u: ChatUser): void {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  writeFileSync(join(SCREENSHOT_DIR, `console-${u.name}.log`), u.consoleLines.join('\n') + '\n');
}

export function connectionState(page: Page, state = 'connected'): Locator {
  return page.locator(`[data-testid="connection-state"][data-state="${state}"]`);
}

export function messageById(page: Page, id: string): Locator {
  return page.locator(`[data-testid="message"][data-message-id="${id}"]`);
}

/** The message whose text contains `text` (tests use unique texts). */
export function messageWithText(page: Page, text: string): Locator {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-text').filter({ hasText: text }) });
}

/**
 * Records every delivery state each message element shows, as it happens: a pending state can
 * last less than a millisecond on loopback, too short to catch by looking after the fact.
 */
export async function recordDeliveryStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {};
    (window as unknown as { __deliveries: Record<string, string[]> }).__deliveries = seen;
    const note = (el: Element) => {
      const id = el.getAttribute('data-message-id');
      const state = el.getAttribute('data-delivery');
      if (!id || !state) return;
      const list = (seen[id] ??= []);
      if (list[list.length - 1] !== state) list.push(state);
    };
    document.querySelectorAll('[data-testid="message"]').forEach(note);
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && r.target instanceof Element) note(r.target);
        r.addedNodes.forEach((n) => {
          if (!(n instanceof Element)) return;
          if (n.matches('[data-testid="message"]')) note(n);
          n.querySelectorAll('[data-testid="message"]').forEach(note);
        });
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-delivery'] });
  });
}

export async function deliveryStates(page: Page, id: string): Promise<string[]> {
  return page.evaluate((mid) => (window as unknown as { __deliveries?: Record<string, string[]> }).__deliveries?.[mid] ?? [], id);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
