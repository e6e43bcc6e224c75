/**
 * What ships (src/) stands alone: it imports only its own files, Node's built-ins and the
 * packages connector/package.json declares, so `npm pack` of connector/ carries a working tool.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\sfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

describe('connector/src', () => {
  it('imports only itself, Node built-ins and its declared dependencies', () => {
    const sources = readdirSync(join(DIR, 'src')).filter((f) => f.endsWith('.ts'));
    expect(sources).toContain('cli.ts');
    const wrong: string[] = [];
    for (const f of sources) {
      for (const s of specifiers(join(DIR, 'src', f))) {
        if (s.startsWith('./')) continue;
        if (s.startsWith('node:') || builtinModules.includes(s)) continue;
        const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        if (!(name in pkg.dependencies)) wrong.push(`${f}: ${s}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('pins each dependency to the version the repository installs', () => {
    const root = JSON.parse(readFileSync(join(DIR, '..', 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    for (const [name, version] of Object.entries(pkg.dependencies)) expect(`${name}@${version}`).toBe(`${name}@${root.packages[`node_modules/${name}`]?.version}`);
  });
});
