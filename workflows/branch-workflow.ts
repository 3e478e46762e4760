import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { InferenceActivities } from '../contract/inference-activities';
import { exploreBranch } from './branch-loop';
import { EnvironmentSession, LLM_RETRY, llmHeartbeatTimeout } from './environment-session';
import type { BranchInput, BranchResult } from '../contract/episode-types';
import { stepStrategyFor, type StepStrategy } from './step-strategy';

/**
 * One branch of an episode tree (child workflow `<episodeId>/b<n>`): the branch loop
 * (workflows/branch-loop.ts) over an EnvironmentSession and, with the 'activity-per-call'
 * strategy, inference activities on the llm queue.
 */
export async function branchWorkflow(input: BranchInput): Promise<BranchResult> {
  const { timeouts } = input;
  const llm = proxyActivities<InferenceActivities>({
    taskQueue: input.queues.llm,
    startToCloseTimeout: timeouts.llmStartToCloseMs,
    heartbeatTimeout: llmHeartbeatTimeout(timeouts),
    retry: LLM_RETRY(timeouts),
  });
  const session = new EnvironmentSession(workflowInfo().workflowId, {
    env: input.env,
    taskId: input.taskId,
    seed: input.seed,
    envQueue: input.queues.env,
    timeouts,
    // Branches recorded before it closed nothing once cancelled (their histories end without the close).
    closeOnCancel: patched('close-session-on-cancel'),
  });

  // The setting chooses the strategy; branches recorded before `takeStep` existed took one
  // activity per call (patched is only asked when the setting wants 'take-step').
  const wanted = stepStrategyFor(input.inference);
  const strategy: StepStrategy = wanted === 'take-step' && !patched('take-step') ? 'activity-per-call' : wanted;

  return exploreBranch(input, strategy, { workflowId: workflowInfo().workflowId, session, llm });
}
