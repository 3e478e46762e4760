import type { EpisodeTree } from '../core/tree';
import type { BranchInput, BranchResult, EpisodeInput } from './episode-types';
import type { EpisodeSummary } from './episode-summary';
import type { EvaluateInput } from './evaluate-input';
import type { EvaluationResult, ExperimentInput, ExperimentSummary } from './experiment-config';

export interface PingInput {
  message: string;
  activityQueue: string;
}

/**
 * Every workflow type the workers register, by the name a client starts it with, and its
 * signature. workflows/index.ts is checked against it; clients start workflows typed by it:
 * `client.workflow.start<WorkflowTypes['experimentWorkflow']>('experimentWorkflow', …)`.
 */
export interface WorkflowTypes {
  pingWorkflow: (input: PingInput) => Promise<string>;
  episodeWorkflow: (input: EpisodeInput) => Promise<EpisodeTree>;
  branchWorkflow: (input: BranchInput) => Promise<BranchResult>;
  storedEpisodeWorkflow: (input: EpisodeInput) => Promise<EpisodeSummary>;
  evaluateWorkflow: (input: EvaluateInput) => Promise<EvaluationResult>;
  experimentWorkflow: (input: ExperimentInput) => Promise<ExperimentSummary>;
}
