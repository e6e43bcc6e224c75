/**
 * k6 load script: the harness's `chat-burst` scenario (scenarios/chat-burst.ts) for load beyond one machine.
 *
 * Virtual users sign in like the web app (POST LOGIN_URL {name}, GET TOKEN_URL with the session
 * cookie, Ably requestToken), then speak Ably's realtime protocol (v6, JSON frames) over k6's
 * WebSocket: subscribe to chat:<room>:incoming; writers publish chat.post / chat.edit /
 * chat.delete on chat:<room>:outgoing (and typing on chat:<room>:typing) on an open-loop
 * schedule. Publishing goes over the realtime connection, as the chat's clients do, not REST.
 * End-to-end latency is publish -> receipt of the connector's row event, per subscriber, from a
 * publish time carried in each text (distributed runs include the instances' clock offset).
 *
 *   npm run load:k6 -- chat-burst -e STACK_JSON=/abs/path/stack.json     (see scenarios/k6/README.md)
 *   k6 run -e LOGIN_URL=... -e TOKEN_URL=... -e ABLY_HOST=... -e ABLY_PORT=... -e ABLY_TLS=false scenarios/k6/chat-burst.ts
 *
 * Environment (k6 -e or the process environment): STACK_JSON, or LOGIN_URL and TOKEN_URL; ABLY_HOST,
 * ABLY_PORT, ABLY_TLS (no ABLY_HOST: Ably itself); DURATION, RATE, USERS (writers per room), ROOMS,
 * READERS (per room), SEED, JOIN, DRAIN, MAX_IN_FLIGHT, PUBLISH_TIMEOUT, RUN_TAG (same value on every
 * instance of a distributed run); K6_HARNESS_SUMMARY (where handleSummary writes k6's summary JSON).
 * Use these rather than --vus/--duration, which replace the script's scenarios.
 */
import { k6Entry } from './lib/k6-entry.ts';
import { chatBurst } from './lib/workloads.ts';

const entry = k6Entry(chatBurst);

export const options = entry.options;
export const setup = entry.setup;
export const writer = entry.writer;
export const reader = entry.reader;
export const handleSummary = entry.handleSummary;
export default entry.writer;
