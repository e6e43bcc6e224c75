import { Command } from 'commander';
import { ensureWebBuild } from '../../reference-app/web/build.ts';
import { startStack } from '../stack/index.ts';
import { runMain, untilInterrupted } from './common.ts';

const program = new Command('npm run chat --')
  .description('The whole reference chat on loopback: the stack plus the web app. Prints the URL to open; Ctrl-C stops everything.')
  .option('--rebuild', 'rebuild the web app even when the build is fresh')
  .option('--rules <file>', 'integration rules file (default: Ably + Lambda delivery)')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

runMain(async () => {
  program.parse();
  const o = program.opts<{ rebuild?: boolean; rules?: string }>();
  const log = (m: string) => process.stderr.write(`[chat] ${m}\n`);
  log('building the web app if needed (nuxt generate)…');
  const { dir, buildMs } = await ensureWebBuild({ force: o.rebuild ?? false });
  if (buildMs > 0) log(`web app built in ${(buildMs / 1000).toFixed(1)} s`);
  const stack = await startStack({ web: { dir }, ...(o.rules ? { rulesFile: o.rules } : {}), onProgress: log });
  process.stdout.write(`chat ready: open ${stack.endpoints.chatUrl}\n`);
  await untilInterrupted();
});
