/**
 * Opening a report page from disk in real Chromium (Debian's, driven by playwright-core) and
 * judging its charts: what the browser tests of report.html and capacity.html share.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '..', '..', 'reports', 'screenshots');

/** Flags that keep a headless Chromium off the network and working as root in a container. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

export interface CanvasInk {
  id: string;
  width: number;
  /** Pixels with any opacity: a blank canvas has none. */
  inked: number;
}

export interface OpenedPage {
  page: Page;
  /** Console errors and warnings, uncaught exceptions, and any request that left the file. */
  problems: string[];
}

/** Opens a page file; every console error or warning and every non-file request is collected. */
export async function openFromDisk(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(file).toString());
  return { page, problems };
}

/** Waits for the page's script to report `count` charts drawn, then counts the inked pixels of every canvas. */
export async function chartInk(page: Page, count: number): Promise<CanvasInk[]> {
  // Page code as strings: it runs in the browser, where this project's Node types do not apply.
  await page.waitForFunction(`window.__chartsDrawn === ${count}`);
  return page.evaluate<CanvasInk[]>(`
    [...document.querySelectorAll('canvas')].map((c) => {
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return { id: c.id, width: c.width, inked: n };
    })`);
}

/** A full-page screenshot under reports/screenshots/; returns its path and size in bytes. */
export async function saveScreenshot(page: Page, name: string): Promise<{ path: string; bytes: number }> {
  const path = resolve(SCREENSHOT_DIR, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return { path, bytes: statSync(path).size };
}
