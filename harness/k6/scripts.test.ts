/**
 * What k6 needs of the scripts beyond their types: every import resolves inside scenarios/k6 or
 * to a k6 module (k6 has no node_modules and no Node built-ins), each script exports the
 * functions its scenarios name, and the options it builds are the workload's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const K6_DIR = fileURLToPath(new URL('../../scenarios/k6/', import.meta.url));
const K6_MODULES = new Set(['k6', 'k6/execution', 'k6/http', 'k6/metrics', 'k6/timers', 'k6/websockets', 'k6/options', 'k6/encoding', 'k6/crypto', 'k6/data']);
const SCRIPTS = ['edit-storm', 'chat-burst', 'steady'];

function importGraph(entry: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(entry)) return seen;
  const imports = ts.preProcessFile(readFileSync(entry, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
  seen.set(entry, imports);
  for (const spec of imports) if (spec.startsWith('.')) importGraph(resolve(dirname(entry), spec), seen);
  return seen;
}

describe('k6 scripts', () => {
  it.each(SCRIPTS)('%s imports only k6 modules and files of scenarios/k6', (name) => {
    const graph = importGraph(join(K6_DIR, `${name}.ts`));
    const bad: string[] = [];
    for (const [file, specs] of graph) {
      for (const spec of specs) {
        const ok = spec.startsWith('.') ? spec.endsWith('.ts') && !relative(K6_DIR, resolve(dirname(file), spec)).startsWith('..') : K6_MODULES.has(spec);
        if (!ok) bad.push(`${relative(K6_DIR, file)}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
    expect([...graph.keys()].map((f) => relative(K6_DIR, f)).sort()).toContain('lib/k6-entry.ts');
  });

  it.each(SCRIPTS)('%s exports options, setup, the scenarios\' exec functions, handleSummary and a default', (name) => {
    const text = readFileSync(join(K6_DIR, `${name}.ts`), 'utf8');
    const exported = [...text.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
    expect(exported).toEqual(['options', 'setup', 'writer', 'reader', 'handleSummary']);
    expect(text).toMatch(/^export default entry\.writer;$/m);
    const entry = readFileSync(join(K6_DIR, 'lib/k6-entry.ts'), 'utf8');
    expect([...entry.matchAll(/exec: '(\w+)'/g)].map((m) => m[1]).sort()).toEqual(['reader', 'writer']);
  });

  it('keeps Node-only code out of the shared modules the Node tests import', () => {
    for (const f of readdirSync(join(K6_DIR, 'lib')).filter((x) => x.endsWith('.ts') && x !== 'k6-entry.ts')) {
      const specs = ts.preProcessFile(readFileSync(join(K6_DIR, 'lib', f), 'utf8'), true, true).importedFiles.map((i) => i.fileName);
      expect(specs.filter((s) => !s.startsWith('./')), f).toEqual([]);
    }
  });
});
