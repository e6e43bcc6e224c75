import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCheckout, parseMochaJson } from './ably-js.ts';

describe('ably-js conformance runner', () => {
  it("reads mocha's JSON report after whatever the tests printed", () => {
    const report = JSON.stringify(
      { stats: { passes: 3, failures: 1, pending: 2 }, failures: [{ fullTitle: 'rest/time gets the time', err: { message: 'expected 1 to equal 2\nstack' } }] },
      null,
      2,
    );
    const r = parseMochaJson('test/rest/time.test.js', `a log line\n{"not": "the report"}\n${report}`, 1200);
    expect(r).toEqual({
      file: 'test/rest/time.test.js',
      passed: 3,
      failed: 1,
      pending: 2,
      durationMs: 1200,
      failures: [{ title: 'rest/time gets the time', message: 'expected 1 to equal 2' }],
    });
    expect(parseMochaJson('f', 'crashed before reporting', 5).note).toBe('no mocha report');
  });

  it('says what a checkout lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablyjs-'));
    try {
      expect(() => checkCheckout(dir)).toThrow(/ably-common/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
