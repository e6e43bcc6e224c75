import { describe, expect, it } from 'vitest';
import { simulate } from '../history/simulate.ts';
import { analyzePerAuthorOrder, longestNonDecreasing, perAuthorOrderChecker } from './per-author-order.ts';
import { cleanRun } from './testing.ts';

describe('per-author-order', () => {
  it('reports zero on a clean run', () => {
    const run = cleanRun();
    expect(perAuthorOrderChecker()(run.history, run.final)).toMatchObject({ valid: true, details: { posts: 5, reordered: 0, rate: 0 } });
  });

  it('counts the fewest reordered posts, and fails only above the threshold', () => {
    // a sends p1..p4; p1's write is slow and commits after p2 and p3.
    const run = simulate({
      clients: [{ id: 'a', room: 'r' }, { id: 'b', room: 'r' }],
      ops: [
        { t: 1, op: 'post', client: 'a', id: 'p1', commitDelay: 30 },
        { t: 2, op: 'post', client: 'a', id: 'p2' },
        { t: 3, op: 'post', client: 'a', id: 'p3' },
        { t: 50, op: 'post', client: 'a', id: 'p4' },
        { t: 4, op: 'post', client: 'b', id: 'q1' },
        { t: 5, op: 'post', client: 'b', id: 'q2' },
      ],
    });
    const a = analyzePerAuthorOrder(run.history, run.final);
    expect(a).toMatchObject({ posts: 6, reordered: 1, authors: [{ author: 'a', posts: 4, reordered: 1 }, { author: 'b', posts: 2, reordered: 0 }] });
    expect(a.rate).toBeCloseTo(1 / 6);
    expect(perAuthorOrderChecker()(run.history, run.final).valid).toBe(true);
    expect(perAuthorOrderChecker({ maxRate: 0.2 })(run.history, run.final).valid).toBe(true);
    expect(perAuthorOrderChecker({ maxRate: 0.1 })(run.history, run.final)).toMatchObject({ valid: false, details: { rate: 1 / 6, maxRate: 0.1 } });
  });

  it('judges the order the rows carry (sent_at) when they carry one, whatever the commit order', () => {
    const run = simulate({
      clients: [{ id: 'a', room: 'r' }],
      ops: [
        { t: 1, op: 'post', client: 'a', id: 'p1', commitDelay: 30 },
        { t: 2, op: 'post', client: 'a', id: 'p2' },
      ],
    });
    expect(analyzePerAuthorOrder(run.history, run.final).reordered).toBe(1);
    // The chat-writer stores the publish timestamp; the view, and so this check, order by it.
    const stamped = { ...run.final, rows: run.final.rows.map((r) => ({ ...r, sentT: r.id === 'p1' ? 1 : 2 })) };
    expect(analyzePerAuthorOrder(run.history, stamped).reordered).toBe(0);
  });

  it('computes the longest non-decreasing run', () => {
    expect(longestNonDecreasing([])).toBe(0);
    expect(longestNonDecreasing([3, 1, 2])).toBe(2);
    expect(longestNonDecreasing([1, 1, 1])).toBe(3);
    expect(longestNonDecreasing([5, 4, 3, 2, 1])).toBe(1);
    expect(longestNonDecreasing([2, 5, 3, 7, 11, 8, 10, 13, 6])).toBe(6);
  });
});
