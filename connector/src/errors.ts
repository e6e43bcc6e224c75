/** Errors the connector reports to its user as one line: a bad config or a refused setup. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export class SetupError extends Error {
  override name = 'SetupError';
}
