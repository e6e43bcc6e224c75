import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

/** One import: both ends are repository-relative paths with forward slashes. */
export interface Edge {
  readonly from: string;
  readonly to: string;
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'reports', 'dist', '.output', '.nuxt']);
const SOURCE = /\.(ts|vue)$/;
const HARNESS_PARTS = [
  'lib', 'realtime', 'lambda', 'stack', 'workload', 'faults', 'history', 'checks',
  'report', 'gate', 'capacity', 'k6', 'runner', 'cli', 'testing',
];

/** The architectural part a file belongs to, or undefined for files outside every part. */
export function partOf(file: string): string | undefined {
  const [top, second] = file.split('/');
  if (top === 'reference-app' && second !== undefined && !second.includes('.')) return `reference-app/${second}`;
  if (top === 'harness' && second !== undefined && HARNESS_PARTS.includes(second)) return `harness/${second}`;
  // The k6 scripts run in k6, not Node: a part of their own that other parts may borrow from.
  if (top === 'scenarios' && second === 'k6') return 'scenarios/k6';
  if (top === 'connector' || top === 'scenarios' || top === 'test') return top;
  return undefined;
}

/**
 * Tests, benches and test helpers may reach into any part (they start and inspect it);
 * only the code that ships and runs is held to the layering.
 */
export function isProduction(file: string): boolean {
  if (/\.test\.ts$/.test(file)) return false;
  if (/(^|\/)(bench|testing|test)\//.test(file)) return false;
  if (/(^|\/)(testing|test-support)\.ts$/.test(file)) return false;
  return partOf(file) !== 'test';
}

function walk(root: string, dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(root, full, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(relative(root, full).split(sep).join('/'));
  }
}

function scriptOf(file: string, text: string): string {
  if (!file.endsWith('.vue')) return text;
  return [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

/** Resolves a specifier to a repository path; bare package names leave the repository. */
function resolve(root: string, from: string, spec: string): string | undefined {
  let base: string;
  if (spec.startsWith('.')) base = join(dirname(from), spec);
  else if (spec.startsWith('~/') || spec.startsWith('@/')) base = join('reference-app/web/app', spec.slice(2));
  else return undefined;
  base = base.split(sep).join('/');
  const stem = base.replace(/\.(js|mjs|ts)$/, '');
  const candidates = [`${stem}.ts`, base, `${stem}/index.ts`];
  return candidates.find((c) => existsSync(join(root, c)) && statSync(join(root, c)).isFile()) ?? `${stem}.ts`;
}

/** Every repository-internal import of the repository's .ts and .vue files. */
export function importGraph(root: string): Edge[] {
  const files: string[] = [];
  walk(root, root, files);
  const edges: Edge[] = [];
  for (const from of files) {
    const info = ts.preProcessFile(scriptOf(from, readFileSync(join(root, from), 'utf8')), true, true);
    for (const ref of info.importedFiles) {
      const to = resolve(root, from, ref.fileName);
      if (to !== undefined) edges.push({ from, to });
    }
  }
  return edges;
}
