/** Writing capacity.json, capacity.md and capacity.html into the sweep's directory. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { capacityHtml } from './html.ts';
import { capacityMarkdown } from './markdown.ts';
import type { CapacityResult } from './run.ts';

export async function writeCapacityReport(r: CapacityResult): Promise<{ json: string; markdown: string; html: string }> {
  await mkdir(r.outDir, { recursive: true });
  const files = { json: join(r.outDir, 'capacity.json'), markdown: join(r.outDir, 'capacity.md'), html: join(r.outDir, 'capacity.html') };
  await writeFile(files.json, JSON.stringify(r, null, 2) + '\n');
  await writeFile(files.markdown, capacityMarkdown(r));
  await writeFile(files.html, capacityHtml(r));
  return files;
}
