/** Writing a gate's outputs: report.md, junit.xml and gate.json in its directory (and JUnit where CI wants it). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gateJUnit } from './junit.ts';
import { gateMarkdown } from './markdown.ts';
import type { GateResult } from './run.ts';

export interface GateFiles {
  markdown: string;
  junit: string;
  json: string;
  extraJunit?: string;
}

export async function writeGateOutputs(g: GateResult, opts: { junitPath?: string } = {}): Promise<GateFiles> {
  await mkdir(g.outDir, { recursive: true });
  const files: GateFiles = { markdown: join(g.outDir, 'report.md'), junit: join(g.outDir, 'junit.xml'), json: join(g.outDir, 'gate.json') };
  const junit = gateJUnit(g);
  await writeFile(files.markdown, gateMarkdown(g));
  await writeFile(files.junit, junit);
  await writeFile(files.json, JSON.stringify(g, null, 2) + '\n');
  if (opts.junitPath) {
    await mkdir(dirname(opts.junitPath), { recursive: true });
    await writeFile(opts.junitPath, junit);
    files.extraJunit = opts.junitPath;
  }
  return files;
}
