/** Runs the connector CLI as a child process, so tests can kill it with SIGKILL like a crash. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface ConnectorChild {
  proc: ChildProcess;
  healthUrl: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnConnector(configPath: string, env: Record<string, string>, timeoutMs = 20_000): Promise<ConnectorChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'connector', 'src', 'cli.ts'), '--config', configPath, '--log-level', process.env.CONNECTOR_CHILD_LOG ?? 'warn'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  const healthUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connector child not ready after ${timeoutMs} ms: ${out}`)), timeoutMs);
    const check = () => {
      const m = /connector ready: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`connector child exited (${code}) before ready: ${out}`));
    });
  });
  return {
    proc,
    healthUrl,
    output: () => out,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
