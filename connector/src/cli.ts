#!/usr/bin/env node
/**
 * `ably-pg-connector --config FILE` (also `npm run connector -- …` in the repository): the
 * connector as it ships, alone, in a container or from npm.
 */
import { runCli } from './run-cli.ts';

runCli();
