import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { defaultRunDir } from '../infra/paths';
import { startLocalRuntime } from './local-runtime';

/** Flags shared by the inspection and control commands (runs, status, tree, trace, archive, pause...). */
export interface InspectionFlags {
  address?: string;
  namespace?: string;
  runDir: string;
}

/** What an inspection command gets: a client, the Web UI base (when local) and the run directory. */
export interface InspectionContext {
  client: Client;
  namespace: string;
  runDir: string;
  uiUrl: string | null;
}

export function addInspectionOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS or localhost:7233)')
    .option('--namespace <ns>', 'Temporal namespace (default: TEMPORAL_NAMESPACE or default)')
    .option('--run-dir <dir>', 'run directory', defaultRunDir());
}

/**
 * Connects without workers (a local dev server on the run directory's SQLite file is started
 * when nothing answers at the default address), runs `fn`, and closes everything it started.
 */
export async function withInspection<T>(flags: InspectionFlags, fn: (ctx: InspectionContext) => Promise<T>): Promise<T> {
  const runtime = await startLocalRuntime({ runDir: flags.runDir, address: flags.address, namespace: flags.namespace, workers: 'no' });
  try {
    return await fn({ client: runtime.client, namespace: runtime.settings.namespace, runDir: runtime.runDir, uiUrl: runtime.uiUrl });
  } finally {
    await runtime.close();
  }
}
