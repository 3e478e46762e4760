import type { TokenUsage } from '../core/tree';

/** What a parent keeps of an episode (storedEpisodeWorkflow's result): the tree itself goes to the artifact store. */
export interface EpisodeSummary {
  taskId: string;
  episodeId: string;
  success: boolean;
  budget: { used: number; limit: number; replayed: number };
  branches: number;
  usage: TokenUsage;
  treeRef: string;
}
