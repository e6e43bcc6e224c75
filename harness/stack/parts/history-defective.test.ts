import { describe, expect, it } from 'vitest';
import { spoilPage } from './history-defective.ts';

const rows = [
  { id: 'c', created_at: '2026-12-05T08:00:03.000300+00:00' },
  { id: 'b', created_at: '2026-12-05T08:00:02.123456+00:00' },
  { id: 'a', created_at: '2026-12-05T08:00:01+00:00' },
];
const page = { messages: rows, next: 'cursor-of-a' };

describe('planted history defects', () => {
  it('drops-newest leaves out the first page\'s newest row only', () => {
    expect(spoilPage(page, 'drops-newest', false).messages!.map((r) => r.id)).toEqual(['b', 'a']);
    expect(spoilPage(page, 'drops-newest', true)).toBe(page);
  });

  it('oldest-first reverses each page and keeps its cursor', () => {
    expect(spoilPage(page, 'oldest-first', true)).toEqual({ messages: [rows[2], rows[1], rows[0]], next: 'cursor-of-a' });
  });

  it("overlap points next at the second-to-last row, in the endpoint's own cursor form (integer µs:id)", () => {
    const next = spoilPage(page, 'overlap', false).next as string;
    expect(Buffer.from(next, 'base64url').toString()).toBe(`${Date.parse('2026-12-05T08:00:02Z') * 1000 + 123456}:b`);
    expect(spoilPage({ messages: rows, next: null }, 'overlap', false).next).toBeNull();
  });
});
