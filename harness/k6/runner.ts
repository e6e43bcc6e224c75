/**
 * Running a k6 script from PATH and turning its summary into a run directory
 * (report.json/md/html beside k6's own summary files).
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectEnvironment } from '../report/environment.ts';
import { writeReport, type WrittenReport } from '../report/write.ts';
import { k6SummaryToReport, type K6Report } from './convert.ts';
import { readK6Summary } from './summary-format.ts';

export const K6_INSTALL_URL = 'https://grafana.com/docs/k6/latest/set-up/install-k6/';
export const SCRIPTS_DIR = fileURLToPath(new URL('../../scenarios/k6/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Written by the scripts' handleSummary (full percentiles, thresholds with ok flags). */
export const HANDLE_SUMMARY_FILE = 'k6-summary.json';
/** Written by k6's --summary-export (k6's legacy shape, or its newer one in later versions). */
export const SUMMARY_EXPORT_FILE = 'k6-summary-export.json';

export const installHint = (): string =>
  [
    'k6 is not installed: no executable "k6" on PATH.',
    `Install it (a single binary; packages for Linux, macOS, Windows and a Docker image): ${K6_INSTALL_URL}`,
    'Then run this again. A summary from a k6 run elsewhere converts without k6: npm run load:k6 -- --convert SUMMARY.json',
  ].join('\n');

export function findExecutable(name: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export const scriptNames = (): string[] => ['edit-storm', 'chat-burst', 'steady'];

/** A script name (edit-storm) or a path to a script file. */
export function resolveScript(arg: string): string {
  const byName = join(SCRIPTS_DIR, `${arg}.ts`);
  if (!arg.includes('/') && existsSync(byName)) return byName;
  const p = isAbsolute(arg) ? arg : resolve(arg);
  if (existsSync(p) && statSync(p).isFile()) return p;
  throw new Error(`script '${arg}' not found; expected one of ${scriptNames().join(', ')} or a path to a k6 script`);
}

export const scriptLabel = (scriptPath: string): string => basename(scriptPath).replace(/\.(ts|js|mjs)$/, '');

export function defaultRunDir(label: string, now = new Date()): string {
  return join(ROOT, 'reports', `k6-${label}`, now.toISOString().replace(/[:.]/g, '-'));
}

export function k6Version(k6: string): string | undefined {
  const r = spawnSync(k6, ['version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined;
}

export interface K6RunOptions {
  k6: string;
  script: string;
  /** Passed to `k6 run` before the script (e.g. -e RATE=100, --out json=...). */
  k6Args: readonly string[];
  runDir: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs k6 with inherited stdio; k6 itself handles Ctrl-C (stops, then writes its summary). */
export function runK6(o: K6RunOptions): Promise<number> {
  const args = [
    'run',
    '--summary-export',
    join(o.runDir, SUMMARY_EXPORT_FILE),
    '-e',
    `K6_HARNESS_SUMMARY=${join(o.runDir, HANDLE_SUMMARY_FILE)}`,
    ...o.k6Args,
    o.script,
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(o.k6, args, { stdio: 'inherit', env: o.env ?? process.env });
    // The terminal sends Ctrl-C to k6 too; this process waits for k6's summary instead of dying first.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.once('error', (err) => {
      process.off('SIGINT', ignore);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

/** The summary a run left: the scripts' handleSummary file when present, else k6's export. */
export function summaryFileIn(runDir: string): string | undefined {
  for (const f of [HANDLE_SUMMARY_FILE, SUMMARY_EXPORT_FILE]) if (existsSync(join(runDir, f))) return join(runDir, f);
  return undefined;
}

export interface Converted {
  report: K6Report;
  written: WrittenReport;
  runDir: string;
}

export async function readSummaryFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message})`);
  }
}

/** Converts a summary file and writes the report files into `runDir` (or the default for its scenario). */
export async function convertSummary(path: string, opts: { runDir?: string; scenario?: string; ranHere?: { k6Version?: string } }): Promise<Converted> {
  const summary = readK6Summary(await readSummaryFile(path));
  const report = k6SummaryToReport(summary, {
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    summaryFile: path,
    ...(opts.ranHere ? { environment: collectEnvironment(opts.ranHere.k6Version ? { k6: opts.ranHere.k6Version } : {}) } : {}),
  });
  const runDir = opts.runDir ?? defaultRunDir(report.scenario);
  const written = await writeReport(runDir, report);
  return { report, written, runDir };
}
