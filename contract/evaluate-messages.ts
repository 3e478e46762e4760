import { defineQuery } from '@temporalio/workflow';

/** How far an evaluation is: sample episodes (task × sample) finished of all it runs. */
export interface EvaluationProgress {
  episodesDone: number;
  episodesTotal: number;
}

/** Answered by evaluateWorkflow: the experiment's own status cannot see inside its child. */
export const evaluationProgressQuery = defineQuery<EvaluationProgress>('evaluationProgress');
