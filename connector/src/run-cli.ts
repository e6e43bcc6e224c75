/**
 * The connector's command line: `--config FILE [--http-port P] [--http-host H]` (or
 * `--from-env`, the original's container form: the .env keys as environment variables): one
 * connector, until SIGTERM/SIGINT, which stop it gracefully (in-flight publishes finish, the
 * lock is released). `cli.ts` is the shipped entry; a test entry may add connector options.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { parseEnvForm } from './config.ts';
import { Connector, loadConnectorConfig, type ConnectorOptions } from './index.ts';

const EXIT_USAGE = 2;

function portArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0-65535');
  return n;
}

function fail(msg: string, code: number): never {
  process.stderr.write(`error: ${msg.split('\n')[0]}\n`);
  process.exit(code);
}

/** Options only a program can pass, never the command line. */
export type ProgramOptions = Pick<ConnectorOptions, 'plantedDefect'>;

async function main(argv: readonly string[], extra: ProgramOptions): Promise<void> {
  const program = new Command('ably-pg-connector')
    .description('Publishes Postgres row changes to Ably channels (drop-in for ably-postgres-connector configs).')
    .option('--config <file>', 'config file: JSON (dbConfig, connector, ably, extensions) or .env')
    .option('--from-env', 'read the .env form from the environment instead of a file (DB_HOST, ..., ABLY_CONNECTOR)')
    .option('--http-port <port>', 'port for /health and /metrics (0 = any free port)', portArg, 0)
    .option('--http-host <host>', 'address for /health and /metrics', '127.0.0.1')
    .option('--log-level <level>', 'pino log level', process.env.CONNECTOR_LOG_LEVEL ?? 'info')
    .option('--exit-on-stdin-close', 'stop gracefully when stdin closes (a supervisor holding the pipe died)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.split('\n')[0] + '\n') });
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')) process.exit(0);
    process.exit(EXIT_USAGE);
  }
  const o = program.opts<{ config?: string; fromEnv?: boolean; httpPort: number; httpHost: string; logLevel: string; exitOnStdinClose?: boolean }>();
  if (!o.config === !o.fromEnv) fail('give exactly one of --config <file> and --from-env', EXIT_USAGE);
  if (!pino.levels.values[o.logLevel] && o.logLevel !== 'silent') fail(`--log-level: unknown level ${JSON.stringify(o.logLevel)}`, EXIT_USAGE);
  let config;
  try {
    config = o.config ? loadConnectorConfig(o.config) : parseEnvForm({}, process.env);
  } catch (err) {
    fail((err as Error).message, EXIT_USAGE);
  }
  const logger = pino({ name: 'connector', level: o.logLevel }, pino.destination(2));
  const connector = await new Connector(config, { ...extra, logger, httpPort: o.httpPort, httpHost: o.httpHost }).start();
  let stopping = false;
  const stop = (signal: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    connector.stop().then(
      () => process.exit(code),
      (err: Error) => fail(`stop failed: ${err.message}`, 1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
  if (o.exitOnStdinClose) {
    process.stdin.on('end', () => stop('stdin closed', 0)).on('error', () => stop('stdin closed', 0));
    process.stdin.resume();
  }
  process.stdout.write(`connector ready: ${connector.healthUrl} (metrics ${connector.metricsUrl})\n`);
}

/** Runs the CLI on `argv` (node's form: the runtime and script first); exits the process when done. */
export function runCli(argv: readonly string[] = process.argv, extra: ProgramOptions = {}): void {
  main(argv, extra).catch((err: Error) => fail(err.message, 1));
}
