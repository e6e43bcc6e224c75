/**
 * The connector as its own OS process, started from its CLI exactly as it ships, so that a
 * fault can SIGKILL it (a crash, not a tidy stop), its CPU and memory can be measured apart from
 * the harness, and a restarted one really starts cold.
 *
 * The child's stdin is a pipe the harness holds: if the harness dies without cleaning up (even
 * by SIGKILL), the pipe closes and the connector exits (`--exit-on-stdin-close`). Its config
 * holds its key: it is written to a private directory for each start and removed as soon as the
 * connector has read it (ready or failed), so a harness killed later leaves no secret on disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killSync, registerCleanup, removeDirSync } from '../lib/cleanup.ts';
import { cpuProfFlags } from '../lib/cpu-prof.ts';

const CLI = fileURLToPath(new URL('../../connector/src/cli.ts', import.meta.url));
/** The same CLI with a planted defect: a test-only entry, since no shipped option can plant one. */
const CLI_WITH_DEFECTS = fileURLToPath(new URL('../../connector/testing/cli-with-defects.ts', import.meta.url));
const READY = /^connector ready: (\S+)/m;

export interface ConnectorHealth {
  ok: boolean;
  active: boolean;
  mode: 'durable' | 'notify' | 'wal';
  backlog: number;
  published: number;
  acknowledged: number;
  reconnects: number;
  errors: number;
  /** Mode wal: the replication slot as this instance last saw it. */
  slot?: { name: string; exists: boolean; active: boolean; lagBytes: number; lagSeconds: number; unconsumedSeconds: number };
}

export class ConnectorProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private dir: string | undefined;
  private readonly unregister: () => void;
  private stderrTail = '';
  healthUrl = '';
  /** How many times this connector was started (1 after the first start). */
  starts = 0;

  constructor(
    readonly name: string,
    private readonly config: unknown,
    private readonly opts: { logLevel?: string; plantedDefect?: 'publish-without-waiting' | 'swap-rows' } = {},
  ) {
    this.unregister = registerCleanup({
      name: `connector ${name}`,
      stop: () => this.shutdown(),
      stopSync: () => {
        killSync(this.child?.pid, 'SIGKILL');
        this.removeConfig();
      },
    });
  }

  private writeConfig(): string {
    this.dir = mkdtempSync(join(tmpdir(), 'chat-connector-'));
    const file = join(this.dir, 'connector.json');
    writeFileSync(file, JSON.stringify(this.config), { mode: 0o600 });
    return file;
  }

  private removeConfig(): void {
    if (this.dir) removeDirSync(this.dir);
    this.dir = undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Starts the process and resolves once it reports ready (connected to Postgres and the realtime service). */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error(`connector ${this.name} is already running`);
    const child = spawn(
      process.execPath,
      [...cpuProfFlags(`connector-${this.name}`), '--import', 'tsx', ...this.entry(), '--config', this.writeConfig(), '--http-port', '0', '--log-level', this.opts.logLevel ?? process.env.LOG_LEVEL ?? 'error', '--exit-on-stdin-close'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.starts++;
    this.stderrTail = '';
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-4000);
      if (process.env.LOG_LEVEL) process.stderr.write(s);
    });
    let out = '';
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connector ${this.name}: not ready after ${timeoutMs} ms${this.tail()}`)), timeoutMs);
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const m = READY.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`connector ${this.name} exited before it was ready (${signal ?? `code ${code}`})${this.tail()}`));
      });
    });
    try {
      this.healthUrl = await ready;
    } catch (err) {
      killSync(child.pid, 'SIGKILL');
      await this.exited;
      throw err;
    } finally {
      this.removeConfig();
    }
  }

  private entry(): string[] {
    return this.opts.plantedDefect ? [CLI_WITH_DEFECTS, '--planted-defect', this.opts.plantedDefect] : [CLI];
  }

  private tail(): string {
    const t = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return t ? `: ${t}` : '';
  }

  /** A crash: SIGKILL, no chance to finish publishes or release its lock. Resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** Graceful: SIGTERM (in-flight publishes finish, the lock is released); SIGKILL if it hangs. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => killSync(this.child?.pid, 'SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  async restart(how: 'kill' | 'graceful'): Promise<void> {
    await (how === 'kill' ? this.kill() : this.stop());
    await this.start();
  }

  /** The connector's /health document, or undefined while it is not running or not answering. */
  async health(): Promise<ConnectorHealth | undefined> {
    if (!this.running || !this.healthUrl) return undefined;
    try {
      const res = await fetch(this.healthUrl, { signal: AbortSignal.timeout(2000) });
      return (await res.json()) as ConnectorHealth;
    } catch {
      return undefined;
    }
  }

  /** Stops the process for good and removes its config. */
  async shutdown(): Promise<void> {
    this.unregister();
    await this.stop();
    this.removeConfig();
  }
}
