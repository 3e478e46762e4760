import { proxyActivities } from '@temporalio/workflow';
import type { StoreActivities } from '../activities/store/store-activities';
import type { TokenUsage } from '../core/tree';
import { episodeWorkflow } from './episode-workflow';
import type { EpisodeInput } from '../contract/episode-types';

/** What a parent keeps of an episode: the tree itself goes to the artifact store. */
export interface EpisodeSummary {
  taskId: string;
  episodeId: string;
  success: boolean;
  budget: { used: number; limit: number; replayed: number };
  branches: number;
  usage: TokenUsage;
  treeRef: string;
}

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
