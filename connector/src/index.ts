/** The connector's public API: load a config, start a connector, stop it. */
export {
  ConfigError,
  ORIGINAL_MESSAGE_NAME,
  loadConnectorConfig,
  parseConnectorConfig,
  type ConnectorConfig,
  type Mapping,
  type Operation,
  type RealtimeTarget,
} from './config.ts';
export { Connector, type ConnectorOptions, type StartedConnector } from './connector.ts';
export { SetupError } from './errors.ts';
export { dropWalSlot } from './wal-setup.ts';
export type { ConnectorStats } from './metrics.ts';
export type { ChangeData } from './plan.ts';
