/**
 * Capability matching in the local realtime service against Ably's documented rules
 * (https://ably.com/docs/auth/capabilities): a `*` segment replaces exactly one `:`-separated
 * segment, a trailing `*` replaces one or more, `foo*` is literal, `*` alone never matches
 * `[queue]`/`[meta]` resources, and `[*]*` matches everything. The reference below is written from
 * that text alone (a regular expression per resource), not from the service's code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allows, intersect, resourceMatches, type Capability, type Operation } from '../../../harness/realtime/auth/capability.ts';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function referenceMatches(resource: string, channel: string): boolean {
  if (resource === '[*]*') return true;
  const qualifier = (s: string) => /^\[[^\]]*\]/.exec(s)?.[0] ?? '';
  const rq = qualifier(resource);
  const cq = qualifier(channel);
  if (rq !== cq) return false;
  const segs = resource.slice(rq.length).split(':');
  const seg = '[^:]+';
  const body = segs
    .map((s, i) => (s !== '*' ? escape(s) : i === segs.length - 1 ? `${seg}(?::${seg})*` : seg))
    .join(':');
  return new RegExp(`^${body}$`).test(channel.slice(cq.length));
}

const OPS: Operation[] = ['publish', 'subscribe', 'presence', 'history', 'channel-metadata'];
// A small alphabet so that patterns and names collide often enough to test both answers.
const word = fc.constantFrom('a', 'b', 'chat', 'lobby', 'foo*', 'x-1');
const qualifier = fc.constantFrom('', '', '', '[queue]', '[meta]');
const channel = fc.tuple(qualifier, fc.array(word, { minLength: 1, maxLength: 4 })).map(([q, s]) => q + s.join(':'));
const resource = fc.oneof(
  { weight: 9, arbitrary: fc.tuple(qualifier, fc.array(fc.oneof(word, fc.constant('*')), { minLength: 1, maxLength: 4 })).map(([q, s]) => q + s.join(':')) },
  { weight: 1, arbitrary: fc.constant('[*]*') },
);
const ops: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<string[]>(['*']) },
  { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom<string>(...OPS), { minLength: 1, maxLength: 3 }) },
);
const capability: fc.Arbitrary<Capability> = fc.dictionary(resource, ops, { minKeys: 1, maxKeys: 4 });

const referenceAllows = (cap: Capability, ch: string, op: Operation) =>
  Object.entries(cap).some(([r, o]) => referenceMatches(r, ch) && (o.includes('*') || o.includes(op)));

describe('capability matching (property)', () => {
  it("the documented examples hold, in the reference and the service alike", () => {
    const cases: Array<[string, string, boolean]> = [
      ['*', 'anything:at:all', true],
      ['*', '[queue]q', false],
      ['*', '[meta]m', false],
      ['namespace:*', 'namespace:channel', true],
      ['namespace:*', 'namespace:channel:other', true],
      ['foo:*:baz', 'foo:bar:baz', true],
      ['foo:*:baz', 'foo:bar:bam:baz', false],
      ['foo:*', 'foo:bar:bam:baz', true],
      ['foo*', 'foobar', false],
      ['foo*', 'foo*', true],
      ['[queue]*', '[queue]appid-q', true],
      ['[meta]*', '[meta]log', true],
      ['[*]*', '[meta]log', true],
      ['[*]*', 'plain', true],
    ];
    for (const [r, c, want] of cases) {
      expect(referenceMatches(r, c), `reference ${r} ~ ${c}`).toBe(want);
      expect(resourceMatches(r, c), `service ${r} ~ ${c}`).toBe(want);
    }
  });

  it('resourceMatches agrees with the documented rules for any resource and channel', () => {
    fc.assert(
      fc.property(resource, channel, (r, c) => {
        expect(resourceMatches(r, c)).toBe(referenceMatches(r, c));
      }),
      { numRuns: 3000 },
    );
  });

  it('allows() grants an operation exactly when some resource matches with that operation or *', () => {
    fc.assert(
      fc.property(capability, channel, fc.constantFrom(...OPS), (cap, c, op) => {
        expect(allows(cap, c, op)).toBe(referenceAllows(cap, c, op));
      }),
      { numRuns: 2000 },
    );
  });

  it('a token never gets more than its key allows, nor more than it asked for', () => {
    fc.assert(
      fc.property(capability, capability, fc.array(fc.tuple(channel, fc.constantFrom(...OPS)), { minLength: 20, maxLength: 20 }), (key, requested, probes) => {
        let granted: Capability;
        try {
          granted = intersect(key, requested);
        } catch (err) {
          // Ably refuses an empty intersection with 40160; then nothing may have been grantable.
          expect((err as { code?: number }).code).toBe(40160);
          for (const [c, op] of probes) expect(referenceAllows(key, c, op) && referenceAllows(requested, c, op) && isLiteral(requested)).toBe(false);
          return;
        }
        for (const [c, op] of probes) {
          if (referenceAllows(granted, c, op)) {
            expect(referenceAllows(key, c, op), `granted ${op} on ${c} beyond the key`).toBe(true);
            expect(referenceAllows(requested, c, op), `granted ${op} on ${c} beyond the request`).toBe(true);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a request naming channels literally gets exactly what both the key and the request allow', () => {
    const literal: fc.Arbitrary<Capability> = fc.dictionary(channel, ops, { minKeys: 1, maxKeys: 4 });
    fc.assert(
      fc.property(capability, literal, fc.constantFrom(...OPS), (key, requested, op) => {
        let granted: Capability = {};
        try {
          granted = intersect(key, requested);
        } catch (err) {
          expect((err as { code?: number }).code).toBe(40160);
        }
        for (const c of Object.keys(requested)) {
          expect(referenceAllows(granted, c, op), `${op} on ${c}`).toBe(referenceAllows(key, c, op) && referenceAllows(requested, c, op));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

function isLiteral(cap: Capability): boolean {
  return Object.keys(cap).every((r) => r !== '[*]*' && !r.replace(/^\[[^\]]*\]/, '').split(':').includes('*'));
}
