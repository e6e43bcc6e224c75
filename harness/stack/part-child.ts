/**
 * The child side of a stack part process: receives its config over IPC, starts the part, answers
 * `ready` with its endpoints, serves requests and streams subscribed events. It stops and exits
 * when the harness asks (SIGTERM) and when the IPC channel closes, which is also what happens
 * when the harness dies, even by SIGKILL: no part outlives the process that started it.
 */
import type { z } from 'zod';
import { describeIssue, parentMessage, type ChildMessage, type PartSpec } from './part-protocol.ts';

export type Handlers<S extends PartSpec> = {
  [M in keyof S['methods']]: (params: z.output<S['methods'][M]['params']>) => Promise<z.input<S['methods'][M]['result']>>;
};

export type Emit<S extends PartSpec> = <E extends keyof S['events'] & string>(event: E, data: z.input<S['events'][E]>) => void;

export interface RunningPart<S extends PartSpec> {
  info: z.input<S['ready']>;
  handlers: Handlers<S>;
  stop(): Promise<void>;
}

/** Built into every part: switches the stream of one event on or off (nothing is sent that nobody reads). */
export const SUBSCRIBE = '$subscribe';

const STOP_DEADLINE_MS = 10_000;

export function runPart<S extends PartSpec>(name: string, spec: S, start: (config: z.output<S['init']>, emit: Emit<S>) => Promise<RunningPart<S>>): void {
  if (!process.send) {
    process.stderr.write(`${name}: must be started by the harness with an IPC channel\n`);
    process.exit(2);
  }
  const send = (m: ChildMessage) => {
    if (process.connected) process.send!(m);
  };
  const subscribed = new Set<string>();
  const emit: Emit<S> = (event, data) => {
    if (subscribed.has(event)) send({ type: 'event', name: event, data });
  };
  let running: RunningPart<S> | undefined;
  let stopping: Promise<never> | undefined;
  const shutdown = (code: number): Promise<never> =>
    (stopping ??= (async () => {
      // A part that hangs in its stop must still go: the harness may already be gone.
      setTimeout(() => process.exit(code || 1), STOP_DEADLINE_MS).unref();
      await running?.stop().catch((err: unknown) => process.stderr.write(`${name}: stop failed: ${String(err)}\n`));
      process.exit(code);
    })());

  process.on('disconnect', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // Ctrl-C reaches the whole process group; the harness decides the order of the teardown.
  process.on('SIGINT', () => {});

  const serve = async (id: number, method: string, params: unknown): Promise<void> => {
    try {
      if (method === SUBSCRIBE) {
        const p = params as { event?: unknown; on?: unknown };
        if (typeof p?.event !== 'string' || !(p.event in spec.events)) throw new Error(`no event "${String(p?.event)}"`);
        if (p.on === true) subscribed.add(p.event);
        else subscribed.delete(p.event);
        return send({ type: 'response', id, ok: true });
      }
      const m = spec.methods[method];
      const handler = running?.handlers[method];
      if (!m || !handler) throw new Error(`no method "${method}"`);
      const parsed = m.params.safeParse(params);
      if (!parsed.success) throw new Error(`${method}: ${describeIssue(parsed.error)}`);
      const result: unknown = await handler(parsed.data as z.output<S['methods'][string]['params']>);
      send({ type: 'response', id, ok: true, ...(result !== undefined ? { result } : {}) });
    } catch (err) {
      send({ type: 'response', id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  };

  process.on('message', (raw: unknown) => {
    const parsed = parentMessage.safeParse(raw);
    if (!parsed.success) return process.stderr.write(`${name}: bad message from the harness: ${describeIssue(parsed.error)}\n`), undefined;
    const msg = parsed.data;
    if (msg.type === 'request') return void serve(msg.id, msg.method, msg.params);
    if (running) return;
    const config = spec.init.safeParse(msg.config);
    if (!config.success) {
      send({ type: 'failed', error: `${name} config: ${describeIssue(config.error)}` });
      return void shutdown(1);
    }
    start(config.data as z.output<S['init']>, emit).then(
      (r) => {
        running = r;
        send({ type: 'ready', info: r.info });
        if (stopping) void r.stop();
      },
      (err: unknown) => {
        send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
        void shutdown(1);
      },
    );
  });
}

/** Gathers items emitted in one turn of the event loop into one message: many records, one IPC write. */
export function batcher<T>(flush: (items: T[]) => void): (item: T) => void {
  let items: T[] = [];
  return (item) => {
    if (items.length === 0) setImmediate(() => flush(items.splice(0)));
    items.push(item);
  };
}
