/**
 * The reference chat in real Chromium against the whole local stack (Postgres, realtime service,
 * integration rule, chat-writer Lambda, connector, functions, web origin). Two users talk in the
 * lobby; a third joins late. Every check is something a user would see on the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Ably from 'ably';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { startStack, type StartedStack } from '../../../harness/stack/index.ts';
import {
  connectionState,
  deliveryStates,
  launchChromium,
  messageById,
  messageWithText,
  recordDeliveryStates,
  saveConsole,
  screenshot,
  signIn,
  type ChatUser,
} from './browser.ts';
import { ensureWebBuild } from '../build.ts';

let stack: StartedStack;
let browser: Browser;
let chatUrl: string;
let alice: ChatUser;
let bob: ChatUser;
const users: ChatUser[] = [];
// Ids of messages posted by earlier tests, for the late joiner to find.
const posted: { kept?: string; edited?: string; deleted?: string } = {};

beforeAll(async () => {
  const { dir } = await ensureWebBuild();
  stack = await startStack({ web: { dir } });
  const url = stack.endpoints.chatUrl;
  if (!url) throw new Error('startStack returned no chatUrl although web was requested');
  chatUrl = url;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const u of users) {
    saveConsole(u);
    await u.context.close().catch(() => {});
  }
  await browser?.close();
  await stack?.stop();
});

async function join(name: string, path = '/'): Promise<ChatUser> {
  const u = await signIn(browser, chatUrl, name, path);
  users.push(u);
  await connectionState(u.page).waitFor();
  return u;
}

/** Sends with the keyboard and returns the new message's id once the author's page shows it. */
async function post(u: ChatUser, text: string): Promise<string> {
  const input = u.page.getByTestId('message-input');
  await input.fill(text);
  await input.press('Enter');
  const id = await messageWithText(u.page, text).getAttribute('data-message-id');
  if (!id) throw new Error(`posted "${text}" but its element has no data-message-id`);
  return id;
}

describe('the chat in Chromium', () => {
  it('signs two users in and puts them in the lobby, connected', async () => {
    const visitor = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await visitor.newPage();
    await page.goto(chatUrl);
    await page.getByTestId('login-name').waitFor();
    await screenshot(page, 'sign-in');
    await visitor.close();

    alice = await join('alice');
    await screenshot(alice.page, 'lobby-empty');
    bob = await join('bob');
    expect(new URL(alice.page.url()).pathname).toBe('/rooms/lobby');
    expect(new URL(bob.page.url()).pathname).toBe('/rooms/lobby');
    await expect(connectionState(bob.page).textContent()).resolves.toBe('Live');
  });

  it('shows a post as pending, then confirmed, and delivers it to the other user', async () => {
    await recordDeliveryStates(alice.page);
    const id = await post(alice, 'hello from alice');
    await messageById(alice.page, id).and(alice.page.locator('[data-delivery="confirmed"]')).waitFor();
    await expect(deliveryStates(alice.page, id)).resolves.toEqual(['pending', 'confirmed']);
    await expect(messageById(alice.page, id).getAttribute('data-version')).resolves.toBe('1');

    const atBob = messageById(bob.page, id);
    await atBob.waitFor();
    await expect(atBob.getByTestId('message-text').textContent()).resolves.toBe('hello from alice');
    // The row id is the client's message id: the pending copy and the INSERT are one message.
    await expect(alice.page.getByTestId('message').count()).resolves.toBe(1);
    posted.kept = id;
  });

  it('lets only the author edit; the edit reaches both with the edited mark, Escape cancels', async () => {
    const id = await post(alice, 'first draft');
    const atBob = messageById(bob.page, id);
    await atBob.waitFor();
    await expect(atBob.getByTestId('edit-button').count()).resolves.toBe(0);
    await expect(atBob.getByTestId('delete-button').count()).resolves.toBe(0);

    const mine = messageById(alice.page, id);
    await mine.getByTestId('edit-button').click();
    await mine.getByTestId('edit-input').fill('thrown away');
    await mine.getByTestId('edit-input').press('Escape');
    await mine.getByTestId('edit-input').waitFor({ state: 'detached' });
    await expect(mine.getByTestId('message-text').textContent()).resolves.toBe('first draft');

    await mine.getByTestId('edit-button').click();
    await mine.getByTestId('edit-input').fill('second draft');
    await mine.getByTestId('edit-input').press('Enter');
    for (const page of [alice.page, bob.page]) {
      const m = messageById(page, id);
      await m.and(page.locator('[data-version="2"]')).waitFor();
      await expect(m.getByTestId('message-text').textContent()).resolves.toBe('second draft');
      await expect(m.getByTestId('edited-mark').isVisible()).resolves.toBe(true);
    }
    await screenshot(bob.page, 'lobby-after-edit-bob');
    posted.edited = id;
  });

  it('removes a deleted message for both users', async () => {
    const id = await post(alice, 'regrettable message');
    await messageById(bob.page, id).waitFor();
    await messageById(alice.page, id).getByTestId('delete-button').click();
    await messageById(alice.page, id).getByTestId('confirm-delete').click();
    await messageById(alice.page, id).waitFor({ state: 'detached' });
    await messageById(bob.page, id).waitFor({ state: 'detached' });
    posted.deleted = id;
  });

  it('shows the typing indicator to the other user, and not to the typist', async () => {
    await bob.page.getByTestId('message-input').pressSequentially('bob is writ', { delay: 20 });
    await alice.page.getByTestId('typing-indicator').filter({ hasText: 'bob is typing' }).waitFor();
    await expect(bob.page.getByTestId('typing-indicator').textContent()).resolves.toBe('');
    await screenshot(alice.page, 'lobby-typing-alice');
    // Sending ends the typing state for the others.
    await bob.page.getByTestId('message-input').press('Enter');
    await alice.page.getByTestId('typing-indicator').filter({ hasText: 'bob' }).waitFor({ state: 'detached' });
  });

  it('renders a hostile message as text: its markup never runs', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const id = await post(alice, hostile);
    const atBob = messageById(bob.page, id);
    await atBob.waitFor();
    await expect(atBob.getByTestId('message-text').textContent()).resolves.toBe(hostile);
    await expect(bob.page.locator('[data-testid="message"] img').count()).resolves.toBe(0);
    await expect(bob.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).resolves.toBeUndefined();
    await expect(alice.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).resolves.toBeUndefined();
  });

  it('a user joining later sees the history with edits, without deleted messages, and who is online', async () => {
    const carol = await join('carol');
    const kept = messageById(carol.page, posted.kept!);
    await kept.waitFor();
    const edited = messageById(carol.page, posted.edited!);
    await edited.and(carol.page.locator('[data-version="2"]')).waitFor();
    await expect(edited.getByTestId('message-text').textContent()).resolves.toBe('second draft');
    await expect(edited.getByTestId('edited-mark').isVisible()).resolves.toBe(true);
    await expect(messageById(carol.page, posted.deleted!).count()).resolves.toBe(0);
    for (const name of ['alice', 'bob', 'carol']) {
      await carol.page.getByTestId('online-member').filter({ hasText: name }).waitFor();
    }
    await screenshot(carol.page, 'lobby-late-join-carol');
  });

  it('recovers from a dropped connection and catches up on what it missed', async () => {
    // Offline makes the browser (and the SDK, which listens for it) drop the connection.
    await bob.context.setOffline(true);
    await connectionState(bob.page, 'connected').waitFor({ state: 'detached' });
    const missed = await post(alice, 'sent while bob was offline');
    await messageById(alice.page, missed).and(alice.page.locator('[data-delivery="confirmed"]')).waitFor();
    await bob.context.setOffline(false);
    await connectionState(bob.page).waitFor();
    await messageById(bob.page, missed).waitFor();
    await expect(bob.page.getByTestId('message').filter({ hasText: 'sent while bob was offline' }).count()).resolves.toBe(1);
  });

  it('opens other rooms by URL and keeps rooms apart', async () => {
    await alice.page.goto(new URL('/rooms/side-room', chatUrl).toString());
    await connectionState(alice.page).waitFor();
    await alice.page.getByRole('heading', { name: '#side-room' }).waitFor();
    const id = await post(alice, 'only in side-room');
    await messageById(alice.page, id).and(alice.page.locator('[data-delivery="confirmed"]')).waitFor();
    await expect(messageById(bob.page, id).count()).resolves.toBe(0);
  });

  it('pages back through a long history with "load older"', async () => {
    // Rows written straight to the database also reach `incoming` through the connector. Wait
    // for those events before opening the room, so the page knows the rows from history only.
    const { host, port, apiKey } = stack.endpoints.realtime;
    const watcher = new Ably.Realtime({ key: apiKey, endpoint: host, port, tls: false, useBinaryProtocol: false });
    const incoming = watcher.channels.get('chat:archive:incoming');
    let seen = 0;
    const allPublished = new Promise<void>((done) => {
      void incoming.subscribe('INSERT', () => {
        if (++seen === 60) done();
      });
    });
    await incoming.attach();
    const db = new pg.Client({ connectionString: stack.endpoints.databaseUrl });
    await db.connect();
    try {
      // Written straight to the database: history is the database's, whoever wrote it.
      await db.query(
        `INSERT INTO chat_messages (id, room, author, username, text, created_at, updated_at)
         SELECT 'old-' || i, 'archive', 'dave', 'dave', 'archived ' || i,
                now() - interval '1 hour' + i * interval '1 second', now() - interval '1 hour' + i * interval '1 second'
         FROM generate_series(1, 60) AS i`,
      );
      await allPublished;
    } finally {
      await db.end();
      watcher.close();
    }
    await alice.page.goto(new URL('/rooms/archive', chatUrl).toString());
    await messageById(alice.page, 'old-60').waitFor();
    await expect(alice.page.getByTestId('message').count()).resolves.toBe(50);
    await expect(messageById(alice.page, 'old-10').count()).resolves.toBe(0);
    await alice.page.getByTestId('load-older').click();
    await messageById(alice.page, 'old-1').waitFor();
    await expect(alice.page.getByTestId('message').count()).resolves.toBe(60);
    await alice.page.getByTestId('load-older').waitFor({ state: 'detached' });
    const order = await alice.page.getByTestId('message').evaluateAll((els) => els.map((e) => e.getAttribute('data-message-id')));
    expect(order).toEqual(Array.from({ length: 60 }, (_, i) => `old-${i + 1}`));
  });

  it('fits a phone-width screen without sideways scrolling', async () => {
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await bob.page.getByTestId('message-input').waitFor();
    const overflow = await bob.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(bob.page.getByTestId('send-button').isVisible()).resolves.toBe(true);
    await screenshot(bob.page, 'lobby-phone-bob');
  });

  it('signs out: back to the sign-in page, and the old session cookie no longer reads history', async () => {
    const carl = await join('carl');
    await carl.page.getByTestId('message-input').waitFor();
    const cookie = (await carl.context.cookies()).find((c) => c.name === 'chat_session');
    expect(cookie).toBeDefined();
    const history = new URL('/api/rooms/lobby/messages', chatUrl).toString();
    const read = () => fetch(history, { headers: { cookie: `chat_session=${cookie?.value}` } });
    expect((await read()).status).toBe(200);
    await carl.page.getByRole('button', { name: 'Sign out' }).click();
    await carl.page.getByTestId('login-name').waitFor();
    expect((await read()).status).toBe(401);
    await carl.page.reload();
    await carl.page.getByTestId('login-name').waitFor();
  });

  it('raised no uncaught error in any page', () => {
    expect(users.flatMap((u) => u.errors.map((e) => `${u.name}: ${e}`))).toEqual([]);
  });
});
