/**
 * `npm run realtime -- --port P --key appId.keyId:secret`: the local Ably-protocol service alone.
 * Options are read into one validated object, then `startRealtime` runs; a new flag adds an
 * option here and, if it needs the started service, a step after `start()`.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import { apiKeySchema, limitsSchema, RealtimeService, realtimeKeySchema, type RealtimeKey, type RealtimeServiceOptions } from '../realtime/index.ts';
import { UsageError, runMain, untilInterrupted } from './common.ts';

const configKeySchema = z.union([z.object({ key: apiKeySchema, capability: realtimeKeySchema.shape.capability }), realtimeKeySchema]);
const configSchema = z
  .object({
    host: z.string().min(1).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    keys: z.array(configKeySchema).min(1).optional(),
    maxMessageSize: z.number().int().min(16).optional(),
    connectionStateTtlMs: z.number().int().min(1).optional(),
    maxIdleIntervalMs: z.number().int().min(1).optional(),
    presenceLeaveGraceMs: z.number().int().min(0).optional(),
    historyTtlMs: z.number().int().min(1).optional(),
    historyMaxRecords: z.number().int().min(1).optional(),
    historyMaxBytes: z.number().int().min(1024).optional(),
    limits: limitsSchema.optional(),
  })
  .strict();

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function realtimeProgram(): Command {
  return new Command('npm run realtime --')
    .description('Run the local Ably-protocol realtime service (WebSocket + REST + admin on one port) until Ctrl-C.')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '0')
    .option('--key <appId.keyId:secret>', 'an API key with full capability (repeatable; default: one generated key)', collect)
    .option('--config <file>', 'JSON file: {host, port, keys: [{key, capability}], maxMessageSize, connectionStateTtlMs, ...}; flags win')
    .option('--max-message-size <bytes>', 'maximum size of a published message')
    .option('--json', 'print the endpoint as one JSON line instead of text')
    .option('--sandbox', "also serve Ably's sandbox provisioning API (POST /apps, DELETE /apps/:id) for ably-js's own test suite")
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(['silent', 'error', 'warn', 'info', 'debug']).default('info'))
    .exitOverride((err) => {
      if (err.exitCode === 0) process.exit(0);
      process.exit(2);
    });
}

interface CliOptions {
  host: string;
  port: string;
  key?: string[];
  config?: string;
  maxMessageSize?: string;
  json?: boolean;
  sandbox?: boolean;
  logLevel: string;
}

function usage<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(`invalid ${what}${r.error.issues[0]?.path.length ? `.${r.error.issues[0]?.path.join('.')}` : ''}=${JSON.stringify(value)}: ${r.error.issues[0]?.message}`);
  return r.data;
}

export function serviceOptions(o: CliOptions, program: Command): RealtimeServiceOptions {
  const fromFile: z.infer<typeof configSchema> = {};
  if (o.config) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(o.config, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read --config ${o.config}: ${(e as Error).message}`);
    }
    Object.assign(fromFile, usage(configSchema, raw, `--config ${o.config}`));
  }
  const keys: RealtimeKey[] | undefined = o.key
    ? o.key.map((k) => usage(apiKeySchema, k, '--key'))
    : fromFile.keys?.map((k) => ('key' in k ? { ...k.key, ...(k.capability ? { capability: k.capability } : {}) } : k));
  const set = (name: string) => program.getOptionValueSource(name) === 'cli';
  const { keys: _k, ...rest } = fromFile;
  return {
    ...rest,
    ...(set('host') || !fromFile.host ? { host: o.host } : {}),
    ...(set('port') || fromFile.port === undefined ? { port: usage(z.coerce.number().int().min(0).max(65535), o.port, '--port') } : {}),
    ...(o.maxMessageSize !== undefined ? { maxMessageSize: usage(z.coerce.number().int().min(16), o.maxMessageSize, '--max-message-size') } : {}),
    ...(keys ? { keys } : {}),
    ...(o.sandbox ? { sandbox: true } : {}),
  };
}

if (process.argv[1] && /realtime\.ts$/.test(process.argv[1])) {
  runMain(async () => {
    const program = realtimeProgram();
    program.parse();
    const o = program.opts<CliOptions>();
    const logger = pino({ level: o.logLevel }, pino.destination(2));
    const started = await new RealtimeService({ ...serviceOptions(o, program), logger }).start();
    const endpoint = { host: started.host, port: started.port, tls: started.tls, apiKey: started.apiKey, ws: `ws://${started.host}:${started.port}/`, rest: `http://${started.host}:${started.port}` };
    if (o.json) process.stdout.write(`${JSON.stringify(endpoint)}\n`);
    else {
      process.stdout.write(`realtime ready: ${endpoint.ws} (REST ${endpoint.rest}) key ${started.apiKey}\n`);
      process.stdout.write(`clients: { endpoint: '${started.host}', port: ${started.port}, tls: false, key: '${started.apiKey}' }; admin (HTTP Basic with the key): POST ${endpoint.rest}/admin/{drop,pause,resume,delay}, GET ${endpoint.rest}/metrics\n`);
    }
    await untilInterrupted();
  });
}
