/**
 * What a connection needs from the transport that carries its frames to one client.
 *
 * It is the subset of ws's WebSocket that the connection and the outbox use, so a WebSocket is a
 * Transport as it is: nothing sits between the connection and the socket on the hot path, and
 * the outbox can still cork the socket under it. The comet transport (comet.ts) implements the
 * same surface over HTTP long polls, so resume, limits, auth and every protocol rule live once,
 * in Connection.
 */
export const OPEN = 1;

export interface Transport {
  /** OPEN (1) while frames can be sent; frames sent otherwise are dropped, as on a closed socket. */
  readonly readyState: number;
  /** Bytes accepted but not yet handed to the network: the slow-consumer limit reads it. */
  readonly bufferedAmount: number;
  send(frame: Buffer | string, options: { binary: boolean }): void;
  /** Ends the transport once the frames already sent have gone. */
  close(code?: number): void;
  /** Ends it at once, as a network loss would: frames not yet delivered are lost. */
  terminate(): void;
  /** A keep-alive for a client that asked for no HEARTBEAT frames. */
  ping(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}
