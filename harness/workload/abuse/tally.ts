/**
 * The count of one class of attack: attempts, refusals by code, and what got through. What a
 * limit lets through (a flood's first messages of each second) is `allowed`; what it should have
 * refused but did not is `unexpected`, the figure that must stay at zero.
 */
import type { AttackEvent } from '../../history/types.ts';

export interface TallySnapshot {
  attack: string;
  description: string;
  expectedCodes: string[];
  attempts: number;
  allowed: number;
  unexpected: number;
  codes: Record<string, number>;
  notes: string[];
}

export class AttackTally {
  attempts = 0;
  allowed = 0;
  unexpected = 0;
  readonly codes: Record<string, number> = {};
  private readonly notes: string[] = [];

  constructor(
    readonly attack: string,
    readonly description: string,
    readonly expectedCodes: readonly string[],
  ) {}

  refuse(code: string | number, n = 1): void {
    if (n > 0) this.codes[String(code)] = (this.codes[String(code)] ?? 0) + n;
  }

  /** `n` attempts went through, `beyond` of them past what the limit allows. */
  accept(n: number, beyond: number): void {
    this.allowed += n - beyond;
    this.unexpected += beyond;
  }

  get refused(): number {
    return Object.values(this.codes).reduce((a, b) => a + b, 0);
  }

  /** A fact worth a line in the report (an attack that could not be carried out, a wrong answer); the first few are kept. */
  note(line: string): void {
    if (this.notes.length < 3 && !this.notes.includes(line)) this.notes.push(line);
  }

  /** Refused at least once, only with the expected codes, and nothing through that the limit should have stopped. */
  get verdict(): { ok: boolean; why: string } {
    const wrong = Object.keys(this.codes).filter((c) => !this.expectedCodes.includes(c));
    if (this.attempts === 0) return { ok: false, why: `never attempted${this.notes[0] ? `: ${this.notes[0]}` : ''}` };
    if (this.unexpected > 0) return { ok: false, why: `${this.unexpected} of ${this.attempts} accepted beyond the limit` };
    if (wrong.length) return { ok: false, why: `refused with unexpected code(s) ${wrong.join(', ')} (expected ${this.expectedCodes.join(' or ')})` };
    if (this.refused === 0) return { ok: false, why: `never refused (${this.attempts} attempts)${this.notes[0] ? `: ${this.notes[0]}` : ''}` };
    return { ok: true, why: Object.entries(this.codes).map(([c, n]) => `${c} x${n}`).join(', ') };
  }

  /** What a worker thread hands back: plain data (see `restore`). */
  snapshot(): TallySnapshot {
    return { attack: this.attack, description: this.description, expectedCodes: [...this.expectedCodes], attempts: this.attempts, allowed: this.allowed, unexpected: this.unexpected, codes: { ...this.codes }, notes: [...this.notes] };
  }

  static restore(s: TallySnapshot): AttackTally {
    const t = new AttackTally(s.attack, s.description, s.expectedCodes);
    Object.assign(t.codes, s.codes);
    t.attempts = s.attempts;
    t.allowed = s.allowed;
    t.unexpected = s.unexpected;
    for (const n of s.notes) t.note(n);
    return t;
  }

  event(t: number): AttackEvent {
    return {
      type: 'attack',
      t,
      attack: this.attack,
      description: this.description,
      attempts: this.attempts,
      refused: this.refused,
      codes: { ...this.codes },
      expectedCodes: [...this.expectedCodes],
      allowed: this.allowed,
      unexpected: this.unexpected,
      ...(this.notes.length ? { detail: this.notes.join('; ') } : {}),
    };
  }
}

/**
 * Accepted attempts beyond a per-second limit: the service counts in one-second windows of the
 * wall clock, so over an attack spanning `windows` of them at most `rate` each may pass.
 */
export function beyondRate(accepted: number, rate: number, startedMs: number, endedMs: number): number {
  const windows = Math.floor(endedMs / 1000) - Math.floor(startedMs / 1000) + 1;
  return Math.max(0, accepted - rate * windows);
}
