import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCheckout, parseMochaStream } from './ably-js.ts';
import { titlesPattern } from './needs-infra.ts';

describe('ably-js conformance runner', () => {
  it("counts mocha's json-stream events among whatever the tests printed", () => {
    const lines = [
      '["start",{"total":4}]',
      'a log line',
      '["pass",{"title":"a","fullTitle":"rest/time a"}]',
      '["fail",{"title":"b","fullTitle":"rest/time b","err":"expected 1 to equal 2\\nstack"}]',
      '["pass",{"title":"c","fullTitle":"rest/time c"}]',
      '["end",{"passes":2,"failures":1,"pending":1}]',
    ];
    const r = parseMochaStream('test/rest/time.test.js', lines.join('\n'), 1200);
    expect(r).toEqual({
      file: 'test/rest/time.test.js',
      passed: 2,
      failed: 1,
      pending: 1,
      durationMs: 1200,
      failures: [{ title: 'rest/time b', message: 'expected 1 to equal 2' }],
    });
    const cut = parseMochaStream('f', lines.slice(0, 3).join('\n'), 5);
    expect(cut).toMatchObject({ passed: 1, note: 'no end of run reported' });
  });

  it('says what a checkout lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablyjs-'));
    try {
      expect(() => checkCheckout(dir)).toThrow(/ably-common/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('excludes exactly the listed titles, whatever their suite prefix', () => {
    const re = new RegExp(titlesPattern(['authUrl_403', 'a.b (x)']));
    expect(re.test('realtime/auth authUrl_403')).toBe(true);
    expect(re.test('realtime/auth a.b (x)')).toBe(true);
    expect(re.test('realtime/auth authUrl_403_custom_error')).toBe(false);
    expect(re.test('realtime/auth aXb (x)')).toBe(false);
  });
});
