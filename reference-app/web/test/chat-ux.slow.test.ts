/**
 * What a person notices in the reference chat, in real Chromium against the whole local stack:
 * honest loading, error and delivery states (including the writer's refusals reaching the
 * author), multi-line input and its limit, dates, each author's send order, scrolling,
 * keyboard use, presence, delete, rooms, and the phone layout. Few page sessions, many checks
 * each, through the data-testids. Ends by saving the README's screenshots to docs/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join as joinPath, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Ably from 'ably';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { startStack, type StartedStack } from '../../../harness/stack/index.ts';
import { connectionState, launchChromium, messageById, messageWithText, saveConsole, signIn, type ChatUser } from './browser.ts';
import { ensureWebBuild, WEB_DIR } from '../build.ts';

const DOC_SHOTS = resolve(WEB_DIR, '..', '..', 'docs', 'screenshots');

let stack: StartedStack;
let browser: Browser;
let chatUrl: string;
let db: pg.Client;
const users: ChatUser[] = [];

beforeAll(async () => {
  const { dir } = await ensureWebBuild();
  stack = await startStack({ web: { dir } });
  chatUrl = stack.endpoints.chatUrl!;
  db = new pg.Client({ connectionString: stack.endpoints.databaseUrl });
  await db.connect();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const u of users) {
    saveConsole(u);
    await u.context.close().catch(() => {});
  }
  await browser?.close();
  await db?.end();
  await stack?.stop();
});

async function join(name: string, path: string, viewport?: { width: number; height: number }): Promise<ChatUser> {
  const u = await signIn(browser, chatUrl, name, path);
  users.push(u);
  if (viewport) await u.page.setViewportSize(viewport);
  await connectionState(u.page).waitFor();
  return u;
}

async function typeAndSend(page: Page, text: string): Promise<string> {
  const input = page.getByTestId('message-input');
  await input.fill(text);
  await input.press('Enter');
  const id = await messageWithText(page, text).first().getAttribute('data-message-id');
  if (!id) throw new Error(`sent "${text}" but it has no data-message-id`);
  return id;
}

const activeTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName);

/** Rows written straight to the database, `days` ago at hour `hour`, created in id order. */
async function seedRoom(room: string, rows: Array<{ id: string; author: string; text: string; daysAgo: number; minute: number }>): Promise<void> {
  for (const r of rows) {
    await db.query(
      `INSERT INTO chat_messages (id, room, author, username, text, created_at, updated_at)
       VALUES ($1, $2, $3, $3, $4, date_trunc('day', now()) - make_interval(days => $5) + make_interval(mins => $6),
               date_trunc('day', now()) - make_interval(days => $5) + make_interval(mins => $6))`,
      [r.id, room, r.author, r.text, r.daysAgo, r.minute],
    );
  }
}

describe('the chat people would choose, in Chromium', () => {
  it('history: loading, then an error with a working retry, then an honest empty room', async () => {
    const u = await join('hana', '/');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let failOnce = true;
    await u.page.route('**/api/rooms/ux-empty/messages**', async (route) => {
      await held;
      if (failOnce) {
        failOnce = false;
        await route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { message: 'Service Unavailable' } }) });
      } else await route.continue();
    });
    await u.page.goto(new URL('/rooms/ux-empty', chatUrl).toString());
    await u.page.getByTestId('history-loading').waitFor();
    await expect(u.page.getByTestId('empty-room').count()).resolves.toBe(0);
    release();
    await u.page.getByTestId('history-error').filter({ hasText: 'Service Unavailable' }).waitFor();
    await expect(u.page.getByTestId('empty-room').count()).resolves.toBe(0);
    await u.page.getByTestId('history-retry').click();
    await u.page.getByTestId('empty-room').waitFor();
    await expect(u.page.getByTestId('history-error').count()).resolves.toBe(0);
  });

  it('input, delivery states, refusals, keyboard editing and send order, for the author and a reader', { timeout: 120_000 }, async () => {
    const ivan = await join('ivan', '/rooms/ux-talk');
    const june = await join('june', '/rooms/ux-talk');
    const { page } = ivan;
    // Focus is in the message box after sign-in.
    await expect(activeTestId(page)).resolves.toBe('message-input');

    // Multi-line: Shift+Enter is a new line, Enter sends; the text arrives whole.
    const input = page.getByTestId('message-input');
    await input.pressSequentially('first line');
    await input.press('Shift+Enter');
    await input.pressSequentially('second line');
    await input.press('Enter');
    const multi = messageWithText(june.page, 'second line');
    await multi.waitFor();
    await expect(multi.getByTestId('message-text').textContent()).resolves.toBe('first line\nsecond line');
    // The author's newest message is not clipped once its Edit/Delete row appears.
    const mine = messageWithText(page, 'second line').and(page.locator('[data-delivery="confirmed"]'));
    await mine.getByTestId('edit-button').waitFor();
    const box = await mine.boundingBox();
    const scroller = await page.getByTestId('message-scroller').boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(scroller!.y + scroller!.height + 1);

    // The limit: a counter near it; over it, the text stays whole and cannot be sent.
    await input.fill('a'.repeat(3995));
    await page.getByTestId('char-counter').filter({ hasText: '5 left' }).waitFor();
    await input.fill('b'.repeat(4100));
    await page.getByTestId('char-counter').filter({ hasText: '100 over' }).waitFor();
    await expect(input.inputValue().then((v) => v.length)).resolves.toBe(4100);
    await expect(page.getByTestId('send-button').isDisabled()).resolves.toBe(true);
    await input.press('Enter');
    await expect(messageWithText(page, 'bbbb').count()).resolves.toBe(0);
    await input.fill('');

    // A refused post says why, and offers no retry that could never work.
    await input.evaluate((el) => {
      const t = el as HTMLTextAreaElement;
      t.value = 'nul \u0000 inside';
      t.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await input.press('Enter');
    const refused = page.locator('[data-testid="message"][data-status="refused"]');
    await refused.getByTestId('refused-mark').filter({ hasText: 'cannot store' }).waitFor();
    await expect(refused.getByTestId('retry-button').count()).resolves.toBe(0);
    await refused.getByTestId('discard-button').click();
    await refused.waitFor({ state: 'detached' });

    // A slow writer: "still sending…", then delivered; never "failed" in between.
    await stack.lambda!.setFault('chat-writer', { delayMs: 4_000 });
    try {
      const slowId = await typeAndSend(page, 'through a slow writer');
      await messageById(page, slowId).and(page.locator('[data-status="slow"]')).getByTestId('pending-mark').filter({ hasText: 'still sending' }).waitFor();
      await messageById(page, slowId).and(page.locator('[data-status="confirmed"]')).waitFor();
    } finally {
      await stack.lambda!.setFault('chat-writer', {});
    }

    // ↑ in the empty box edits the newest own message; Enter saves, Esc cancels; focus comes back.
    await input.press('ArrowUp');
    await expect(activeTestId(page)).resolves.toBe('edit-input');
    const editBox = page.getByTestId('edit-input');
    await editBox.fill('edited by keyboard');
    await editBox.press('Enter');
    await expect(activeTestId(page)).resolves.toBe('message-input');
    await messageWithText(june.page, 'edited by keyboard').getByTestId('edited-mark').waitFor();
    await input.press('ArrowUp');
    await page.getByTestId('edit-input').press('Escape');
    await page.getByTestId('edit-input').waitFor({ state: 'detached' });
    await expect(activeTestId(page)).resolves.toBe('message-input');

    // Only new messages from others are announced.
    await typeAndSend(june.page, 'hello ivan');
    await page.getByTestId('announcer').filter({ hasText: 'june: hello ivan' }).waitFor();

    // A burst through the unordered default integration shows in send order, for the reader too.
    const burst = Array.from({ length: 15 }, (_, i) => `burst ${String(i).padStart(2, '0')}`);
    for (const text of burst) {
      await input.fill(text);
      await input.press('Enter');
    }
    for (const text of burst) await messageWithText(june.page, text).and(june.page.locator('[data-delivery="confirmed"]')).waitFor();
    const shown = await june.page.getByTestId('message-text').evaluateAll((els) => els.map((e) => e.textContent ?? '').filter((t) => t.startsWith('burst ')));
    expect(shown).toEqual(burst);

    // Delete asks first, then leaves a trace for everyone who saw the message.
    const doomed = await typeAndSend(page, 'to be deleted');
    await messageById(june.page, doomed).waitFor();
    await messageById(page, doomed).getByTestId('delete-button').click();
    await messageById(page, doomed).getByTestId('cancel-delete').click();
    await messageById(page, doomed).getByTestId('delete-button').click();
    await messageById(page, doomed).getByTestId('confirm-delete').click();
    await june.page.locator(`[data-testid="deleted-trace"][data-message-id="${doomed}"]`).filter({ hasText: 'ivan deleted a message' }).waitFor();
    await expect(messageById(june.page, doomed).count()).resolves.toBe(0);
  });

  it('dates, scrolling, presence, rooms and the phone layout; saves the screenshots', { timeout: 120_000 }, async () => {
    const rows = [
      ...Array.from({ length: 40 }, (_, i) => ({ id: `d3-${String(i).padStart(2, '0')}`, author: 'kim', text: `three days ago ${i}`, daysAgo: 3, minute: 600 + i })),
      ...Array.from({ length: 20 }, (_, i) => ({ id: `d1-${String(i).padStart(2, '0')}`, author: i % 2 ? 'kim' : 'lea', text: `yesterday ${i}`, daysAgo: 1, minute: 600 + i })),
    ];
    await seedRoom('ux-long', rows);
    // Today's messages come through the app itself.
    const lea = await join('lea', '/rooms/ux-long');
    await typeAndSend(lea.page, 'Morning! Did the deploy go out?');
    const kim = await join('kim', '/rooms/ux-long');
    await typeAndSend(kim.page, 'Yes, at 9.\nRollback plan is in the doc.');

    const { page } = lea;
    // Day dividers, relative times, full timestamps on hover.
    await page.getByTestId('day-divider').filter({ hasText: 'Today' }).waitFor();
    const dividers = await page.getByTestId('day-divider').allTextContents();
    expect(dividers.map((d) => d.trim()).slice(-2)).toEqual(['Yesterday', 'Today']);
    expect(dividers.length).toBe(3);
    const stamp = messageWithText(page, 'Rollback plan').getByTestId('message-time');
    await expect(stamp.textContent()).resolves.toBe('just now');
    await expect(stamp.getAttribute('datetime').then((d) => Number.isNaN(Date.parse(d ?? '')))).resolves.toBe(false);
    await expect(stamp.getAttribute('title')).resolves.toMatch(/\d{4}/);

    // Load older keeps the reader's place.
    const firstShown = page.getByTestId('message').first();
    const firstId = await firstShown.getAttribute('data-message-id');
    await page.getByTestId('message-scroller').evaluate((el) => (el.scrollTop = 0));
    const before = await messageById(page, firstId!).boundingBox();
    await page.getByTestId('load-older').click();
    await messageById(page, 'd3-00').waitFor();
    const after = await messageById(page, firstId!).boundingBox();
    expect(Math.abs(after!.y - before!.y)).toBeLessThanOrEqual(2);

    // While reading back, new messages are counted on a jump-to-latest button.
    await typeAndSend(kim.page, 'new while lea reads back');
    await page.getByTestId('jump-latest').filter({ hasText: '1 new message' }).waitFor();
    await page.getByTestId('jump-latest').click();
    await expect(messageWithText(page, 'new while lea reads back').isVisible()).resolves.toBe(true);
    await page.getByTestId('jump-latest').waitFor({ state: 'detached' });

    // The same user in two tabs is one entry in the online list.
    const { host, port, apiKey } = stack.endpoints.realtime!;
    const watcher = new Ably.Realtime({ key: apiKey, endpoint: host, port, tls: false, useBinaryProtocol: false });
    try {
      await join('kim', '/rooms/ux-long');
      const presence = watcher.channels.get('chat:ux-long:incoming').presence;
      await expect.poll(async () => (await presence.get()).filter((p) => p.clientId === 'kim').length, { timeout: 10_000 }).toBe(2);
      await page.getByTestId('online-member').filter({ hasText: 'kim' }).waitFor();
      await expect(page.getByTestId('online-member').filter({ hasText: 'kim' }).count()).resolves.toBe(1);
    } finally {
      watcher.close();
    }

    // Rooms other people talk in are listed with their activity.
    await page.locator('[data-testid="room-link"][data-room="ux-talk"]').getByTestId('room-activity').waitFor();

    mkdirSync(DOC_SHOTS, { recursive: true });
    await page.screenshot({ path: joinPath(DOC_SHOTS, 'chat-desktop.png') });

    // On a phone: the sidebar folds away behind a toggle, and touch targets are 44 px.
    const phone = await join('kim', '/rooms/ux-long', { width: 390, height: 844 });
    const p = phone.page;
    await messageWithText(p, 'Rollback plan').getByTestId('edit-button').waitFor();
    await expect(p.getByTestId('sidebar').isVisible()).resolves.toBe(false);
    const topbar = await p.locator('.topbar').boundingBox();
    expect(topbar!.height).toBeLessThanOrEqual(70);
    const own = messageWithText(p, 'Rollback plan');
    for (const id of ['edit-button', 'delete-button']) {
      const b = await own.getByTestId(id).boundingBox();
      expect(b!.height).toBeGreaterThanOrEqual(44);
    }
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await p.screenshot({ path: joinPath(DOC_SHOTS, 'chat-phone.png') });
    await p.getByTestId('sidebar-toggle').click();
    await p.getByTestId('online-list').waitFor();
    await p.screenshot({ path: joinPath(DOC_SHOTS, 'chat-phone-sidebar.png') });

    // An edit open in one tab when the message is deleted in another does not vanish silently.
    const doomed = await typeAndSend(kim.page, 'edit me, then lose it');
    await messageById(kim.page, doomed).getByTestId('edit-button').click();
    await kim.page.getByTestId('edit-input').fill('an edit that will be lost');
    await messageById(p, doomed).getByTestId('delete-button').click();
    await messageById(p, doomed).getByTestId('confirm-delete').click();
    await kim.page.locator(`[data-testid="deleted-trace"][data-message-id="${doomed}"]`).getByTestId('edit-lost').waitFor();
  });

  it('raised no uncaught error in any page', () => {
    expect(users.flatMap((u) => u.errors.map((e) => `${u.name}: ${e}`))).toEqual([]);
  });
});
