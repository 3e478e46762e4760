import { ApplicationFailure, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EvaluationResult } from '../contract/experiment-config';
import { samplingSettings } from '../core/leafe-settings';
import { meanPassAtK } from '../core/pass-at-k';
import { deriveSeed } from '../core/random';
import { boundedMap } from './bounded-map';
import { evaluationProgressQuery } from '../contract/evaluate-messages';
import type { EvaluateInput } from '../contract/evaluate-input';
import { storedEpisodeWorkflow } from './stored-episode-workflow';
import { INVALID_EVALUATE_INPUT } from '../contract/failure-types';

/**
 * Pass@k under a fixed interaction budget: n independent samples per task, no reflection and no
 * rollback (one trajectory of at most `horizon` steps each), unbiased estimator per task.
 */
export async function evaluateWorkflow(input: EvaluateInput): Promise<EvaluationResult> {
  checkEvaluateInput(input);
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

const isPositiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

/**
 * Refuses what would make pass@k impossible to compute (core/pass-at-k throws RangeError) or
 * hang boundedMap (a concurrency that is not a number), before any episode runs: a bug in the
 * caller, so the workflow fails at once, naming the field.
 */
function checkEvaluateInput(input: EvaluateInput): void {
  const bad = (field: string, value: unknown, expected: string) =>
    ApplicationFailure.nonRetryable(`evaluateWorkflow: ${field} = ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}, expected ${expected}`, INVALID_EVALUATE_INPUT);
  if (!Array.isArray(input.taskIds) || input.taskIds.length === 0 || !input.taskIds.every((t) => typeof t === 'string')) throw bad('taskIds', input.taskIds, 'a non-empty list of task ids');
  if (!isPositiveInteger(input.samples)) throw bad('samples', input.samples, 'an integer >= 1');
  if (!Array.isArray(input.ks) || !input.ks.every(isPositiveInteger)) throw bad('ks', input.ks, 'a list of integers >= 1');
  if (!input.ks.some((k) => k <= input.samples)) throw bad('ks', input.ks, `at least one k <= samples (${input.samples})`);
  if (!isPositiveInteger(input.horizon)) throw bad('horizon', input.horizon, 'an integer >= 1');
  if (!isPositiveInteger(input.concurrency)) throw bad('concurrency', input.concurrency, 'an integer >= 1');
}
