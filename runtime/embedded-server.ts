import path from 'node:path';
import { DEFAULT_ADDRESS, type TemporalSettings } from './connection';
import { isListening } from './dev-server';
import { DevServerProcess } from './dev-server-process';
import { resolveTemporalCli } from './temporal-cli';

/**
 * The embedded default: when the configured address is the default local one and nothing
 * answers there, provision the CLI and start a dev server on the run directory's SQLite file
 * for the lifetime of this command. A user with a cluster sets the address and nothing starts.
 */
export async function ensureTemporal(
  settings: TemporalSettings,
  runDir: string,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<DevServerProcess | null> {
  if (await isListening(settings.address)) return null;
  if (settings.address !== DEFAULT_ADDRESS) {
    throw new Error(`Temporal: nothing answers at address ${JSON.stringify(settings.address)}; expected a reachable Temporal frontend (or leave the address at ${DEFAULT_ADDRESS} to start a local dev server)`);
  }
  const cli = resolveTemporalCli({ log });
  const dbFile = path.join(runDir, 'temporal.sqlite');
  log(`leafe: no Temporal server at ${DEFAULT_ADDRESS}; starting a local dev server (SQLite ${dbFile})...`);
  const server = await DevServerProcess.start({ cli, dbFile, ip: 'localhost', port: 7233, uiPort: 8233, namespace: settings.namespace, log });
  log(`leafe: Temporal dev server up at ${server.address}, Web UI ${server.uiUrl}`);
  return server;
}
