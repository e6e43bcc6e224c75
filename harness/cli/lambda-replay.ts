/**
 * `npm run lambda:replay -- --destination FILE --endpoint URL`: re-invokes every event an
 * asynchronous invocation gave up on (the on-failure destination), once the cause is fixed.
 */
import { statSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { readFailures } from '../lambda/destination.ts';
import { replayFailures } from '../lambda/replay.ts';
import { UsageError, runMain } from './common.ts';

const optionsSchema = z.strictObject({
  destination: z.string().min(1),
  endpoint: z.url().optional(),
  region: z.string().min(1),
  function: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a Lambda function name').optional(),
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: z.string().min(1).optional(),
});

function program(): Command {
  return new Command('npm run lambda:replay --')
    .description('Replay the on-failure destination of asynchronous Lambda invocations (a file of AWS destination records), in order; what fails again is put back.')
    .requiredOption('--destination <file>', 'the destination file (the stack prints it when the rules use one)')
    .option('--endpoint <url>', 'Lambda endpoint (absent: AWS for --region)')
    .option('--region <region>', 'region', 'us-east-1')
    .option('--function <name>', 'invoke this function instead of the one each record names')
    .option('--access-key-id <id>', 'credentials for a local endpoint (absent: the SDK default chain)')
    .option('--secret-access-key <secret>', 'credentials for a local endpoint')
    .addHelpText('after', '\nExit codes: 0 everything replayed; 1 some events failed again (they are back in the file); 2 bad usage, or a destination file that is missing or not a file of destination records.')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
}

/** Refuses a destination that is not there or not made of destination records, before anything is taken from it. */
function checkDestination(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new UsageError(`--destination ${file}: no such file (the stack prints the destination's path when its rules use one)`);
  }
  if (!isFile) throw new UsageError(`--destination ${file}: not a file`);
  try {
    readFailures(file);
  } catch (err) {
    throw new UsageError(`--destination ${(err as Error).message}`);
  }
}

runMain(async () => {
  const raw = program().parse(process.argv).opts();
  const r = optionsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0] ?? '')}: ${issue.message}`);
  }
  const o = r.data;
  checkDestination(o.destination);
  const result = await replayFailures({
    destination: o.destination,
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.function ? { functionName: o.function } : {}),
    ...(o.accessKeyId && o.secretAccessKey ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } } : {}),
  });
  process.stdout.write(`replayed ${result.replayed}: ${result.succeeded} succeeded, ${result.failed} failed and put back\n`);
  for (const e of result.errors.slice(0, 10)) process.stdout.write(`  ${e}\n`);
  return result.failed ? 1 : 0;
});
