/**
 * Runs ably-js's own Node test suite against this repository's realtime service: one fresh
 * service (sandbox API on) per test file, each file in its own mocha process with a time bound,
 * and the per-file results read from mocha's json-stream reporter.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from '../lib/cleanup.ts';
import { RealtimeService } from '../realtime/index.ts';
import { NEEDS_INFRA, titlesPattern } from './needs-infra.ts';

/** The files the conformance work has been measured on: the core of `test/realtime` and `test/rest`. */
export const CORE_FILES = [
  'test/realtime/connection.test.js',
  'test/realtime/channel.test.js',
  'test/realtime/message.test.js',
  'test/realtime/presence.test.js',
  'test/realtime/resume.test.js',
  'test/realtime/failure.test.js',
  'test/realtime/init.test.js',
  'test/realtime/auth.test.js',
  'test/realtime/reauth.test.js',
  'test/rest/auth.test.js',
  'test/rest/history.test.js',
  'test/rest/request.test.js',
  'test/rest/time.test.js',
  'test/rest/presence.test.js',
  'test/rest/message.test.js',
  'test/rest/capability.test.js',
];

export interface FileResult {
  file: string;
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  /** Why the counts are incomplete: a timeout, a crash, unreadable output. */
  note?: string;
  failures: { title: string; message: string }[];
}

export interface ConformanceOptions {
  ablyJs: string;
  files: string[];
  fileTimeoutMs: number;
  retries: number;
  transports: string;
  /** Leave out the tests that need Ably's echo server or the internet (needs-infra.ts). */
  skipInfra?: boolean;
  onFile?: (r: FileResult) => void;
}

/** Checks that `dir` is an ably-js checkout the suite can run from; the error says what is missing. */
export function checkCheckout(dir: string): void {
  const need = [
    ['test/common/ably-common/test-resources/test-app-setup.json', 'ably-common at test/common/ably-common (the app spec)'],
    ['build/ably-node.js', 'the Node build (build/ably-node.js)'],
    ['node_modules/mocha/bin/mocha', 'mocha in node_modules'],
  ];
  for (const [path, what] of need) if (!existsSync(join(dir, path!))) throw new Error(`${dir} lacks ${what}: ${path} not found`);
}

export async function runConformance(o: ConformanceOptions): Promise<FileResult[]> {
  const out: FileResult[] = [];
  for (const file of o.files) {
    const r = await runFile(o, file);
    o.onFile?.(r);
    out.push(r);
  }
  return out;
}

async function runFile(o: ConformanceOptions, file: string): Promise<FileResult> {
  const svc = await new RealtimeService({ sandbox: true }).start();
  try {
    return await runMocha(o, file, `http://${svc.host}:${svc.port}`);
  } finally {
    await svc.stop();
  }
}

const watchdog = fileURLToPath(new URL('./exit-with-parent.cjs', import.meta.url));

function runMocha(o: ConformanceOptions, file: string, sandboxUrl: string): Promise<FileResult> {
  const started = Date.now();
  const env = {
    ...process.env,
    ABLY_LOCAL_SANDBOX_URL: sandboxUrl,
    ABLY_TEST_TRANSPORTS: o.transports,
    ABLY_USE_TLS: 'false',
  };
  const args = ['--require', watchdog, 'node_modules/mocha/bin/mocha', '--exit', '--reporter', 'json-stream', '--retries', String(o.retries), ...exclusions(o, file), file];
  const child = spawn(process.execPath, args, { cwd: o.ablyJs, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const unregister = registerCleanup({
    name: `mocha ${file}`,
    stop: async () => void child.kill('SIGKILL'),
    stopSync: () => void child.kill('SIGKILL'),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.fileTimeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      unregister();
      const r = parseMochaStream(file, stdout, Date.now() - started);
      if (timedOut) r.note = `stopped after ${Math.round(o.fileTimeoutMs / 1000)} s; counts so far`;
      else if (r.note === undefined && code !== 0 && r.failed === 0) r.note = `exit ${code}: ${lastLine(stderr)}`;
      resolve(r);
    });
  });
}

function exclusions(o: ConformanceOptions, file: string): string[] {
  const infra = o.skipInfra ? NEEDS_INFRA[file] : undefined;
  return infra ? ['--grep', titlesPattern(infra.titles), '--invert'] : [];
}

type StreamEvent = ['start' | 'pass' | 'fail' | 'end', { fullTitle?: string; err?: string; pending?: number; passes?: number; failures?: number }];

/**
 * Mocha's json-stream reporter: one `["pass"|"fail", {...}]` line per test as it finishes and
 * `["end", stats]` at the end, so a file stopped by its time bound still counts what it ran.
 * Tests may print other lines in between.
 */
export function parseMochaStream(file: string, stdout: string, durationMs: number): FileResult {
  const r: FileResult = { file, passed: 0, failed: 0, pending: 0, durationMs, failures: [] };
  let ended = false;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('["')) continue;
    let ev: StreamEvent;
    try {
      ev = JSON.parse(line) as StreamEvent;
    } catch {
      continue;
    }
    const [kind, body] = ev;
    if (kind === 'pass') r.passed++;
    else if (kind === 'fail') {
      r.failed++;
      r.failures.push({ title: body.fullTitle ?? '?', message: (body.err ?? '').split('\n')[0]!.slice(0, 200) });
    } else if (kind === 'end') {
      ended = true;
      r.pending = body.pending ?? 0;
    }
  }
  if (!ended) r.note = 'no end of run reported';
  return r;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 160);
}
