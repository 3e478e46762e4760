import { executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EnvSpec } from '../core/env-spec';
import type { EvaluationResult } from '../core/experiment-config';
import { samplingSettings, type EpisodeTimeouts, type InferenceSettings } from '../core/leafe-settings';
import { meanPassAtK } from '../core/pass-at-k';
import { deriveSeed } from '../core/random';
import type { TaskQueues } from '../workers/task-queues';
import { boundedMap } from './bounded-map';
import { evaluationProgressQuery } from './evaluate-messages';
import { storedEpisodeWorkflow } from './stored-episode-workflow';

export interface EvaluateInput {
  iteration: number;
  taskIds: string[];
  samples: number;
  ks: number[];
  horizon: number;
  env: EnvSpec;
  inference: InferenceSettings;
  seed: number;
  queues: TaskQueues;
  concurrency: number;
  timeouts?: Partial<EpisodeTimeouts>;
}

/**
 * Pass@k under a fixed interaction budget: n independent samples per task, no reflection and no
 * rollback (one trajectory of at most `horizon` steps each), unbiased estimator per task.
 */
export async function evaluateWorkflow(input: EvaluateInput): Promise<EvaluationResult> {
  const id = workflowInfo().workflowId;
  const jobs = input.taskIds.flatMap((taskId) => Array.from({ length: input.samples }, (_, s) => ({ taskId, s })));
  // A query handler and a counter add no commands: replaying older histories is unaffected.
  let episodesDone = 0;
  setHandler(evaluationProgressQuery, () => ({ episodesDone, episodesTotal: jobs.length }));
  const outcomes = await boundedMap(jobs, () => input.concurrency, async ({ taskId, s }) => {
    const outcome = await executeChild(storedEpisodeWorkflow, {
      workflowId: `${id}/${taskId}/s${s}`,
      taskQueue: input.queues.workflows,
      args: [
        {
          taskId,
          env: input.env,
          seed: deriveSeed(input.seed, 'eval', taskId, s),
          inference: input.inference,
          leafe: samplingSettings(input.horizon),
          queues: input.queues,
          timeouts: input.timeouts,
        },
      ],
    });
    episodesDone++;
    return outcome;
  });
  const counts = input.taskIds.map((taskId) => {
    const mine = outcomes.filter((o) => o.taskId === taskId);
    return { taskId, n: mine.length, c: mine.filter((o) => o.success).length };
  });
  const ks = input.ks.filter((k) => k <= input.samples);
  const mean = meanPassAtK(counts, ks);
  const passAtK = Object.fromEntries(ks.map((k) => [String(k), mean[k]]));
  return { iteration: input.iteration, model: input.inference.model, passAtK, counts };
}
