/**
 * For the parent-death test: starts a stack on the given database, prints one JSON line with the
 * stack's child processes, its ports and the connector's config path, then waits to be killed.
 */
import { readFileSync } from 'node:fs';
import { startStack } from '../index.ts';

const databaseUrl = process.argv[2];
if (!databaseUrl) throw new Error('usage: stack-for-kill.ts DATABASE_URL');
const stack = await startStack({ pg: 'external', databaseUrl, lambdaWorkers: 2 });
const children = stack.processes().filter((p) => p.pid !== process.pid);
const ports = [stack.endpoints.realtime.port, ...[stack.endpoints.lambdaEndpoint, stack.endpoints.tokenUrl, stack.endpoints.connectorHealthUrl].map((u) => Number(new URL(u).port))];
const connectorArgs = children.filter((c) => c.part.startsWith('connector')).map((c) => readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').split('\0'));
const configs = connectorArgs.map((a) => a[a.indexOf('--config') + 1]!);
process.stdout.write(JSON.stringify({ children, ports, configs }) + '\n');
setInterval(() => {}, 60_000);
