import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { DistilActivities, DistilStageInput, DistilStageResult } from '../../contract/distil-activities';
import { distil, resolveTree, type DistilInput } from '../../core/distil';
import type { EpisodeTree } from '../../core/tree';
import type { ArtifactStore } from '../../infra/artifact-store';
import { writeDatasets } from './write-datasets';
import { runDirPath } from '../run-dir-path';

/** Distil: D_cf from branching events and D_reh from successful trajectories, written for trainers. */
export function createDistilActivities(deps: { store: ArtifactStore; runDir: string }): DistilActivities {
  return {
    async distilDatasets(input: DistilStageInput): Promise<DistilStageResult> {
      const inputs: DistilInput[] = [];
      for (const [i, ref] of input.treeRefs.entries()) {
        Context.current().heartbeat({ tree: i });
        const tree = JSON.parse(await deps.store.getText(ref)) as EpisodeTree;
        inputs.push({
          tree: await resolveTree(tree, (t) => deps.store.resolve(t)),
          instructions: tree.instructions ? await deps.store.resolve(tree.instructions) : '',
          experimentId: input.experimentId,
          iteration: input.iteration,
          episodeWorkflowId: tree.episodeId,
        });
      }
      const result = distil(inputs, {
        method: input.method,
        requireSuccess: input.settings.requireSuccess,
        rehearsalFraction: input.settings.rehearsalFraction,
        beta: input.settings.beta,
        seed: input.seed,
      });
      Context.current().heartbeat({ writing: result.records.length });
      const written = await writeDatasets(runDirPath(deps.runDir, input.outDir), result);
      const cf = result.records.filter((r) => r.kind === 'cf').length;
      return {
        dir: written.dir,
        promptCompletionFile: written.promptCompletionFile,
        messagesFile: written.messagesFile,
        provenanceFile: written.provenanceFile,
        trlDatasetDir: written.trlDatasetDir,
        datasetInfoDir: path.dirname(written.llamaFactoryInfoFile),
        sha256: written.sha256,
        cf,
        reh: result.records.length - cf,
        records: result.records.length,
      };
    },
  };
}
