/**
 * Hostile clients: signed-in users who try what the stack must refuse, mixed into an ordinary
 * load. Each attempt becomes a `probe` event (expected: refused) with the answer it got:
 * - refused by the realtime service at once: publishing on incoming, an oversized message,
 *   a forged token, a TokenRequest tampered to impersonate someone, an expired token;
 * - refused by the chat-writer later (the service accepts the publish, the writer must reject
 *   it with the right reason): malformed messages, edits and deletes of others' messages. Those
 *   probes are settled from the final database state, once the stack is quiet.
 * Edits and deletes of others' messages are also recorded as ordinary operations, so the
 * author-check and acknowledged-writes checkers judge them like any other write.
 */
import { readFileSync } from 'node:fs';
import { MESSAGE_NAMES } from '../../reference-app/contract/index.ts';
import { fileURLToPath } from 'node:url';
import * as Ably from 'ably';
import { z } from 'zod';
import type { FinalState, ProbeEvent } from '../history/types.ts';
import type { Recorder } from './recorder.ts';
import type { Rng } from '../lib/rng.ts';
import type { VirtualUser } from './virtual-user.ts';
import type { ChatUser } from './user.ts';

export const ATTACKS = [
  'publish-incoming',
  'foreign-edit',
  'oversized',
  'malformed',
  'forged-token',
  'foreign-delete',
  'tampered-token-request',
  'expired-token',
] as const;
export type Attack = (typeof ATTACKS)[number];

interface PendingWriterProbe {
  opId: string;
  action: string;
  client: string;
  reasons: readonly string[];
  /** For a write sent before its target was: the target, which must have reached the database for the probe to be judged. */
  before?: string;
}

const corpusSchema = z.array(z.strictObject({ name: z.string(), data: z.unknown(), reasons: z.array(z.string()).min(1), why: z.string() })).min(1);
const CORPUS = fileURLToPath(new URL('../../fixtures/hostile/malformed-messages.json', import.meta.url));
/** The hostile-input corpus: each message and the rejection reasons the writer may answer with. */
const MALFORMED = corpusSchema.parse(JSON.parse(readFileSync(CORPUS, 'utf8')));

export class HostileClient {
  private readonly pending: PendingWriterProbe[] = [];
  private n = 0;

  constructor(
    readonly vu: VirtualUser,
    private readonly ctx: {
      recorder: Recorder;
      rng: Rng;
      realtime: Ably.ClientOptions;
      /** Honest writers of the same room: the victims of foreign edits and deletes. */
      peers: readonly Pick<ChatUser, 'clientId' | 'ownPosts'>[];
      /** Honest writers of the other rooms: targets of edits and deletes sent from the wrong room. */
      strangers?: readonly Pick<ChatUser, 'clientId' | 'ownPosts'>[];
      runTag: string;
      /** Longest wait for a token to expire; the expired-token attack is skipped beyond it. */
      maxExpiryWaitMs?: number;
    },
  ) {}

  private probe(action: string, outcome: 'allowed' | 'refused', error?: string): void {
    const rec = this.ctx.recorder;
    const e: ProbeEvent = { t: rec.now(), type: 'probe', client: this.vu.clientId, action, expected: 'refused', outcome, ...(error ? { error } : {}) };
    rec.record(e);
  }

  private opId(kind: string): string {
    return `${this.vu.clientId}-${kind}-${this.n++}`;
  }

  /**
   * One foreign edit or delete. 'fresh' targets a victim's newest acknowledged post, so the
   * attack often reaches the writer before that post commits and goes through the held path;
   * 'stale' targets any of the victim's posts; 'other-room' a post of another room.
   */
  async foreignWrite(target: 'fresh' | 'stale' | 'other-room', op: 'edit' | 'delete'): Promise<void> {
    const pool = target === 'other-room' ? (this.ctx.strangers ?? []) : this.ctx.peers;
    const victims = pool.filter((p) => p.ownPosts.length > 0);
    if (!victims.length) return;
    const victim = this.ctx.rng.pick(victims);
    const post = target === 'fresh' ? victim.ownPosts.at(-1)! : this.ctx.rng.pick(victim.ownPosts);
    const id = this.opId(`${target}-${op}`);
    if (op === 'edit') await this.vu.edit(id, post, `hijacked ${id}`);
    else await this.vu.delete(id, post);
    const reasons = target === 'other-room' ? ['wrong_room', 'not_author'] : ['not_author'];
    this.pending.push({ opId: id, action: `${op} another user's ${target === 'other-room' ? 'message in another room' : `${target} message`}`, client: this.vu.clientId, reasons });
  }

  /**
   * An edit or delete of another user's post sent before that post is published, with the id the
   * post will carry (an attacker who guessed it): the writer must hold it, and refuse it once the
   * post arrives. Resolves when the realtime service acknowledged it.
   */
  async predictedWrite(postId: string, op: 'edit' | 'delete'): Promise<void> {
    const id = this.opId(`predicted-${op}`);
    if (op === 'edit') await this.vu.edit(id, postId, `hijacked ${id}`);
    else await this.vu.delete(id, postId);
    // target_rejected: a post refused itself takes its held edits with it, which is a refusal too.
    this.pending.push({ opId: id, action: `${op} another user's message before it was written (predicted id)`, client: this.vu.clientId, reasons: ['not_author', 'target_rejected'], before: postId });
  }

  async attack(kind: Attack): Promise<void> {
    const vu = this.vu;
    switch (kind) {
      case 'publish-incoming': {
        const forged = { table: 'chat_messages', type: 'UPDATE', row: { id: 'forged', room: vu.room, author: 'someone', text: 'forged', version: 999, deleted: false } };
        const r = await vu.attempt('incoming', { name: 'UPDATE', data: forged });
        return this.probe('publish a forged change on incoming', r.ok ? 'allowed' : 'refused', r.ok ? undefined : r.error);
      }
      case 'oversized': {
        const r = await vu.attempt('outgoing', { id: this.opId('big'), name: MESSAGE_NAMES.post, data: { text: 'x'.repeat(70_000) } });
        return this.probe('publish a 70 KB message (limit 64 KB)', r.ok ? 'allowed' : 'refused', r.ok ? undefined : r.error);
      }
      case 'malformed': {
        // The whole corpus: each message must be refused, by the service or by the writer.
        for (const m of MALFORMED) {
          const id = this.opId('malformed');
          const r = await vu.attempt('outgoing', { id, name: m.name, data: m.data });
          const action = `malformed message: ${m.why}`;
          if (!r.ok) this.probe(action, 'refused', r.error);
          else this.pending.push({ opId: id, action, client: vu.clientId, reasons: m.reasons });
        }
        return;
      }
      case 'foreign-edit':
      case 'foreign-delete': {
        const victims = this.ctx.peers.filter((p) => p.ownPosts.length > 0);
        if (!victims.length) return;
        const victim = this.ctx.rng.pick(victims);
        const target = this.ctx.rng.pick(victim.ownPosts);
        const id = this.opId(kind === 'foreign-edit' ? 'edit' : 'delete');
        if (kind === 'foreign-edit') await vu.edit(id, target, `hijacked ${id}`);
        else await vu.delete(id, target);
        this.pending.push({ opId: id, action: kind === 'foreign-edit' ? "edit another user's message" : "delete another user's message", client: vu.clientId, reasons: ['not_author'] });
        return;
      }
      case 'forged-token':
        return this.connectWith('connect with a forged token', { token: `forged.${this.ctx.runTag}.${this.n++}` });
      case 'tampered-token-request': {
        const req = await vu.tokenRequest();
        const victim = this.ctx.peers[0]?.clientId ?? 'someone-else';
        // Same signature, someone else's name: the MAC no longer matches.
        const tampered = { ...req, clientId: victim };
        return this.connectWith("impersonate another user (tampered TokenRequest)", { authCallback: (_p, cb) => cb(null, tampered) });
      }
      case 'expired-token': {
        const req = await vu.tokenRequest();
        const rest = new Ably.Rest({ ...this.ctx.realtime, authCallback: (_p, cb) => cb(null, req), logLevel: 0 });
        const td = await rest.auth.requestToken();
        const wait = td.expires - Date.now() + 200;
        if (wait > (this.ctx.maxExpiryWaitMs ?? 10_000)) return;
        await new Promise((r) => setTimeout(r, Math.max(0, wait)));
        return this.connectWith('connect with an expired token', { tokenDetails: td });
      }
    }
  }

  /** Connects a second client with the given credentials; refused if it never gets connected. */
  private async connectWith(action: string, auth: Ably.ClientOptions): Promise<void> {
    const c = new Ably.Realtime({ ...this.ctx.realtime, ...auth, disconnectedRetryTimeout: 60_000, logLevel: 0 });
    try {
      const outcome = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
        const timer = setTimeout(() => resolve({ ok: false, error: `no answer within 10 s (${c.connection.state})` }), 10_000);
        c.connection.on((s) => {
          if (s.current === 'connected') (clearTimeout(timer), resolve({ ok: true }));
          if (s.current === 'failed' || s.current === 'disconnected' || s.current === 'suspended')
            (clearTimeout(timer), resolve({ ok: false, error: s.reason ? `${s.reason.code}: ${s.reason.message}` : s.current }));
        });
      });
      this.probe(action, outcome.ok ? 'allowed' : 'refused', outcome.error);
    } finally {
      c.close();
    }
  }

  /** Settles the writer-side probes from the final database state. */
  settle(final: FinalState): void {
    const byId = new Map(final.rejections.map((r) => [r.messageId, r.reason]));
    const written = new Set(final.rows.map((r) => r.id));
    for (const p of this.pending) {
      // A post that never reached the writer leaves its held edits held: nothing was decided to judge.
      if (p.before !== undefined && !written.has(p.before) && !byId.has(p.before)) continue;
      const reason = byId.get(p.opId);
      if (reason === undefined) this.probe(`${p.action} (chat-writer)`, 'allowed', 'no rejection recorded');
      else if (p.reasons.includes(reason)) this.probe(`${p.action} (chat-writer)`, 'refused', reason);
      else this.probe(`${p.action} (chat-writer)`, 'allowed', `refused for the wrong reason: ${reason} (expected ${p.reasons.join(' or ')})`);
    }
    this.pending.length = 0;
  }
}
