import { proxyActivities } from '@temporalio/workflow';
import type { EpisodeSummary } from '../contract/episode-summary';
import type { StoreActivities } from '../contract/store-activities';
import { episodeWorkflow } from './episode-workflow';
import type { EpisodeInput } from '../contract/episode-types';

/**
 * An episode whose tree is saved to the artifact store; the parent's history holds only the
 * summary and the ref (experiments run hundreds of episodes per iteration).
 */
export async function storedEpisodeWorkflow(input: EpisodeInput): Promise<EpisodeSummary> {
  const tree = await episodeWorkflow(input);
  const { saveTree } = proxyActivities<StoreActivities>({ taskQueue: input.queues.workflows, startToCloseTimeout: '1 minute' });
  const treeRef = await saveTree(tree);
  return { taskId: tree.taskId, episodeId: tree.episodeId, success: tree.success, budget: tree.budget, branches: tree.branches.length, usage: tree.usage, treeRef };
}
