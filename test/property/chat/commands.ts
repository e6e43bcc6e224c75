/**
 * The commands fast-check composes into runs. Each picks its targets from the model by index
 * (modulo what exists), acts on the real stack through the real clients, and updates the model
 * with what the chat must end up doing. While delivery is paused no ack can come back, so writes
 * are started and awaited at resume; commands that need an answer wait for the resume.
 */
import fc from 'fast-check';
import { editable, foreignPairs, joinedUsers, ROOMS, type ChatModel, type ModelMessage } from './model.ts';
import { probeCapability } from './probe.ts';
import { OP_TIMEOUT_MS, withTimeout, type World } from './world.ts';

type Cmd = fc.AsyncCommand<ChatModel, World>;

const pick = <T>(xs: readonly T[], n: number): T => xs[n % xs.length]!;
const MAX_USERS = 8;
/**
 * How long a race waits for its page to be read and for its edit to arrive live. Both are events
 * awaited; the bound only ends a race on a stack that lost them (a writer that drops edits), so it
 * is far above any load's delay, yet inside the join's own answer time: a race on such a stack
 * must end with the join answered, for the checkers to name what the stack lost.
 */
const RACE_BOUND_MS = OP_TIMEOUT_MS - 5_000;

/** Runs a write now, or (paused) lets it run on; either way marks the model uncertain if it failed. */
async function write(m: ChatModel, w: World, opIds: string[], ops: Array<Promise<unknown>>, touched: ModelMessage[]): Promise<void> {
  const done = Promise.all(ops).then(() => {
    const failed = opIds.filter((id) => w.rec.outcome(id) !== 'ack');
    if (!failed.length) return;
    for (const msg of touched) msg.certain = false;
    w.note(`(not acknowledged: ${failed.map((id) => w.short(id)).join(', ')})`);
  });
  if (m.paused) w.track(done);
  else await done;
}

/**
 * A race or someone else's edit needs a message to act on: when none exists, a user of a room
 * (with at least `minUsers` users) posts one first, so the command never does nothing.
 */
async function ensureMessage(m: ChatModel, w: World, minUsers: number): Promise<ModelMessage | undefined> {
  const users = joinedUsers(m);
  const author = users.find((u) => users.filter((x) => x.room === u.room).length >= minUsers);
  if (!author) return undefined;
  const id = w.nextId('p');
  const msg: ModelMessage = { id, room: author.room, author: author.name, version: 1, deleted: false, text: `hello from ${w.short(id)}`, certain: true };
  m.messages.push(msg);
  w.log(`post (so there is a message to act on): ${author.name} in r${author.room} -> ${id}`);
  await write(m, w, [id], [w.user(author.name).post(id, msg.text)], [msg]);
  return msg;
}

class Post implements Cmd {
  constructor(readonly who: number, readonly count: number) {}
  check = (m: Readonly<ChatModel>) => joinedUsers(m as ChatModel).length > 0;
  async run(m: ChatModel, w: World): Promise<void> {
    const u = pick(joinedUsers(m), this.who);
    const vu = w.user(u.name);
    const msgs = Array.from({ length: this.count }, (): ModelMessage => {
      const id = w.nextId('p');
      return { id, room: u.room, author: u.name, version: 1, deleted: false, text: `hello from ${w.short(id)}`, certain: true };
    });
    m.messages.push(...msgs);
    w.log(`post${this.count > 1 ? ` x${this.count} at once` : ''}: ${u.name} in r${u.room} -> ${msgs.map((x) => x.id).join(', ')}${m.paused ? ' (paused: ack awaited at resume)' : ''}`);
    await write(m, w, msgs.map((x) => x.id), msgs.map((x) => vu.post(x.id, x.text)), msgs);
  }
  toString = () => `post(#${this.who}${this.count > 1 ? ` x${this.count}` : ''})`;
}

class Edit implements Cmd {
  constructor(readonly target: number, readonly count: number) {}
  check = (m: Readonly<ChatModel>) => editable(m as ChatModel).length > 0;
  async run(m: ChatModel, w: World): Promise<void> {
    const msg = pick(editable(m), this.target);
    const vu = w.user(msg.author);
    const ids: string[] = [];
    const ops: Array<Promise<void>> = [];
    for (let i = 0; i < this.count; i++) {
      const id = w.nextId('e');
      msg.version++;
      msg.text = `edit ${w.short(id)}`;
      ids.push(id);
      ops.push(vu.edit(id, msg.id, msg.text));
    }
    w.log(`edit${this.count > 1 ? ` x${this.count} back to back` : ''}: ${msg.author} edits own ${msg.id} -> v${msg.version} ${JSON.stringify(msg.text)}`);
    await write(m, w, ids, ops, [msg]);
  }
  toString = () => `edit(#${this.target}${this.count > 1 ? ` x${this.count}` : ''})`;
}

class Delete implements Cmd {
  constructor(readonly target: number) {}
  check = (m: Readonly<ChatModel>) => editable(m as ChatModel).length > 0;
  async run(m: ChatModel, w: World): Promise<void> {
    const msg = pick(editable(m), this.target);
    const id = w.nextId('d');
    msg.version++;
    msg.deleted = true;
    w.log(`delete: ${msg.author} deletes own ${msg.id} -> v${msg.version} deleted`);
    await write(m, w, [id], [w.user(msg.author).delete(id, msg.id)], [msg]);
  }
  toString = () => `delete(#${this.target})`;
}

/** Someone else's edit or delete: acknowledged by the realtime service, refused by the chat-writer. */
class ForeignWrite implements Cmd {
  constructor(readonly pair: number, readonly kind: 'edit' | 'delete') {}
  check = (m: Readonly<ChatModel>) => joinedUsers(m as ChatModel).some((u, _i, all) => all.filter((x) => x.room === u.room).length >= 2);
  async run(m: ChatModel, w: World): Promise<void> {
    if (foreignPairs(m).length === 0) await ensureMessage(m, w, 2);
    const pairs = foreignPairs(m);
    if (!pairs.length) return;
    const { user, msg } = pick(pairs, this.pair);
    const vu = w.user(user.name);
    // One edits what one has seen: wait (event-driven) until it reached this user's view, when it can.
    if (!m.paused && !m.connectorDown) await w.rec.waitFor(() => vu.view.get(msg.id) !== undefined, 3000);
    const id = w.nextId('x');
    w.log(`${this.kind} by someone else: ${user.name} tries to ${this.kind} ${msg.author}'s ${msg.id} (must be refused; the model keeps v${msg.version})`);
    await write(m, w, [id], [this.kind === 'edit' ? vu.edit(id, msg.id, `hijacked by ${w.short(user.name)}`) : vu.delete(id, msg.id)], []);
  }
  toString = () => `foreign-${this.kind}(#${this.pair})`;
}

class Probe implements Cmd {
  constructor(readonly who: number) {}
  check = (m: Readonly<ChatModel>) => joinedUsers(m as ChatModel).length > 0;
  async run(m: ChatModel, w: World): Promise<void> {
    const u = pick(joinedUsers(m), this.who);
    const { endpoints, realtimeClientOptions } = w.stack;
    const probes = await probeCapability({ loginUrl: endpoints.loginUrl, tokenUrl: endpoints.tokenUrl, realtime: realtimeClientOptions }, u.name, w.rooms[u.room]!, w.rec);
    w.log(`probe ${u.name}'s token: ${probes.map((p) => `${p.action} ${p.outcome}${p.outcome !== p.expected ? ` (must be ${p.expected})` : ''}`).join('; ')}`);
  }
  toString = () => `probe(#${this.who})`;
}

/**
 * A late joiner: subscribes, then loads a history page and merges it. With `race`, the page is
 * held after it was read while the author edits a message of that room, until the joiner has
 * the newer version live: the page then lands stale and must not win.
 */
class JoinLate implements Cmd {
  constructor(readonly room: number, readonly race: boolean, readonly target: number) {}
  check = (m: Readonly<ChatModel>) => !m.paused && m.users.length < MAX_USERS;
  async run(m: ChatModel, w: World): Promise<void> {
    const name = w.userName(m.users.length);
    // A race joins the room of the message it races (any room with one to edit).
    if (this.race && !m.connectorDown && editable(m).length === 0) await ensureMessage(m, w, 1);
    const targets = editable(m);
    const racing = this.race && !m.connectorDown && targets.length > 0;
    const room = racing ? pick(targets, this.target).room : this.room % ROOMS;
    if (!racing) {
      w.log(`join late: ${name} joins r${room}, loads history, merges it with live events`);
      await w.join(name, room, { history: true });
      m.users.push({ name, room, joined: true, setup: false });
      return;
    }
    const msg = pick(targets, this.target);
    w.log(`join late with a race: ${name} joins r${room}; its history page is read, then held while ${msg.author} edits ${msg.id}`);
    const held = w.ctx.gate.holdNext();
    const deadline = Date.now() + RACE_BOUND_MS;
    const joining = w.join(name, room, { history: true });
    joining.catch(() => {});
    let readTimer: NodeJS.Timeout | undefined;
    const read = await Promise.race([held.read.then(() => true), joining.then(() => false, () => false), new Promise<boolean>((r) => (readTimer = setTimeout(() => r(false), RACE_BOUND_MS)))]);
    clearTimeout(readTimer);
    try {
      if (read) {
        const id = w.nextId('e');
        msg.version++;
        msg.text = `edit ${w.short(id)}`;
        await write(m, w, [id], [w.user(msg.author).edit(id, msg.id, msg.text)], [msg]);
        const version = msg.version;
        // The page is released only once the edit arrived live (or the bound passed, which only a
        // broken stack takes): releasing it earlier on a slow machine would lose the race's reorder.
        const live = await w.rec.waitFor(
          () => w.rec.events.some((e) => e.type === 'receive' && e.client === name && e.messageId === msg.id && e.version >= version),
          Math.max(0, deadline - Date.now()),
        );
        w.note(`${msg.id} v${version} ${live ? 'reached' : 'did NOT reach'} ${name} live before its page (v${version - 1}) landed`);
      } else {
        w.note('(the history page was never read: no race)');
      }
    } finally {
      held.release();
    }
    await joining;
    m.users.push({ name, room, joined: true, setup: false });
  }
  toString = () => (this.race ? `join-late(race #${this.target})` : `join-late(r${this.room % ROOMS})`);
}

class Leave implements Cmd {
  constructor(readonly who: number) {}
  private candidates = (m: ChatModel) => joinedUsers(m).filter((u) => !u.setup);
  check = (m: Readonly<ChatModel>) => !m.paused && this.candidates(m as ChatModel).length > 0;
  async run(m: ChatModel, w: World): Promise<void> {
    const u = pick(this.candidates(m), this.who);
    w.log(`leave: ${u.name} leaves r${u.room}`);
    await w.leave(u.name);
    u.joined = false;
  }
  toString = () => `leave(#${this.who})`;
}

class DropSockets implements Cmd {
  check = () => true;
  async run(m: ChatModel, w: World): Promise<void> {
    const n = await w.stack.realtime!.admin.dropConnections(1);
    w.log(`drop every socket on the realtime service (${n}, the connector's too): clients reconnect and resume`);
  }
  toString = () => 'drop-sockets';
}

class CrashConnector implements Cmd {
  check = (m: Readonly<ChatModel>) => !m.connectorDown;
  async run(m: ChatModel, w: World): Promise<void> {
    w.log('crash the connector (SIGKILL); it stays down until started');
    await w.stack.connectorControl!.kill();
    m.connectorDown = true;
  }
  toString = () => 'crash-connector';
}

class StartConnector implements Cmd {
  // A starting connector must reach the realtime service, which a pause would hold up.
  check = (m: Readonly<ChatModel>) => m.connectorDown && !m.paused;
  async run(m: ChatModel, w: World): Promise<void> {
    w.log('start the connector');
    await withTimeout(w.stack.connectorControl!.start(), 35_000, 'connector start');
    m.connectorDown = false;
  }
  toString = () => 'start-connector';
}

class RestartConnector implements Cmd {
  constructor(readonly how: 'kill' | 'graceful') {}
  check = (m: Readonly<ChatModel>) => !m.connectorDown && !m.paused;
  async run(m: ChatModel, w: World): Promise<void> {
    w.log(`restart the connector (${this.how === 'kill' ? 'SIGKILL' : 'SIGTERM'}, then start)`);
    await withTimeout(w.stack.connectorControl!.restart(this.how), 50_000, 'connector restart');
  }
  toString = () => `restart-connector(${this.how})`;
}

class Pause implements Cmd {
  check = (m: Readonly<ChatModel>) => !m.paused;
  async run(m: ChatModel, w: World): Promise<void> {
    w.log('pause delivery (every frame to every client is held, acks too)');
    await w.stack.realtime!.admin.pauseDelivery();
    m.paused = true;
  }
  toString = () => 'pause';
}

class Resume implements Cmd {
  check = (m: Readonly<ChatModel>) => m.paused;
  async run(m: ChatModel, w: World): Promise<void> {
    w.log('resume delivery');
    await w.stack.realtime!.admin.resumeDelivery();
    m.paused = false;
    await w.flushPending();
  }
  toString = () => 'resume';
}

class Quiet implements Cmd {
  check = (m: Readonly<ChatModel>) => !m.paused && !m.connectorDown;
  async run(_m: ChatModel, w: World): Promise<void> {
    w.log('wait for quiet');
    await w.quiet();
  }
  toString = () => 'quiet';
}

const who = fc.nat(20);

export const chatCommand: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(who, fc.constantFrom(1, 1, 2)).map(([u, n]) => new Post(u, n)) },
  { weight: 5, arbitrary: fc.tuple(who, fc.constantFrom(1, 1, 2, 3)).map(([t, n]) => new Edit(t, n)) },
  { weight: 2, arbitrary: who.map((t) => new Delete(t)) },
  { weight: 3, arbitrary: fc.tuple(who, fc.constantFrom<'edit' | 'delete'>('edit', 'edit', 'delete')).map(([p, k]) => new ForeignWrite(p, k)) },
  { weight: 3, arbitrary: who.map((u) => new Probe(u)) },
  { weight: 6, arbitrary: fc.tuple(fc.nat(ROOMS - 1), fc.constantFrom(true, true, true, false), who).map(([r, race, t]) => new JoinLate(r, race, t)) },
  { weight: 1, arbitrary: who.map((u) => new Leave(u)) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new DropSockets()) },
  { weight: 3, arbitrary: fc.constant(null).map(() => new CrashConnector()) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new StartConnector()) },
  { weight: 1, arbitrary: fc.constantFrom<'kill' | 'graceful'>('kill', 'kill', 'graceful').map((h) => new RestartConnector(h)) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new Pause()) },
  { weight: 2, arbitrary: fc.constant(null).map(() => new Resume()) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new Quiet()) },
);
