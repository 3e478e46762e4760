import path from 'node:path';
import type { Command } from 'commander';
import { ArtifactStore } from '../infra/artifact-store';
import { DEFAULT_ADDRESS, temporalSettings } from '../runtime/connection';
import { defaultRunDir } from '../infra/paths';
import { findRecord, renderTrace, traceRecord, type TraceChain } from '../report/trace';
import { experimentLink } from './study';

export const LOCAL_UI_URL = 'http://localhost:8233';

/** Traces a dataset record; `uiUrl` (null: no links) is the Web UI base for workflow links. */
export async function traceDatasetRecord(runDir: string, recordId: string, ui: { uiUrl: string | null; namespace: string }): Promise<TraceChain> {
  const dir = path.resolve(runDir);
  const found = await findRecord(dir, recordId);
  return traceRecord(found, ArtifactStore.forRunDir(dir), dir, (id) => experimentLink(ui.uiUrl, ui.namespace, id));
}

/** `leafe trace <recordId>`: from an SFT record to its branch, reflection, environment feedback and workflow ids. Reads the run directory only. */
export function registerTraceCommand(program: Command): void {
  program
    .command('trace')
    .description('walk from a dataset record to its branch, the reflection (τ, experience), the environment feedback that triggered it and the workflow ids')
    .argument('<datasetRecordId>', 'record id (the "id" of a line in a train.prompt-completion.jsonl)')
    .option('--run-dir <dir>', 'run directory', defaultRunDir())
    .option('--address <host:port>', 'Temporal frontend the run used (Web UI links are printed for the local default)')
    .option('--namespace <ns>', 'Temporal namespace for the links')
    .option('--json', 'print the chain as JSON')
    .action(async (recordId: string, opts: { runDir: string; address?: string; namespace?: string; json?: boolean }) => {
      const settings = temporalSettings({ address: opts.address, namespace: opts.namespace });
      const chain = await traceDatasetRecord(opts.runDir, recordId, { uiUrl: settings.address === DEFAULT_ADDRESS ? LOCAL_UI_URL : null, namespace: settings.namespace });
      process.stdout.write(opts.json ? `${JSON.stringify(chain, null, 2)}\n` : `${renderTrace(chain)}\n`);
    });
}
