/** Ably's error shape and the codes this service answers with (codes as documented by Ably). */

export interface ErrorInfoWire {
  message: string;
  code: number;
  statusCode: number;
  href: string;
}

export class AblyError extends Error {
  constructor(
    readonly code: number,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }

  toWire(): ErrorInfoWire {
    return { message: this.message, code: this.code, statusCode: this.statusCode, href: `https://help.ably.io/error/${this.code}` };
  }
}

export const isAblyError = (v: unknown): v is AblyError => v instanceof AblyError;

export const Errors = {
  badRequest: (msg: string) => new AblyError(40000, 400, msg),
  invalidMessageData: (msg: string) => new AblyError(40013, 400, msg),
  tooBig: (size: number, max: number) =>
    new AblyError(40009, 400, `Maximum size of messages that can be published at once exceeded (was ${size} bytes, against a limit of ${max} bytes)`),
  invalidChannelName: (msg: string) => new AblyError(40010, 400, msg),
  invalidClientId: (msg: string) => new AblyError(40012, 400, msg),
  noCredentials: () => new AblyError(40101, 401, 'No authentication information provided'),
  invalidCredentials: (msg: string) => new AblyError(40101, 401, msg),
  incompatibleCredentials: (msg: string) => new AblyError(40102, 401, msg),
  timestampNotCurrent: () => new AblyError(40104, 401, 'Timestamp not current'),
  nonceReplayed: () => new AblyError(40105, 401, 'Nonce value replayed'),
  tokenUnrecognised: () => new AblyError(40143, 401, 'Token unrecognised'),
  tokenExpired: () => new AblyError(40142, 401, 'Token expired'),
  tokenRevoked: () => new AblyError(40141, 401, 'Token revoked'),
  invalidConnectionId: (msg: string) => new AblyError(40006, 400, msg),
  batchError: (msg: string) => new AblyError(40020, 400, msg),
  wrongKeyForRevocation: (msg: string) => new AblyError(40133, 401, msg),
  basicAuthRequired: (msg: string) => new AblyError(40162, 401, msg),
  revocationNotEnabled: (keyName: string) => new AblyError(40163, 400, `Token revocation is not enabled for key "${keyName}" (revocableTokens)`),
  notPermitted: (msg: string) => new AblyError(40160, 401, msg),
  modeNotRequested: (mode: string, channel: string) =>
    new AblyError(40165, 401, `Unable to ${mode === 'publish' ? 'publish' : mode === 'presence' ? 'enter presence' : 'publish annotations'} on channel "${channel}": the ${mode.toUpperCase()} mode was not requested when attaching`),
  invalidParameter: (msg: string) => new AblyError(40003, 400, msg),
  notFound: (msg: string) => new AblyError(40400, 404, msg),
  methodNotAllowed: (msg: string) => new AblyError(40500, 405, msg),
  internal: (msg: string) => new AblyError(50000, 500, msg),
  invalidConnectionKey: () => new AblyError(80018, 400, 'Unable to recover connection: invalid or unrecognised connection key'),
  connectionExpired: () => new AblyError(80008, 400, 'Unable to resume connection: the connection has expired or is unknown'),
  noClientIdForPresence: () => new AblyError(91000, 400, 'Unable to enter presence channel (no clientId)'),
} as const;
