import { Command } from 'commander';
import { ensureWebBuild } from '../../reference-app/web/build.ts';
import { isPortOpen } from '../lib/ports.ts';
import { startStack } from '../stack/index.ts';
import { runMain, untilInterrupted, UsageError } from './common.ts';

/** A fixed default, so that restarting the chat keeps open tabs working. */
const DEFAULT_PORT = 3300;

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--port: expected an integer from 0 to 65535, got ${JSON.stringify(v)}`);
  return n;
}

const program = new Command('npm run chat --')
  .description('The whole reference chat on loopback: the stack plus the web app. Prints the URL to open; Ctrl-C stops everything.')
  .option('--rebuild', 'rebuild the web app even when the build is fresh')
  .option('--rules <file>', 'integration rules file (default: Ably + Lambda delivery)')
  .option('--port <n>', `port of the web app on 127.0.0.1 (0: any free port)`, String(DEFAULT_PORT))
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

runMain(async () => {
  program.parse();
  const o = program.opts<{ rebuild?: boolean; rules?: string; port: string }>();
  const port = parsePort(o.port);
  const log = (m: string) => process.stderr.write(`[chat] ${m}\n`);
  if (port !== 0 && (await isPortOpen('127.0.0.1', port))) {
    throw new Error(`port ${port} is taken (another \`npm run chat\`?): stop it, or pick another with --port N (0 for any free port)`);
  }
  log('building the web app if needed (nuxt generate)…');
  const { dir, buildMs } = await ensureWebBuild({ force: o.rebuild ?? false });
  if (buildMs > 0) log(`web app built in ${(buildMs / 1000).toFixed(1)} s`);
  const stack = await startStack({ web: { dir, port }, ...(o.rules ? { rulesFile: o.rules } : {}), onProgress: log });
  process.stdout.write(`chat ready: open ${stack.endpoints.chatUrl}\n`);
  await untilInterrupted();
});
