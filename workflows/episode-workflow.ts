import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { EpisodeTree } from '../core/tree';
import { branchWorkflow } from './branch-workflow';
import { exploreEpisode } from './episode-loop';
import type { EpisodeInput } from '../contract/episode-types';

/** Explores one task as a tree (workflows/episode-loop.ts), each branch a child branchWorkflow `<episodeId>/b<n>`. */
export async function episodeWorkflow(input: EpisodeInput): Promise<EpisodeTree> {
  const episodeId = workflowInfo().workflowId;
  return exploreEpisode(input, episodeId, (branchInput) =>
    executeChild(branchWorkflow, {
      workflowId: `${episodeId}/${branchInput.branchId}`,
      taskQueue: input.queues.workflows,
      args: [branchInput],
    }),
  );
}
