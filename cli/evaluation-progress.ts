import type { WorkflowClient } from '@temporalio/client';
import { evaluationProgressQuery } from '../contract/evaluate-messages';
import type { ExperimentStatus } from '../contract/experiment-messages';

/**
 * The experiment's `status` counts exploration episodes only; during the evaluate stage its
 * child evaluation knows the progress: sample episodes done / total. Unchanged when the child
 * does not answer (not started yet, or the stage's result was recorded before).
 */
export async function withEvaluationProgress(workflows: WorkflowClient, status: ExperimentStatus): Promise<ExperimentStatus> {
  if (status.stage !== 'evaluate') return status;
  try {
    const p = await workflows.getHandle(`${status.experimentId}/it${status.iteration}/evaluate`).query(evaluationProgressQuery);
    return { ...status, tasksDone: p.episodesDone, tasksTotal: p.episodesTotal };
  } catch {
    return status;
  }
}
