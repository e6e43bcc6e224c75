/** Writing a run's reports (report.json, report.md, report.html) into its directory, and reading report.json back. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { REPORT_HTML, toHtml } from './html.ts';
import { toMarkdown } from './markdown.ts';
import type { Report } from './types.ts';

export const REPORT_JSON = 'report.json';
export const REPORT_MD = 'report.md';

export interface WrittenReport {
  json: string;
  markdown: string;
  html: string;
}

export async function writeReport(dir: string, report: Report): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, REPORT_JSON);
  const markdown = join(dir, REPORT_MD);
  await writeFile(json, JSON.stringify(report, null, 2) + '\n');
  await writeFile(markdown, toMarkdown(report));
  const html = join(dir, REPORT_HTML);
  await writeFile(html, toHtml(report));
  return { json, markdown, html };
}

const stage = z.looseObject({ count: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), p999: z.number(), max: z.number() });
// The fields docs/architecture.md (Contracts) fixes; anything else a report carries passes through unchecked.
const reportShape = z.looseObject({
  scenario: z.string(),
  passed: z.boolean(),
  checks: z.array(z.looseObject({ name: z.string(), valid: z.union([z.boolean(), z.literal('unknown')]), details: z.record(z.string(), z.unknown()) })),
  thresholds: z.array(z.object({ metric: z.string(), expr: z.string(), value: z.number().nullable(), passed: z.boolean() })),
  counts: z.looseObject({ sent: z.number(), committed: z.number(), delivered: z.number(), lost: z.number(), duplicated: z.number(), outOfOrder: z.number() }),
  latency: z.record(z.string(), stage).refine((l) => 'e2e' in l, { message: 'expected an e2e stage' }),
  throughput: z.looseObject({ opsPerSec: z.number(), deliveriesPerSec: z.number() }),
  environment: z.record(z.string(), z.unknown()),
});

export async function readReport(path: string): Promise<Report> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const parsed = reportShape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: field '${issue.path.map(String).join('.') || '(root)'}': ${issue.message}`);
  }
  return parsed.data as unknown as Report;
}
